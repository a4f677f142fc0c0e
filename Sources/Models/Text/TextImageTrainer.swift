import Foundation
import NN

/// One caption and the token grid of its picture.
public struct TextImagePair: Sendable, Equatable {
    /// [L] text ids (TextTokenizer.encode).
    public var text: [Int32]
    /// [P] the picture's layout ids (a model with a layout draws them first), or empty.
    public var layout: [Int32]
    /// [C, T] the layout's map (a model with a map reads it as it paints), or empty.
    public var map: [Int32]
    /// [T] level-1 image tokens in raster order.
    public var tokens: [Int32]
    /// [T] each token's weight in the training loss, or empty for all equal.
    public var tokenWeights: [Float]
    /// The picture as a reranker that reads pictures sees it (RGB8 at its `pictureSize`), or
    /// empty.
    public var picture: [UInt8]

    public init(text: [Int32], layout: [Int32] = [], map: [Int32] = [], tokens: [Int32], tokenWeights: [Float] = [], picture: [UInt8] = []) {
        precondition(tokenWeights.isEmpty || tokenWeights.count == tokens.count, "one weight per token")
        self.text = text
        self.layout = layout
        self.map = map
        self.tokens = tokens
        self.tokenWeights = tokenWeights
        self.picture = picture
    }
}

/// What `TextImageTrainer.validate` measures, in bits per image token.
public struct TextImageValidation: Sendable, Equatable {
    public var captioned: Double
    /// With the empty caption (and no map): the gap to `captioned` is what the captions (and maps) are worth.
    public var empty: Double
    /// With the captions, over the tokens the pairs mark as a shape's and over the rest; nil
    /// when the pairs mark none (or all).
    public var overShapes: Double?
    public var overGround: Double?
    /// Bits per layout id with the captions; nil for a model without a layout.
    public var layout: Double?
}

/// Trains a TextImageTransformer by next-image-token cross-entropy given the caption, dropping
/// a share of captions (`captionDropout`) to the empty caption so that the model also learns the
/// unconditional distribution that classifier-free guidance needs.
public final class TextImageTrainer: Trainer {
    public let model: TextImageTransformer
    public let text: TextTokenizer
    public let captionDropout: Float
    public let state: TrainingState

    /// `vqz train text`'s defaults.
    public static func defaults(checkpointPath: String) -> TrainingOptions {
        TrainingOptions(checkpointPath: checkpointPath, steps: 20_000, batchSize: 16, learningRate: 5e-4, warmupSteps: 200, validateEvery: 500)
    }

    public init(model: TextImageTransformer, text: TextTokenizer, options: TrainingOptions, captionDropout: Float = 0.15) {
        self.model = model
        self.text = text
        self.captionDropout = captionDropout
        state = TrainingState(store: model.store, options: options, seedOffset: 0x7e47)
    }

    public var checkpointMetadata: [String: String] {
        checkpointMetadata(kind: TextImageModels.checkpointKind, config: model.config.json, adding: [TextImageModels.textTokenizerKey: text.json])
    }

    /// Returns the batch's bits per image token (weighted).
    public func trainStep(on data: [TextImagePair]) -> Float {
        precondition(!data.isEmpty, "no training pairs")
        let (x, layout, map, y, w) = batch(data)
        return trainStep(text: x, layout: layout, map: map, tokens: y, weights: w, batch: options.batchSize)
    }

    /// A random batch: texts [N, L] (each dropped to the empty caption with the dropout share),
    /// layouts [N, P], their maps [N, C, T] (all 0 with the empty caption, or with map parts one
    /// part of it, drawn evenly with none), grids [N, T] and their tokens' weights [N, T].
    public func batch(_ data: [TextImagePair]) -> (text: [Int32], layout: [Int32], map: [Int32], tokens: [Int32], weights: [Float]) {
        var text: [Int32] = [], layout: [Int32] = [], map: [Int32] = [], tokens: [Int32] = [], weights: [Float] = []
        let parts = model.config.mapParts
        for _ in 0..<options.batchSize {
            let pair = data[state.rng.int(below: data.count)]
            let dropped = state.rng.uniform() < captionDropout
            text += dropped ? self.text.empty : pair.text
            layout += pair.layout
            // The empty caption reads no map either, so that guidance pushes the picture toward its map
            // too; or one part of it, for composing the parts when sampling.
            let part = dropped && !parts.isEmpty ? state.rng.int(below: parts.count + 1) - 1 : -1
            map += dropped ? keeping(part < 0 ? [] : parts[part], of: pair.map) : pair.map
            tokens += pair.tokens
            weights += pair.tokenWeights.isEmpty ? [Float](repeating: 1, count: pair.tokens.count) : pair.tokenWeights
        }
        return (text, layout, map, tokens, weights)
    }

