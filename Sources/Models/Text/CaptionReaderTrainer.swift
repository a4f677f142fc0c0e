import Foundation
import NN

/// Options of `vqz train rerank --objective caption`.
public struct CaptionReaderTrainingOptions: Sendable {
    public var steps = 5_000
    public var batchSize = 32
    public var learningRate: Float = 1e-3
    public var warmupSteps = 100
    public var weightDecay: Float = 0.01
    public var seed: UInt64 = 1
    public var checkpointPath: String
    public var checkpointSeconds: Double = 300
    public var validateEvery = 250
    /// Validation pairs among which retrieval is measured (every caption against every grid).
    public var retrievalPairs = 32

    public init(checkpointPath: String) { self.checkpointPath = checkpointPath }
}

/// One training report of a caption reader.
public struct CaptionReaderProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    /// The batch's mean next-word loss in bits per word (the end of each caption included).
    public var bitsPerWord: Float
    public var stepsPerSecond: Double
    public var secondsLeft: Double
}

/// What validation measures: how well held-out captions are read off their pictures, and how
/// often a caption's own picture is the likeliest of a set (what reranking asks).
public struct CaptionReaderValidation: Sendable, Equatable {
    public var bitsPerWord: Double
    public var pairs: Int
    /// Top-1 among `pairs`: how often a caption is likeliest under its own grid. Chance is 1/pairs.
    public var textToImage: Double
}

/// Trains a CaptionReader by next-word prediction on (caption, grid) pairs, with the other
/// trainers' machinery: AdamW with clipping, warm-up and cosine decay, Checkpoint files on a
/// timer, at the end and for --resume.
public final class CaptionReaderTrainer {
    public let model: CaptionReader
    public let text: TextTokenizer
    public let options: CaptionReaderTrainingOptions
    public let state: TrainingState
    /// Saved in every checkpoint (the image tokenizer the tokens came from).
    public var metadata: [String: String] = [:]
    /// Draws a fresh caption of training pair `index` (its ids), so that a picture is read in many
    /// wordings; when nil, each pair's own caption.
    public var freshCaption: ((_ index: Int, _ rng: inout RNG) -> [Int32])?
    public var step: Int { state.step }

    public init(model: CaptionReader, text: TextTokenizer, options: CaptionReaderTrainingOptions) {
        self.model = model
        self.text = text
        self.options = options
        state = TrainingState(store: model.store, learningRate: options.learningRate, weightDecay: options.weightDecay,
                              seed: options.seed &+ 0xca9e, checkpointPath: options.checkpointPath,
                              checkpointSeconds: options.checkpointSeconds)
    }

    @discardableResult
    public func resume(from path: String) throws -> [String: String] { try state.resume(from: path) }

    public func saveCheckpoint() throws {
        var meta = metadata
        meta[TextImageModels.textTokenizerKey] = text.json
        try state.save(kind: CaptionReaderModels.checkpointKind, config: model.config.json, metadata: meta)
    }

    /// A batch of random pairs: their grids [N, T] and captions [N, L].
    public func batch(_ data: [TextImagePair]) -> (tokens: [Int32], text: [Int32], count: Int) {
        let n = options.batchSize
        let picked = (0..<n).map { _ in state.rng.int(below: data.count) }
        let captions = picked.flatMap { i in freshCaption?(i, &state.rng) ?? data[i].text }
        return (picked.flatMap { data[$0].tokens }, captions, n)
    }

    /// One optimisation step; returns the batch's bits per word.
    @discardableResult
    public func trainStep(tokens: [Int32], text: [Int32], batch n: Int) -> Float {
        model.store.zeroGrads()
        let loss = model.loss(tokens: tokens, text: text, batch: n, backward: true)
        state.optimizer.update(learningRate: cosineSchedule(step: step, total: options.steps, warmup: options.warmupSteps, peak: options.learningRate))
        state.step += 1
        return loss / Float(M_LN2)
    }

    /// Runs until `options.steps` or `shouldStop`; checkpoints on a timer and at the end.
    public func run(data: [TextImagePair], validation: [TextImagePair] = [], shouldStop: () -> Bool = { false },
                    progress: (CaptionReaderProgress) -> Void = { _ in },
                    validated: (Int, CaptionReaderValidation) -> Void = { _, _ in }) throws {
        precondition(!data.isEmpty, "caption reader training needs pairs")
        let first = step, t0 = Date()
        while step < options.steps && !shouldStop() {
            let (x, y, n) = batch(data)
            let bits = trainStep(tokens: x, text: y, batch: n)
            let rate = Double(step - first) / max(Date().timeIntervalSince(t0), 1e-9)
            progress(CaptionReaderProgress(step: step, totalSteps: options.steps, bitsPerWord: bits, stepsPerSecond: rate,
                                           secondsLeft: Double(options.steps - step) / max(rate, 1e-9)))
            if !validation.isEmpty && (step % options.validateEvery == 0 || step == options.steps) {
                validated(step, validate(validation))
            }
            if state.saveIsDue { try saveCheckpoint() }
        }
        try saveCheckpoint()
    }

    /// Bits per word over all of `pairs`, and top-1 retrieval among the first `retrievalPairs`.
    public func validate(_ pairs: [TextImagePair]) -> CaptionReaderValidation {
        let text = pairs.flatMap(\.text)
        let own = model.logLikelihoods(tokens: pairs.flatMap(\.tokens), text: text, batch: pairs.count)
        let words = model.lengths(text, batch: pairs.count).reduce(pairs.count, +)   // each caption's end counts as a word
        let bits = -Double(own.reduce(0, +)) / Double(max(words, 1)) / M_LN2
        let m = min(options.retrievalPairs, pairs.count)
        // Every caption with every grid: caption i's likelihoods are scores[i * m + j].
        let scores = model.logLikelihoods(tokens: (0..<m).flatMap { _ in pairs.prefix(m).flatMap(\.tokens) },
                                          text: (0..<m).flatMap { i in (0..<m).flatMap { _ in pairs[i].text } }, batch: m * m)
        let hits = (0..<m).filter { i in (0..<m).allSatisfy { $0 == i || scores[i * m + $0] < scores[i * m + i] } }.count
        return CaptionReaderValidation(bitsPerWord: bits, pairs: m, textToImage: Double(hits) / Double(max(m, 1)))
    }
}
