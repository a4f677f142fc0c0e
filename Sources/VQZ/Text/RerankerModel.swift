import Foundation
import ImageIO
import Models
import NN

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
        guard let tokenizer = PriorModel.recordedTokenizer(meta) else {
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
            let config = network.config
            guard let (w, h) = config.pictureSize else {
                try Self.requireGrids(grids, rows: config.rows, cols: config.cols, codebookSize: config.codebookSize)
                return network.similarities(text: text, captions: 1, images: .tokens(grids.flatMap { $0 }), count: grids.count)
            }
            return try Self.scoreOnPictures(network, text: text, images: images, width: w, height: h)
        }
    }

    private static func requireGrids(_ grids: [[Int32]], rows: Int, cols: Int, codebookSize: Int) throws {
        guard grids.allSatisfy({ $0.count == rows * cols }) else { throw GenerationError.badSize("the reranker reads \(cols)x\(rows) token grids") }
        guard grids.allSatisfy({ $0.allSatisfy { $0 >= 0 && Int($0) < codebookSize } }) else {
            throw GenerationError.badSize("a token grid holds codes outside the reranker's \(codebookSize)")
        }
    }

    private static func scoreOnPictures(_ network: Reranker, text: [Int32], images: [Image], width w: Int, height h: Int) throws -> [Float] {
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

extension RerankerModel {
    /// Scores of layouts (SceneLayout) against `prompt`: each layout's scene rendered clean, the
    /// kind of picture the reranker learned from, tokenized by `codec` and read as a candidate is.
    public func score(prompt: String, layouts: [[Int32]], codec: Codec, canvas: Int) throws -> [Float] {
        let images = try layouts.map { layout -> Image in
            guard let scene = SceneLayout.scene(layout, canvas: canvas) else { throw GenerationError.badSize("a layout without a ground: \(layout)") }
            return SceneRenderer.render(scene)
        }
        let grids = images.map { codec.tokenize($0, levels: 1).levels[0].map { Int32($0) } }
        return try score(prompt: prompt, grids: grids, images: images)
    }
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

extension TextGenerator.Result {
    /// The candidates best first by `reranker`'s score against `prompt`, with their scores (ties
    /// keep the generation order).
    public func ranked(by reranker: RerankerModel, prompt: String) throws -> (result: TextGenerator.Result, scores: [Float]) {
        let scores = try reranker.score(prompt: prompt, grids: grids, images: images)
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let ranked = TextGenerator.Result(images: order.map { images[$0] }, grids: order.map { grids[$0] },
                                          layouts: order.map { layouts[$0] }, prompt: self.prompt)
        return (ranked, order.map { scores[$0] })
    }
}
