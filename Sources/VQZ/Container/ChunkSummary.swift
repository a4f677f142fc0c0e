/// Where one chunk lies in a .vqz file; `vqz info` lists these.
public struct ChunkSummary: Equatable, Sendable {
    /// Four ASCII letters; an upper-case first letter marks a critical chunk.
    public var tag: String
    /// Offset of the chunk's 8-byte frame (tag + length) from the start of the file.
    public var offset: Int
    /// Length of the chunk's data, not counting its 8-byte frame.
    public var length: Int

    public init(tag: String, offset: Int, length: Int) {
        self.tag = tag
        self.offset = offset
        self.length = length
    }

    /// PNG's rule: a reader that does not know a critical chunk must reject the file.
    public var isCritical: Bool { tag.utf8.first.map { $0 & 0x20 == 0 } ?? true }

    var dataRange: Range<Int> { offset + 8..<offset + 8 + length }
}
