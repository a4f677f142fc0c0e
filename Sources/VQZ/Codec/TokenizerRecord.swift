import Models

/// How a model trained on a tokenizer's tokens (a prior, an entropy prior, a text model) records
/// that tokenizer in its weights' metadata, so that it is never run on another's tokens.
public enum TokenizerRecord {
    /// Metadata keys that record the tokenizer (written by the training commands).
    public static let nameKey = "tokenizer_name", digestKey = "tokenizer_digest"

    /// The metadata that ties a model's weights to `model`'s tokens.
    public static func metadata(_ model: TokenizerModel) -> [String: String] {
        [nameKey: model.tokens.name, digestKey: model.tokens.digestHex]
    }

    /// The tokenizer that weights' metadata records, if they record one.
    public static func read(_ meta: [String: String]) -> ModelFingerprint? {
        guard let name = meta[nameKey], let hex = meta[digestKey],
              let digest = bytes(hex: hex), digest.count == ModelFingerprint.digestSize else { return nil }
        return ModelFingerprint(name: name, digest: digest)
    }

    /// The tokenizer `meta` records; throws, naming `what` ("the prior's weights"), when it records none.
    public static func required(_ meta: [String: String], by what: String) throws -> ModelFingerprint {
        guard let tokenizer = read(meta) else { throw ModelError.badConfig("\(what) do not say which tokenizer they were trained for") }
        return tokenizer
    }

    /// The bytes a hex string spells, nil unless it is one.
    public static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }
}
