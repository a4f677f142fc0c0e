import Foundation
import Generation
import ImageIO
import Models
import NN
import Shapes
import VQZ

/// A reranker ready to score, with its text tokenizer and the fingerprint of the image tokenizer
/// whose grids it reads: a contrastive one (CLIP's way) or a caption reader (how likely the prompt
/// is as the candidate's caption), whichever the weights file holds.
public final class RerankerModel: CaptionModel, @unchecked Sendable {
    public static let bundledName = "reranker-shapes"

    public enum Network {
        case contrastive(Reranker)
        case captionReader(CaptionReader)
    }

    public let reader: Network
    public let text: TextTokenizer
    public let metadata: [String: String]
    public let tokenizer: ModelFingerprint

    public init(weights bytes: [UInt8]) throws {
        let kind = (try? SafeTensors.read(bytes))?.metadata["kind"]
        let meta: [String: String]
        if kind == CaptionReaderModels.weightsKind || kind == CaptionReaderModels.checkpointKind {
            let loaded = try CaptionReaderModels.load(weights: bytes)
            (reader, text, meta) = (.captionReader(loaded.model), loaded.text, loaded.metadata)
        } else {
            let loaded = try RerankerModels.load(weights: bytes)
            (reader, text, meta) = (.contrastive(loaded.model), loaded.text, loaded.metadata)
        }
        guard let tokenizer = TokenizerRecord.read(meta) else {
            throw ModelError.badConfig("the reranker's weights do not say which tokenizer they were trained for")
        }
        metadata = meta
        self.tokenizer = tokenizer
    }

    /// The contrastive network, nil for a caption reader.
    public var network: Reranker? {
        if case .contrastive(let r) = reader { r } else { nil }
    }

    var codebookSize: Int {
        switch reader {
        case .contrastive(let r): r.config.codebookSize
        case .captionReader(let r): r.config.codebookSize
        }
    }

    /// Throws unless the reranker reads this tokenizer's grids.
    public func check(_ model: TokenizerModel) throws {
        try PriorModel.requireTokens(tokenizer, codebookSize: codebookSize, of: model,
                                     mismatch: GenerationError.rerankerTokenizerMismatch)
    }

    /// Each candidate's score for `prompt`, higher for a better match: a contrastive reranker's
    /// cosine similarity, a caption reader's log p(prompt | candidate). Rerankers read the
    /// candidates' level-1 grids (raster order, rows x cols of their config) or, a contrastive one
    /// that reads pictures, their images (scaled down to its picture size). Words the reranker
    /// does not know are left out.
    public func score(prompt: String, grids: [[Int32]], images: [Image]) throws -> [Float] {
        let text = text.encode(prompt).ids
        switch reader {
        case .captionReader(let r):
            try Self.requireGrids(grids, rows: r.config.rows, cols: r.config.cols, codebookSize: r.config.codebookSize)
            return r.logLikelihoods(tokens: grids.flatMap { $0 }, text: grids.flatMap { _ in text }, batch: grids.count)
        case .contrastive(let network):
            let candidates = try Self.readable(grids: grids, images: images, by: network)
            return network.similarities(text: text, captions: 1, images: candidates.values, count: candidates.count)
        }
    }

    /// The candidates as `network` reads them, and how many: their grids, or their pictures scaled
    /// down to its size.
    private static func readable(grids: [[Int32]], images: [Image], by network: Reranker) throws -> (values: RerankerImages, count: Int) {
        let config = network.config
        guard let (w, h) = config.pictureSize else {
            try requireGrids(grids, rows: config.rows, cols: config.cols, codebookSize: config.codebookSize)
            return (.tokens(grids.flatMap { $0 }), grids.count)
        }
        return (.pictures(try images.flatMap { image in
            guard image.width % w == 0, image.height % h == 0, image.width / w == image.height / h else {
                throw GenerationError.badSize("the reranker reads pictures that scale to \(w)x\(h), not \(image.width)x\(image.height)")
            }
            return network.scaledToRead(image.withChannels(3).samples8, width: image.width, height: image.height)
        }), images.count)
    }

    private static func requireGrids(_ grids: [[Int32]], rows: Int, cols: Int, codebookSize: Int) throws {
        guard grids.allSatisfy({ $0.count == rows * cols }) else { throw GenerationError.badSize("the reranker reads \(cols)x\(rows) token grids") }
        guard grids.allSatisfy({ $0.allSatisfy { $0 >= 0 && Int($0) < codebookSize } }) else {
            throw GenerationError.badSize("a token grid holds codes outside the reranker's \(codebookSize)")
        }
    }
}

