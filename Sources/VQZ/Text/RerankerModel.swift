import Foundation
import ImageIO
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

    /// The cosine similarity of `prompt` to each candidate: higher is a better match. A reranker
    /// reads the candidates' level-1 grids (raster order, rows x cols of its config) or, if it
    /// reads pictures, their images (scaled down to its picture size). Words the reranker does
    /// not know are left out.
    public func score(prompt: String, grids: [[Int32]], images: [Image]) throws -> [Float] {
        let config = network.config, text = text.encode(prompt).ids
        guard let (w, h) = config.pictureSize else {
            guard grids.allSatisfy({ $0.count == network.imagePositions }) else {
                throw GenerationError.badSize("the reranker reads \(config.cols)x\(config.rows) token grids")
            }
            guard grids.allSatisfy({ $0.allSatisfy { $0 >= 0 && Int($0) < config.codebookSize } }) else {
                throw GenerationError.badSize("a token grid holds codes outside the reranker's \(config.codebookSize)")
            }
            return network.similarities(text: text, captions: 1, images: .tokens(grids.flatMap { $0 }), count: grids.count)
        }
        let pictures = try images.map { image in
            guard image.width % w == 0, image.height % h == 0, image.width / w == image.height / h else {
                throw GenerationError.badSize("the reranker reads pictures that scale to \(w)x\(h), not \(image.width)x\(image.height)")
            }
            let rgb = image.withChannels(3).samples8
            return network.scaledToRead(rgb, width: image.width, height: image.height)
        }
        return network.similarities(text: text, captions: 1, images: .pictures(pictures.flatMap { $0 }), count: pictures.count)
    }
}

extension TextGenerator.Result {
    /// The candidates best first by `reranker`'s score against `prompt`, with their scores (ties
    /// keep the generation order).
    public func ranked(by reranker: RerankerModel, prompt: String) throws -> (result: TextGenerator.Result, scores: [Float]) {
        let scores = try reranker.score(prompt: prompt, grids: grids, images: images)
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let ranked = TextGenerator.Result(images: order.map { images[$0] }, grids: order.map { grids[$0] }, prompt: self.prompt)
        return (ranked, order.map { scores[$0] })
    }
}
