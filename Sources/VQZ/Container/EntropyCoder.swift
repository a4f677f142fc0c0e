/// How each level's tokens are coded; recorded in the header.
public enum EntropyCoder: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// zstd over a TokenPacking of the indices.
    case zstd = 0
    /// rANS driven by a learned context prior (EntropyPrior), whose fingerprint travels in the
    /// critical PRIO chunk, so readers that predate it reject such files instead of misreading them.
    case prior = 1

    public var description: String {
        switch self {
        case .zstd: return "zstd"
        case .prior: return "prior"
        }
    }
}
