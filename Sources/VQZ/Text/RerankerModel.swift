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

    /// How a reranker scores a candidate grid against the prompt.
    public enum Scoring: String, CaseIterable, Sendable {
        /// The cosine similarity of prompt and grid (CLIP's ranking).
        case similarity
        /// log p(prompt | grid) among the prompt and its near misses (one colour, shape, size,
        /// side, relation or ground swapped), under the reranker's softmax: how surely the grid
        /// holds exactly what the prompt says rather than something close to it.
        case nearMisses = "near-misses"
    }

    /// Each level-1 grid's score (raster order, rows x cols of the model's config) against
    /// `prompt`: higher is a better match. Words the reranker does not know are left out.
    public func score(prompt: String, grids: [[Int32]], by scoring: Scoring = .similarity) throws -> [Float] {
        let t = network.imagePositions
        guard grids.allSatisfy({ $0.count == t }) else {
            throw GenerationError.badSize("the reranker reads \(network.config.cols)x\(network.config.rows) token grids")
        }
        guard grids.allSatisfy({ $0.allSatisfy { $0 >= 0 && Int($0) < network.config.codebookSize } }) else {
            throw GenerationError.badSize("a token grid holds codes outside the reranker's \(network.config.codebookSize)")
        }
        let captions = [prompt] + (scoring == .nearMisses ? SceneCaptioner.nearMisses(ofPrompt: prompt) : [])
        let n = grids.count
        let sim = network.similarities(text: captions.flatMap { text.encode($0).ids }, captions: captions.count,
                                       tokens: grids.flatMap { $0 }, grids: n)
        guard captions.count > 1 else { return sim }
        let scale = network.scale
        return (0..<n).map { k in
            let logits = captions.indices.map { scale * sim[$0 * n + k] }, top = logits.max()!
            return logits[0] - top - log(logits.reduce(0) { $0 + exp($1 - top) })
        }
    }
}

extension TextGenerator.Result {
    /// The candidates best first by `reranker`'s score against `prompt`, with their scores (ties
    /// keep the generation order).
    public func ranked(by reranker: RerankerModel, prompt: String, scoring: RerankerModel.Scoring = .similarity) throws
        -> (result: TextGenerator.Result, scores: [Float]) {
        let scores = try reranker.score(prompt: prompt, grids: grids, by: scoring)
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let ranked = TextGenerator.Result(images: order.map { images[$0] }, grids: order.map { grids[$0] }, prompt: self.prompt)
        return (ranked, order.map { scores[$0] })
    }
}
