import Foundation
import Models

/// A contrastive reranker ready to score, with its text tokenizer and the fingerprint of the
/// image tokenizer whose grids it reads.
public final class RerankerModel: CaptionModel, @unchecked Sendable {
    public static let bundledName = "reranker-shapes"

    public let network: Reranker
    public let text: TextTokenizer
    public let metadata: [String: String]
    public let tokenizer: ModelFingerprint

    public init(weights bytes: [UInt8]) throws {
        let (model, text, meta) = try RerankerModels.load(weights: bytes)
        guard let tokenizer = PriorModel.recordedTokenizer(meta) else {
            throw ModelError.badConfig("the reranker's weights do not say which tokenizer they were trained for")
        }
        network = model
        self.text = text
        metadata = meta
        self.tokenizer = tokenizer
    }

    /// Throws unless the reranker reads this tokenizer's grids.
    public func check(_ model: TokenizerModel) throws {
        try PriorModel.requireTokens(tokenizer, codebookSize: network.config.codebookSize, of: model,
                                     mismatch: GenerationError.rerankerTokenizerMismatch)
    }

    /// The cosine similarity of `prompt` to each level-1 grid (raster order, rows x cols of the
    /// model's config): higher is a better match. Words the reranker does not know are left out.
    public func score(prompt: String, grids: [[Int32]]) throws -> [Float] {
        let t = network.imagePositions
        guard grids.allSatisfy({ $0.count == t }) else {
            throw GenerationError.badSize("the reranker reads \(network.config.cols)x\(network.config.rows) token grids")
        }
        guard grids.allSatisfy({ $0.allSatisfy { $0 >= 0 && Int($0) < network.config.codebookSize } }) else {
            throw GenerationError.badSize("a token grid holds codes outside the reranker's \(network.config.codebookSize)")
        }
        return network.similarities(text: text.encode(prompt).ids, captions: 1, tokens: grids.flatMap { $0 }, grids: grids.count)
    }
}

extension TextGenerator.Result {
    /// The candidates best first by `reranker`'s score against `prompt`, with their scores (ties
    /// keep the generation order).
    public func ranked(by reranker: RerankerModel, prompt: String) throws -> (result: TextGenerator.Result, scores: [Float]) {
        let scores = try reranker.score(prompt: prompt, grids: grids)
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let ranked = TextGenerator.Result(images: order.map { images[$0] }, grids: order.map { grids[$0] }, prompt: self.prompt)
        return (ranked, order.map { scores[$0] })
    }
}
