import Foundation
import NN

/// One caption and the token grid of its picture.
public struct TextImagePair: Sendable, Equatable {
    /// [L] text ids (TextTokenizer.encode).
    public var text: [Int32]
    /// [T] level-1 image tokens in raster order.
    public var tokens: [Int32]
    /// [T] each token's weight in the training loss, or empty for all equal.
    public var tokenWeights: [Float]

    public init(text: [Int32], tokens: [Int32], tokenWeights: [Float] = []) {
        precondition(tokenWeights.isEmpty || tokenWeights.count == tokens.count, "one weight per token")
        self.text = text
        self.tokens = tokens
        self.tokenWeights = tokenWeights
    }
}

/// Options of `vqz train text`.
public struct TextImageTrainingOptions: Sendable {
    public var steps = 20_000
    public var batchSize = 16
    public var learningRate: Float = 5e-4
    public var warmupSteps = 200
    public var weightDecay: Float = 0.01
    /// Share of captions replaced by the empty caption, so the model also learns the
    /// unconditional distribution that classifier-free guidance needs.
    public var captionDropout: Float = 0.15
    public var seed: UInt64 = 1
    public var checkpointPath: String
    public var checkpointSeconds: Double = 300
    public var validateEvery = 500

    public init(checkpointPath: String) { self.checkpointPath = checkpointPath }
}

/// Trains a TextImageTransformer by next-image-token cross-entropy given the caption, with the
/// prior trainer's machinery: AdamW with clipping, warm-up and cosine decay, Checkpoint files
/// (weights, moments, step, RNG) on a timer, at the end and for --resume, PriorProgress reports.
public final class TextImageTrainer {
    public let model: TextImageTransformer
    public let text: TextTokenizer
    public let options: TextImageTrainingOptions
    public let state: TrainingState
    public var optimizer: Adam { state.optimizer }
    /// Saved in every checkpoint (the image tokenizer the tokens came from).
    public var metadata: [String: String] = [:]
    public var step: Int { state.step }

    public init(model: TextImageTransformer, text: TextTokenizer, options: TextImageTrainingOptions) {
        self.model = model
        self.text = text
        self.options = options
        state = TrainingState(store: model.store, learningRate: options.learningRate, weightDecay: options.weightDecay,
                              seed: options.seed &+ 0x7e47,
                              checkpointPath: options.checkpointPath, checkpointSeconds: options.checkpointSeconds)
    }

    @discardableResult
    public func resume(from path: String) throws -> [String: String] {
        try state.resume(from: path)
    }

    public func saveCheckpoint() throws {
        var meta = metadata
        meta[TextImageModels.textTokenizerKey] = text.json
        try state.save(kind: TextImageModels.checkpointKind, config: model.config.json, metadata: meta)
    }

    /// A random batch: texts [N, L] (each dropped to the empty caption with the dropout share),
    /// grids [N, T] and their tokens' weights [N, T].
    public func batch(_ data: [TextImagePair]) -> (text: [Int32], tokens: [Int32], weights: [Float]) {
        var text: [Int32] = [], tokens: [Int32] = [], weights: [Float] = []
        for _ in 0..<options.batchSize {
            let pair = data[state.rng.int(below: data.count)]
            text += state.rng.uniform() < options.captionDropout ? self.text.empty : pair.text
            tokens += pair.tokens
            weights += pair.tokenWeights.isEmpty ? [Float](repeating: 1, count: pair.tokens.count) : pair.tokenWeights
        }
        return (text, tokens, weights)
    }

    /// One optimisation step; returns the batch's bits per image token (weighted, when `weights`).
    @discardableResult
    public func trainStep(text: [Int32], tokens: [Int32], weights: [Float]? = nil, batch n: Int) -> Float {
        model.store.zeroGrads()
        let logits = model.forward(text: text, tokens: tokens, batch: n)
        let dlogits = Tensor(logits.shape)
        let loss = crossEntropyLoss(logits, tokens, weights: weights, dlogits: dlogits)
        model.backward(dlogits)
        optimizer.update(learningRate: cosineSchedule(step: step, total: options.steps, warmup: options.warmupSteps, peak: options.learningRate))
        state.step += 1
        return loss / Float(M_LN2)
    }