    /// A map [C, T] with the channels outside `channels` set to 0 (nothing there).
    func keeping(_ channels: [Int], of map: [Int32]) -> [Int32] {
        let t = map.count / max(1, model.config.mapVocabularies.count)
        var kept = [Int32](repeating: 0, count: map.count)
        for k in channels { kept[(k * t)..<((k + 1) * t)] = map[(k * t)..<((k + 1) * t)] }
        return kept
    }

    /// One optimisation step; returns the batch's bits per image token (weighted, when `weights`).
    /// With a layout, the loss is the mean over the image tokens plus the mean over the layout ids:
    /// a layout's few ids weigh as much as the picture's many, because they decide what it shows.
    @discardableResult
    public func trainStep(text: [Int32], layout: [Int32] = [], map: [Int32] = [], tokens: [Int32], weights: [Float]? = nil,
                          batch n: Int) -> Float {
        model.store.zeroGrads()
        let logits = model.forward(text: text, layout: layout, map: map, tokens: tokens, batch: n)
        var dlayout: Tensor?
        if let layoutLogits = model.layoutLogits {
            let d = Tensor(layoutLogits.shape)
            _ = crossEntropyLoss(layoutLogits, layout, dlogits: d)
            dlayout = d
        }
        let dlogits = Tensor(logits.shape)
        let loss = crossEntropyLoss(logits, tokens, weights: weights, dlogits: dlogits)
        model.backward(dlogits, layout: dlayout)
        update()
        return loss / Float(M_LN2)
    }

    /// Mean bits per image token of the pairs with their captions and with the empty caption; with
    /// the captions also over the tokens the pairs mark (a weight other than 1: a shape's) and over
    /// the rest (the ground's), which says where the remaining loss lies.
    public func validate(_ pairs: [TextImagePair]) -> TextImageValidation {
        var c = 0.0, u = 0.0, layout = 0.0, b0 = 0
        var marked = (bits: 0.0, count: 0.0), unmarked = (bits: 0.0, count: 0.0)
        while b0 < pairs.count {
            let part = pairs[b0..<min(pairs.count, b0 + 8)]
            let tokens = part.flatMap(\.tokens), layouts = part.flatMap(\.layout), maps = part.flatMap(\.map)
            let logits = model.forward(text: part.flatMap(\.text), layout: layouts, map: maps, tokens: tokens, batch: part.count)
            c += Double(crossEntropyLoss(logits, tokens)) / M_LN2 * Double(part.count)
            if let layoutLogits = model.layoutLogits { layout += Double(crossEntropyLoss(layoutLogits, layouts)) / M_LN2 * Double(part.count) }
            // Weights of 0 and 1 select a region: crossEntropyLoss's weighted mean is then its mean.
            let inside = part.flatMap { pair in pair.tokenWeights.isEmpty ? [Float](repeating: 0, count: pair.tokens.count)
                                                                           : pair.tokenWeights.map { $0 != 1 ? 1 : 0 } }
            let n = Double(inside.reduce(0, +)), rest = Double(tokens.count) - n
            marked.bits += Double(crossEntropyLoss(logits, tokens, weights: inside)) * n
            marked.count += n
            unmarked.bits += Double(crossEntropyLoss(logits, tokens, weights: inside.map { 1 - $0 })) * rest
            unmarked.count += rest
            // Last: the next forward may reuse the buffers `logits` lies in.
            u += model.bitsPerToken(text: part.flatMap { _ in text.empty }, layout: layouts, map: maps.map { _ in 0 }, tokens: tokens,
                                   batch: part.count) * Double(part.count)
            b0 += part.count
        }
        let count = Double(max(pairs.count, 1))
        let split = marked.count > 0 && unmarked.count > 0
        return TextImageValidation(captioned: c / count, empty: u / count,
                                   overShapes: split ? marked.bits / marked.count / M_LN2 : nil,
                                   overGround: split ? unmarked.bits / unmarked.count / M_LN2 : nil,
                                   layout: model.config.hasLayout ? layout / count : nil)
    }
}

