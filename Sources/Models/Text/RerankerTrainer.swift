import Foundation
import NN

/// Top-1 retrieval among a set of pairs: how often a caption's own grid scores highest of all
/// the set's grids (what reranking asks of the model), and the other way round. Chance is 1/pairs.
public struct RetrievalAccuracy: Sendable, Equatable {
    public var pairs: Int
    public var textToImage: Double
    public var imageToText: Double
    /// How often a grid scores its caption over the caption's near miss (one attribute changed),
    /// when near misses were given. Chance is 1/2.
    public var nearMiss: Double?
    /// How often a caption scores its own grid over a picture near miss (the scene with one
    /// stated attribute changed, rendered and tokenized), when given: reranking's very question,
    /// which of two pictures fits a caption better. Chance is 1/2.
    public var pictureNearMiss: Double?
}

/// A caption and its near miss, encoded: the same words but one stated attribute's.
public struct NearMissCaptions: Sendable {
    public var caption: [Int32]
    public var nearMiss: [Int32]

    public init(caption: [Int32], nearMiss: [Int32]) {
        self.caption = caption
        self.nearMiss = nearMiss
    }
}

/// Trains a Reranker by CLIP's symmetric InfoNCE over batches of distinct (caption, grid) pairs.
/// Larger batches make a harder, more useful task: each pair's negatives are the other pairs
/// (CLIP's strength came from very large ones).
public final class RerankerTrainer: Trainer {
    public let model: Reranker
    public let text: TextTokenizer
    public let state: TrainingState
    /// Hard negatives: draws, for training pair `index`, a fresh caption of its picture and a
    /// near miss of it. When set, a batch's captions are the pairs' fresh captions followed by
    /// their near misses; when nil, each pair's own caption and no near misses.
    public var nearMisses: ((_ index: Int, _ rng: inout RNG) -> NearMissCaptions)?
    /// Hard negatives on the picture side: for each training pair, the token grid of its scene
    /// with one attribute every caption of it states changed. When set, a batch's grids are the
    /// pairs' followed by their picture near misses (for a model that reads token grids).
    public var pictureNearMisses: [[Int32]]?
    /// What `validate` also measures, when set: one near miss per validation pair, of its
    /// caption and of its picture.
    public var validationNearMisses: [NearMissCaptions]?
    public var validationPictureNearMisses: [[Int32]]?

    /// `vqz train rerank`'s defaults.
    public static func defaults(checkpointPath: String) -> TrainingOptions {
        TrainingOptions(checkpointPath: checkpointPath, steps: 5_000, batchSize: 64, learningRate: 1e-3, warmupSteps: 100, validateEvery: 250)
    }

    public init(model: Reranker, text: TextTokenizer, options: TrainingOptions) {
        self.model = model
        self.text = text
        state = TrainingState(store: model.store, options: options, seedOffset: 0x5e1a)
    }

    public var checkpointMetadata: [String: String] {
        checkpointMetadata(kind: RerankerModels.checkpointKind, config: model.config.json, adding: [TextImageModels.textTokenizerKey: text.json])
    }

    /// Returns the batch's loss (the symmetric InfoNCE, in nats: log N for a model that cannot
    /// tell pairs apart) and the logits' scale, exp(s): the inverse temperature.
    public func trainStep(on data: [TextImagePair]) -> (loss: Float, scale: Float) {
        precondition(data.count >= 2, "contrastive training needs two pairs or more")
        let (x, y, n, misses, pictureMisses) = batch(data)
        let loss = trainStep(text: x, images: y, batch: n, nearMisses: misses, pictureNearMisses: pictureMisses)
        return (loss, model.scale)
    }

    /// The pairs' images as the model reads them: their token grids, or their pictures.
    public func images(_ pairs: some Collection<TextImagePair>) -> RerankerImages {
        model.config.pictureCell == nil ? .tokens(pairs.flatMap(\.tokens)) : .pictures(pairs.flatMap(\.picture))
    }

