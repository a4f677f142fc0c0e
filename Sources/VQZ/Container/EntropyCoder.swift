/// How each level's packed tokens are compressed; recorded in the header.
public enum EntropyCoder: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// zstd over a TokenPacking of the indices.
    case zstd = 0
    // 1 is reserved for the learned prior ("prior"); its fingerprint will travel in a
    // critical chunk, so readers that predate it reject such files instead of misreading them.

    public var description: String {
        switch self {
        case .zstd: return "zstd"
        }
    }
}
