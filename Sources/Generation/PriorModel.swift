import Foundation
import Models
import VQZ

/// A prior ready to sample, with the fingerprint of the tokenizer whose tokens it models.
public final class PriorModel: @unchecked Sendable {
    public let network: any TokenPrior
    public let metadata: [String: String]
    /// The tokenizer the prior was trained for, from the weights' metadata.
    public let tokenizer: ModelFingerprint

    public var kind: PriorKind { network.config.kind }

    public init(weights bytes: [UInt8]) throws {
        let (prior, meta) = try Priors.load(weights: bytes)
        network = prior
        metadata = meta
        tokenizer = try TokenizerRecord.required(meta, by: "the prior's weights")
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

    /// Throws unless `recorded` names `model`'s tokens and `codebookSize` is its codebook's;
    /// `mismatch` makes the error for another tokenizer's tokens (given what was recorded and `model`).
    public static func requireTokens(_ recorded: ModelFingerprint, codebookSize: Int, of model: TokenizerModel,
                                     mismatch: (String, String) -> GenerationError = GenerationError.priorTokenizerMismatch) throws {
        guard recorded == model.tokens else { throw mismatch(recorded.description, model.tokens.description) }
        guard codebookSize == model.config.codebookSize else {
            throw GenerationError.codebookMismatch(prior: codebookSize, tokenizer: model.config.codebookSize)
        }
    }
}
