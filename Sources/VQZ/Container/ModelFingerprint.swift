/// Names the tokenizer that made a token grid: the tokens mean nothing to any other model.
/// `digest` is a 128-bit hash of the model's weights, computed by whoever ships the model.
public struct ModelFingerprint: Equatable, Hashable, Sendable, CustomStringConvertible {
    public static let digestSize = 16
    /// Longest name the container stores (UTF-8 bytes).
    public static let maxNameBytes = 64

    public var name: String
    public var digest: [UInt8]

    public init(name: String, digest: [UInt8]) {
        self.name = name
        self.digest = digest
    }

    /// "name@" followed by the first 8 bytes of the digest in hex: enough to tell models apart.
    public var description: String {
        name + "@" + digest.prefix(8).map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    public var digestHex: String {
        digest.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}