    /// A batch of distinct random pairs (all of them when there are fewer than the batch size):
    /// a pair drawn twice would be its own negative. With `nearMisses`, `text` holds the pairs'
    /// fresh captions and then as many near misses; with `pictureNearMisses`, `images` holds the
    /// pairs' grids and then as many near misses.
    public func batch(_ data: [TextImagePair]) -> (text: [Int32], images: RerankerImages, count: Int, nearMisses: Int, pictureNearMisses: Int) {
        precondition(pictureNearMisses.map { $0.count == data.count } ?? true, "one picture near miss per training pair")
        precondition(pictureNearMisses == nil || model.config.pictureCell == nil, "picture near misses are token grids")
        let n = min(options.batchSize, data.count)
        var order = Array(data.indices)
        for i in 0..<n { order.swapAt(i, i + state.rng.int(below: order.count - i)) }
        let picked = order.prefix(n)
        let images = pictureNearMisses.map { misses in .tokens(picked.flatMap { data[$0].tokens } + picked.flatMap { misses[$0] }) }
            ?? self.images(picked.map { data[$0] })
        let pictureMisses = pictureNearMisses == nil ? 0 : n
        guard let nearMisses else { return (picked.flatMap { data[$0].text }, images, n, 0, pictureMisses) }
        let drawn = picked.map { nearMisses($0, &state.rng) }
        return (drawn.flatMap(\.caption) + drawn.flatMap(\.nearMiss), images, n, n, pictureMisses)
    }

    /// One optimisation step; returns the batch's loss.
    @discardableResult
    public func trainStep(text: [Int32], images: RerankerImages, batch n: Int, nearMisses: Int = 0, pictureNearMisses: Int = 0) -> Float {
        model.store.zeroGrads()
        let loss = model.loss(text: text, images: images, batch: n, nearMisses: nearMisses, pictureNearMisses: pictureNearMisses,
                              backward: true)
        update()
        return loss
    }

    /// Top-1 retrieval accuracy among all of `pairs`, and over the validation near misses when set.
    public func validate(_ pairs: [TextImagePair]) -> RetrievalAccuracy {
        validate(pairs, nearMisses: validationNearMisses, pictureNearMisses: validationPictureNearMisses)
    }

    /// Top-1 retrieval accuracy among all of `pairs`, with `nearMisses` (one per pair) how often a
    /// pair's grid scores its caption over the near miss, and with `pictureNearMisses` (one grid
    /// per pair) how often a caption scores its own grid over the near miss.
    public func validate(_ pairs: [TextImagePair], nearMisses: [NearMissCaptions]? = nil,
                         pictureNearMisses: [[Int32]]? = nil) -> RetrievalAccuracy {
        let m = pairs.count
        let sim = model.similarities(text: pairs.flatMap(\.text), captions: m, images: images(pairs), count: m)
        var t2i = 0, i2t = 0
        for i in 0..<m {
            if (0..<m).allSatisfy({ $0 == i || sim[i * m + $0] < sim[i * m + i] }) { t2i += 1 }
            if (0..<m).allSatisfy({ $0 == i || sim[$0 * m + i] < sim[i * m + i] }) { i2t += 1 }
        }
        var result = RetrievalAccuracy(pairs: m, textToImage: Double(t2i) / Double(max(m, 1)), imageToText: Double(i2t) / Double(max(m, 1)))
        if let nearMisses {
            precondition(nearMisses.count == m, "reranker validation: \(nearMisses.count) near misses for \(m) pairs")
            let s = model.similarities(text: nearMisses.flatMap(\.caption) + nearMisses.flatMap(\.nearMiss), captions: 2 * m,
                                       images: images(pairs), count: m)
            let wins = (0..<m).filter { s[$0 * m + $0] > s[(m + $0) * m + $0] }.count
            result.nearMiss = Double(wins) / Double(max(m, 1))
        }
        if let pictureNearMisses {
            precondition(pictureNearMisses.count == m, "reranker validation: \(pictureNearMisses.count) picture near misses for \(m) pairs")
            precondition(model.config.pictureCell == nil, "picture near misses are token grids")
            let s = model.similarities(text: pairs.flatMap(\.text), captions: m,
                                       images: .tokens(pairs.flatMap(\.tokens) + pictureNearMisses.flatMap { $0 }), count: 2 * m)
            let wins = (0..<m).filter { s[$0 * 2 * m + $0] > s[$0 * 2 * m + m + $0] }.count
            result.pictureNearMiss = Double(wins) / Double(max(m, 1))
        }
        return result
    }
}
