/// Reads little-endian fields from a range of a buffer. Reading past the range throws
/// `overrun`, which the caller chooses: a short file is `truncated`, a short chunk is `inconsistent`.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int
    let overrun: ContainerError

    init(_ bytes: [UInt8], range: Range<Int>, overrun: ContainerError) {
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
        self.overrun = overrun
    }

    var remaining: Int { end - offset }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw overrun }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func u8() throws -> UInt8 { try take(1).first! }

    mutating func u16() throws -> UInt16 {
        let s = try take(2)
        return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8
    }

    mutating func u32() throws -> UInt32 {
        let s = try take(4)
        return s.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
}
