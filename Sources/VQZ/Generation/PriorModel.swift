import Foundation
import Models

/// A prior ready to sample, with the fingerprint of the tokenizer whose tokens it models.
public final class PriorModel: @unchecked Sendable {
    public let network: any TokenPrior
    public let metadata: [String: String]
    /// The tokenizer the prior was trained for, from the weights' metadata.
    public let tokenizer: ModelFingerprint

    public var kind: PriorKind { network.config.kind }

    /// Metadata keys that record the tokenizer (written by `vqz train prior`).
    public static let tokenizerNameKey = "tokenizer_name", tokenizerDigestKey = "tokenizer_digest"

    public init(weights bytes: [UInt8]) throws {
        let (prior, meta) = try Priors.load(weights: bytes)
        guard let name = meta[Self.tokenizerNameKey], let hex = meta[Self.tokenizerDigestKey],
              let digest = Self.bytes(hex: hex), digest.count == ModelFingerprint.digestSize
        else { throw ModelError.badConfig("the prior's weights do not say which tokenizer they were trained for") }
        network = prior
        metadata = meta
        tokenizer = ModelFingerprint(name: name, digest: digest)
    }

    public convenience init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CodecError.cannotReadModel(path) }
        try self.init(weights: [UInt8](data))
    }

    /// The prior of `kind` built into the binary.
    public static func bundled(_ kind: PriorKind) throws -> PriorModel {
        guard let weights = BundledWeights.named("prior-\(kind.rawValue)") else { throw GenerationError.noBundledPrior(kind.rawValue) }
        return try PriorModel(weights: weights)
    }

    /// Throws unless the prior models this tokenizer's tokens.
    public func check(_ model: TokenizerModel) throws {
        try Self.requireTokens(tokenizer, codebookSize: network.config.codebookSize, of: model)
    }

    /// The metadata that ties a prior's weights to `model`.
    public static func tokenizerMetadata(_ model: TokenizerModel) -> [String: String] {
        [tokenizerNameKey: model.tokens.name, tokenizerDigestKey: model.tokens.digestHex]
    }

    /// Throws unless `recorded` names `model`'s tokens and `codebookSize` is its codebook's;
    /// `mismatch` makes the error for another tokenizer's tokens (given what was recorded and `model`).
    static func requireTokens(_ recorded: ModelFingerprint, codebookSize: Int, of model: TokenizerModel,
                              mismatch: (String, String) -> GenerationError = GenerationError.priorTokenizerMismatch) throws {
        guard recorded == model.tokens else { throw mismatch(recorded.description, model.tokens.description) }
        guard codebookSize == model.config.codebookSize else {
            throw GenerationError.codebookMismatch(prior: codebookSize, tokenizer: model.config.codebookSize)
        }
    }

    /// The tokenizer that weights' metadata records (`tokenizerMetadata`), if they record one.
    static func recordedTokenizer(_ meta: [String: String]) -> ModelFingerprint? {
        guard let name = meta[tokenizerNameKey], let hex = meta[tokenizerDigestKey],
              let digest = bytes(hex: hex), digest.count == ModelFingerprint.digestSize else { return nil }
        return ModelFingerprint(name: name, digest: digest)
    }

    static func bytes(hex: String) -> [UInt8]? {
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