    /// Runs until `options.steps` or `shouldStop`; checkpoints on a timer and at the end.
    /// `validated` gets the step and the validation pairs' bits per token with their captions
    /// and with the empty caption (what the caption is worth).
    public func run(data: [TextImagePair], validation: [TextImagePair] = [],
                    shouldStop: () -> Bool = { false },
                    progress: (PriorProgress) -> Void = { _ in },
                    validated: (Int, Double, Double) -> Void = { _, _, _ in }) throws {
        precondition(!data.isEmpty, "no training pairs")
        let first = step, t0 = Date()
        while step < options.steps && !shouldStop() {
            let (x, y, w) = batch(data)
            let bits = trainStep(text: x, tokens: y, weights: w, batch: options.batchSize)
            let rate = Double(step - first) / max(Date().timeIntervalSince(t0), 1e-9)
            progress(PriorProgress(step: step, totalSteps: options.steps, bitsPerToken: bits, stepsPerSecond: rate,
                                   secondsLeft: Double(options.steps - step) / max(rate, 1e-9)))
            if !validation.isEmpty && (step % options.validateEvery == 0 || step == options.steps) {
                let (c, u) = validate(validation)
                validated(step, c, u)
            }
            if state.saveIsDue { try saveCheckpoint() }
        }
        try saveCheckpoint()
    }

    /// Mean bits per image token of the pairs with their captions, over the tokens that weigh
    /// more than 1 (a shape's, where pairs are weighted) and over the rest (the ground's): where
    /// the model's remaining loss lies. Nil when no pair marks any token.
    public func validateByRegion(_ pairs: [TextImagePair]) -> (shapes: Double, ground: Double)? {
        var sums = (shapes: 0.0, ground: 0.0), counts = (shapes: 0, ground: 0), b0 = 0
        while b0 < pairs.count {
            let part = Array(pairs[b0..<min(pairs.count, b0 + 8)])
            let tokens = part.flatMap(\.tokens)
            let bits = tokenBits(model.forward(text: part.flatMap(\.text), tokens: tokens, batch: part.count), tokens)
            let weights = part.flatMap { $0.tokenWeights.isEmpty ? [Float](repeating: 1, count: $0.tokens.count) : $0.tokenWeights }
            for (b, w) in zip(bits, weights) {
                if w > 1 { sums.shapes += b; counts.shapes += 1 } else { sums.ground += b; counts.ground += 1 }
            }
            b0 += part.count
        }
        guard counts.shapes > 0 && counts.ground > 0 else { return nil }
        return (sums.shapes / Double(counts.shapes), sums.ground / Double(counts.ground))
    }

    /// Mean bits per image token of the pairs, with their captions and with the empty caption.
    public func validate(_ pairs: [TextImagePair]) -> (captioned: Double, empty: Double) {
        var c = 0.0, u = 0.0, b0 = 0
        while b0 < pairs.count {
            let part = pairs[b0..<min(pairs.count, b0 + 8)]
            let tokens = part.flatMap(\.tokens)
            c += model.bitsPerToken(text: part.flatMap(\.text), tokens: tokens, batch: part.count) * Double(part.count)
            u += model.bitsPerToken(text: part.flatMap { _ in text.empty }, tokens: tokens, batch: part.count) * Double(part.count)
            b0 += part.count
        }
        return (c / Double(max(pairs.count, 1)), u / Double(max(pairs.count, 1)))
    }
}

/// Bits of each row's target under logits [M, K] (any leading shape): -log2 softmax(row)[target].
func tokenBits(_ logits: Tensor, _ targets: [Int32]) -> [Double] {
    let k = logits.shape.last!, rows = logits.count / k
    precondition(targets.count == rows, "tokenBits: \(targets.count) targets for \(rows) rows")
    return (0..<rows).map { r in
        let row = UnsafeBufferPointer(start: logits.data + r * k, count: k)
        let top = Double(row.max()!)
        let sum = row.reduce(0.0) { $0 + exp(Double($1) - top) }
        return (top + log(sum) - Double(row[Int(targets[r])])) / M_LN2
    }
}