extension RerankerModel {
    /// Scores of layouts (SceneLayout) against `prompt`: each layout's scene rendered clean, the
    /// kind of picture the reranker learned from, tokenized by `codec` and read as a candidate is.
    public func score(prompt: String, layouts: [[Int32]], codec: Codec, canvas: Int) throws -> [Float] {
        let images = try Self.renderings(of: layouts, canvas: canvas)
        return try score(prompt: prompt, grids: images.map { codec.level1Grid(of: $0) }, images: images)
    }

    /// How alike the reranker finds each painting and the clean rendering of the layout it was
    /// painted from: the cosine of their picture embeddings. The plans, drawn for the prompt and
    /// chosen against it, hold far more of what it asks than the paintings do (the 'S plan' rows of
    /// 'vqz eval prompts'), so the painting truest to its plan is the best bet; a contrastive score of the
    /// painting against the prompt reads a blob's kind and size less surely than it reads how two
    /// pictures differ.
    public func planAgreement(grids: [[Int32]], images: [Image], layouts: [[Int32]], codec: Codec) throws -> [Float] {
        guard let network else { throw GenerationError.badSize("a caption reader scores captions, not how alike two pictures are: rerank by the prompt") }
        guard layouts.count == images.count, layouts.count == grids.count, !layouts.contains(where: \.isEmpty) else {
            throw GenerationError.badSize("every candidate needs the layout it was painted from to be reranked by it")
        }
        let plans = try Self.renderings(of: layouts, canvas: images.first?.width ?? 0)
        let painted = try Self.readable(grids: grids, images: images, by: network)
        let planned = try Self.readable(grids: plans.map { codec.level1Grid(of: $0) }, images: plans, by: network)
        return network.pairedSimilarities(painted.values, planned.values, count: images.count)
    }

    private static func renderings(of layouts: [[Int32]], canvas: Int) throws -> [Image] {
        try layouts.map { layout in
            guard let scene = SceneLayout.scene(layout, canvas: canvas) else { throw GenerationError.badSize("a layout without a ground: \(layout)") }
            return SceneRenderer.render(scene)
        }
    }
}

extension Codec {
    /// The level-1 token grid of `image`, raster order, as the text models read it.
    func level1Grid(of image: Image) -> [Int32] { tokenize(image, levels: 1).levels[0].map { Int32($0) } }
}

extension TextGenerator {
    /// `plans` layouts per picture, the one whose clean rendering `reranker` scores highest against
    /// `prompt` painted; nil for a single plan.
    public func layoutChoice(plans: Int, reranker: RerankerModel, prompt: String) -> LayoutChoice? {
        guard plans > 1 else { return nil }
        let (codec, canvas) = (self.codec, imageSize.width)
        return LayoutChoice(candidates: plans) { try reranker.score(prompt: prompt, layouts: $0, codec: codec, canvas: canvas) }
    }
}

/// What the reranker holds each candidate against: the prompt (CLIP's way), or the plan the
/// candidate was painted from (RerankerModel.planAgreement), for a model that draws plans.
public enum RerankBasis: String, CaseIterable, Sendable {
    case prompt, plan

    /// The plan where there is one to compare with, for a model that draws layouts and a reranker
    /// that embeds pictures (the better pick in 'vqz eval prompts --rerank --rerank-by'), else the prompt.
    public static func standard(for generator: TextGenerator, reranker: RerankerModel) -> RerankBasis {
        generator.prior.network.config.hasLayout && reranker.network != nil ? .plan : .prompt
    }
}

extension TextGenerator {
    /// `result`'s candidates best first by `reranker`'s score, against `prompt` or each candidate's
    /// own plan (RerankBasis.standard unless told), with their scores (ties keep the generation order).
    public func ranked(_ result: Result, by reranker: RerankerModel, prompt: String,
                       against basis: RerankBasis? = nil) throws -> (result: Result, scores: [Float]) {
        let (grids, images, layouts) = (result.grids, result.images, result.layouts)
        let scores = switch basis ?? .standard(for: self, reranker: reranker) {
        case .prompt: try reranker.score(prompt: prompt, grids: grids, images: images)
        case .plan: try reranker.planAgreement(grids: grids, images: images, layouts: layouts, codec: codec)
        }
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let ranked = Result(images: order.map { images[$0] }, grids: order.map { grids[$0] },
                            layouts: order.map { layouts[$0] }, prompt: result.prompt)
        return (ranked, order.map { scores[$0] })
    }
}
