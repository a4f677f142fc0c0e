import Foundation
import NN

/// What validation measures: how well held-out captions are read off their pictures, and how
/// often a caption's own picture is the likeliest of a set (what reranking asks).
public struct CaptionReaderValidation: Sendable, Equatable {
    public var bitsPerWord: Double
    public var pairs: Int
    /// Top-1 among `pairs`: how often a caption is likeliest under its own grid. Chance is 1/pairs.
    public var textToImage: Double
}

/// Trains a CaptionReader by next-word prediction on (caption, grid) pairs; validation measures
/// retrieval among the first `retrievalPairs` validation pairs (every caption against every grid).
public final class CaptionReaderTrainer: Trainer {
    public let model: CaptionReader
    public let text: TextTokenizer
    public let retrievalPairs: Int
    public let state: TrainingState
    /// Draws a fresh caption of training pair `index` (its ids), so that a picture is read in many
    /// wordings; when nil, each pair's own caption.
    public var freshCaption: ((_ index: Int, _ rng: inout RNG) -> [Int32])?

    /// `vqz train rerank --objective caption`'s defaults.
    public static func defaults(checkpointPath: String) -> TrainingOptions {
        TrainingOptions(checkpointPath: checkpointPath, steps: 5_000, batchSize: 32, learningRate: 1e-3, warmupSteps: 100, validateEvery: 250)
    }

    public init(model: CaptionReader, text: TextTokenizer, options: TrainingOptions, retrievalPairs: Int = 32) {
        self.model = model
        self.text = text
        self.retrievalPairs = retrievalPairs
        state = TrainingState(store: model.store, options: options, seedOffset: 0xca9e)
    }

    public var checkpointMetadata: [String: String] {
        checkpointMetadata(kind: CaptionReaderModels.checkpointKind, config: model.config.json, adding: [TextImageModels.textTokenizerKey: text.json])
    }

    /// Returns the batch's mean next-word loss in bits per word (the end of each caption included).
    public func trainStep(on data: [TextImagePair]) -> Float {
        precondition(!data.isEmpty, "caption reader training needs pairs")
        let (x, y, n) = batch(data)
        return trainStep(tokens: x, text: y, batch: n)
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
        update()
        return loss / Float(M_LN2)
    }

    /// Bits per word over all of `pairs`, and top-1 retrieval among the first `retrievalPairs`.
    public func validate(_ pairs: [TextImagePair]) -> CaptionReaderValidation {
        let text = pairs.flatMap(\.text)
        let own = model.logLikelihoods(tokens: pairs.flatMap(\.tokens), text: text, batch: pairs.count)
        let words = model.lengths(text, batch: pairs.count).reduce(pairs.count, +)   // each caption's end counts as a word
        let bits = -Double(own.reduce(0, +)) / Double(max(words, 1)) / M_LN2
        let m = min(retrievalPairs, pairs.count)
        // Every caption with every grid: caption i's likelihoods are scores[i * m + j].
        let scores = model.logLikelihoods(tokens: (0..<m).flatMap { _ in pairs.prefix(m).flatMap(\.tokens) },
                                          text: (0..<m).flatMap { i in (0..<m).flatMap { _ in pairs[i].text } }, batch: m * m)
        let hits = (0..<m).filter { i in (0..<m).allSatisfy { $0 == i || scores[i * m + $0] < scores[i * m + i] } }.count
        return CaptionReaderValidation(bitsPerWord: bits, pairs: m, textToImage: Double(hits) / Double(max(m, 1)))
    }
}
