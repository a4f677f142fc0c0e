import Foundation
import Generation
import ImageIO
import Models
import NN
import TextToImage
import VQZ
import XCTest

/// The caption reader (`vqz train rerank --objective caption`): its backward against finite
/// differences, what each word may read, learning to pick held-out pictures for their captions,
/// checkpoints, and its weights file as a reranker.
final class CaptionReaderTests: XCTestCase {
    static let tiny = CaptionReaderConfig(codebookSize: 12, textVocabulary: 7, textLength: 5, rows: 4, cols: 4, codeDim: 3,
                                          group: 2, width: 8, layers: 1, heads: 2)

    /// n captions (words, then padding; the first one empty, the second one full) and grids.
    static func randomBatch(_ config: CaptionReaderConfig, _ n: Int, _ rng: inout RNG) -> (text: [Int32], tokens: [Int32]) {
        var text: [Int32] = []
        for b in 0..<n {
            let words = b == 0 ? 0 : b == 1 ? config.textLength : 1 + rng.int(below: config.textLength)
            text += (0..<config.textLength).map { $0 < words ? Int32(1 + rng.int(below: config.textVocabulary - 1)) : 0 }
        }
        return (text, (0..<(n * config.rows * config.cols)).map { _ in Int32(rng.int(below: config.codebookSize)) })
    }

    /// Every trainable parameter's gradient against central differences of the batch loss (the
    /// text tables widened and biases moved off zero, so that the finite steps see them), and a
    /// second backward adding the same again.
    func testBackwardMatchesFiniteDifferences() {
        var rng = RNG(seed: 21)
        let model = CaptionReader(config: Self.tiny, seed: 4)
        for p in model.store.params where p.name.hasSuffix(".bias") || ["textemb.weight", "textpos.weight", "rowemb.weight", "colemb.weight"].contains(p.name) {
            let v = model.store.value(p)
            for i in 0..<p.count { v[i] = (p.name.hasSuffix(".bias") ? 0.1 : 0.5) * rng.normal() }
        }
        let (text, tokens) = Self.randomBatch(Self.tiny, 4, &rng)
        let loss = { Double(model.loss(tokens: tokens, text: text, batch: 4)) }
        model.store.zeroGrads()
        model.loss(tokens: tokens, text: text, batch: 4, backward: true)
        let grads = model.store.params.map { Array(UnsafeBufferPointer(start: model.store.grad($0), count: $0.count)) }
        model.loss(tokens: tokens, text: text, batch: 4, backward: true)
        for (p, g) in zip(model.store.params, grads) {
            let again = model.store.grad(p)
            for i in 0..<p.count { XCTAssertEqual(again[i], 2 * g[i], accuracy: 1e-5 + 1e-4 * abs(g[i]), "\(p.name): backward overwrote") }
        }
        for (p, g) in zip(model.store.params, grads) where p.trainable {      // not the fixed code table
            checkGradient(p.name, values: model.store.value(p), analytic: g, rng: &rng, loss: loss)
        }
    }

    /// A word's prediction reads the whole picture and the words before it, never the words
    /// after; the likelihood of a caption is the sum of its words' and its end's.
    func testEachWordReadsThePictureAndTheWordsBefore() {
        var rng = RNG(seed: 2)
        let model = CaptionReader(config: Self.tiny, codes: (0..<36).map { _ in rng.normal() }, seed: 5)
        let tokens = (0..<16).map { _ in Int32(rng.int(below: 12)) }
        let text: [Int32] = [3, 1, 4, 1, 0], later: [Int32] = [3, 1, 6, 2, 0]     // the same first two words
        let v = Self.tiny.textVocabulary
        let a = model.forward(tokens: tokens, text: text, batch: 1).array, b = model.forward(tokens: tokens, text: later, batch: 1).array
        for j in 0..<(3 * v) { XCTAssertEqual(a[j], b[j], accuracy: 1e-6, "words 0-2 are read before the third word") }
        XCTAssertNotEqual(Array(a[(3 * v)...]), Array(b[(3 * v)...]))
        var other = tokens
        other[15] = (other[15] + 1) % 12                                            // the last cell
        let c = model.forward(tokens: other, text: text, batch: 1).array
        XCTAssertNotEqual(Array(a.prefix(v)), Array(c.prefix(v)), "the first word reads the last cell of the picture")
        // log p(caption) = the sum of each target's log-softmax: words 3 1 4 1, then the end (0).
        var expected: Float = 0
        for (j, target) in [3, 1, 4, 1, 0].enumerated() {
            let row = Array(a[(j * v)..<((j + 1) * v)]), mx = row.max()!
            expected += row[target] - mx - logf(row.map { expf($0 - mx) }.reduce(0, +))
        }
        XCTAssertEqual(model.logLikelihoods(tokens: tokens, text: text, batch: 1)[0], expected, accuracy: 1e-4)
    }

    /// On the reranker tests' patch task, pairs never seen (fresh noise and placement): the
    /// trained reader finds the captions' grids among 24 far above chance, its words cost far
    /// fewer bits, and the checkpoint resumes to the same model.
    func testTrainingPicksHeldOutPictures() throws {
        var rng = RNG(seed: 5)
        let train = (0..<2400).map { i in RerankerTests.patchPair(colour: i % 6, place: i / 6 % 4, &rng) }
        let heldout = (0..<24).map { i in RerankerTests.patchPair(colour: i % 6, place: i / 6, &rng) }
        let config = CaptionReaderConfig(codebookSize: 24, textVocabulary: RerankerTests.vocabulary.vocabularySize, textLength: 6,
                                         rows: 8, cols: 8, codeDim: 8, group: 2, width: 32, layers: 2, heads: 2)
        var options = CaptionReaderTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-caption-\(UUID()).ckpt").path)
        options.steps = 600
        options.batchSize = 24
        options.learningRate = 3e-3
        options.warmupSteps = 20
        options.validateEvery = 200
        var rngCodes = RNG(seed: 6)
        let codes = (0..<(24 * 8)).map { _ in rngCodes.normal() }
        let trainer = CaptionReaderTrainer(model: CaptionReader(config: config, codes: codes, seed: 1), text: RerankerTests.vocabulary, options: options,
                                           retrievalPairs: 24)
        let before = trainer.validate(heldout)
        var bits: [Float] = [], validations: [Int] = []
        try trainer.run(data: train, validation: heldout, progress: { bits.append($0.figures) }, validated: { step, _ in validations.append(step) })
        let after = trainer.validate(heldout)
        XCTAssertEqual(bits.count, 600)
        XCTAssertEqual(validations, [200, 400, 600])
        XCTAssertLessThan(before.textToImage, 0.25)
        XCTAssertGreaterThan(after.textToImage, 0.35, "caption to grid among 24 held-out pairs (chance 1 in 24)")
        XCTAssertLessThan(after.bitsPerWord, 0.25 * before.bitsPerWord)
        let resumed = CaptionReaderTrainer(model: CaptionReader(config: config, codes: codes, seed: 9), text: RerankerTests.vocabulary, options: options,
                                           retrievalPairs: 24)
        try resumed.resume(from: options.checkpointPath)
        XCTAssertEqual(resumed.step, 600)
        XCTAssertEqual(resumed.validate(heldout), after)
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    /// Its weights load as a reranker: scores are log p(prompt | grid), refused grids name the
    /// problem, the tokenizer check holds, and ranking orders candidates by those scores.
    func testWeightsScoreAsAReranker() throws {
        let tokenizer = try TokenizerModel.bundled()
        let text = TextTokenizer(training: TextModelTests.captions, length: 40)
        let config = CaptionReaderConfig(codebookSize: 1024, textVocabulary: text.vocabularySize, codeDim: 32, width: 16, layers: 1, heads: 2)
        var rng = RNG(seed: 3)
        let model = CaptionReader(config: config, codes: (0..<(1024 * 32)).map { _ in rng.normal() }, seed: 2)
        let bytes = CaptionReaderModels.exportWeights(model, text: text, name: "test", metadata: TokenizerRecord.metadata(tokenizer))
        let loaded = try RerankerModel(weights: bytes)
        guard case .captionReader(let reader) = loaded.reader else { return XCTFail("not read as a caption reader") }
        XCTAssertEqual(reader.config, config)
        XCTAssertNil(loaded.network)
        XCTAssertNoThrow(try loaded.check(tokenizer))
        let grids = (0..<3).map { _ in (0..<256).map { _ in Int32(rng.int(below: 1024)) } }
        let prompt = "a red circle above a blue square"
        let ids = text.encode(prompt).ids
        let expected = model.logLikelihoods(tokens: grids.flatMap { $0 }, text: grids.flatMap { _ in ids }, batch: 3)
        let scores = try loaded.score(prompt: prompt, grids: grids, images: [])
        for (s, e) in zip(scores, expected) { XCTAssertEqual(s, e, accuracy: 0.05 + 2e-3 * abs(e), "float16 weights score about the same") }
        XCTAssertThrowsError(try loaded.score(prompt: prompt, grids: [[1, 2, 3]], images: [])) { error in
            guard case GenerationError.badSize = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try loaded.score(prompt: prompt, grids: [[Int32](repeating: 1024, count: 256)], images: []))
        let checkpointKind = try CaptionReaderModels.load(weights: bytes)
        XCTAssertEqual(checkpointKind.text, text)
        // A text-to-image model's file is neither kind of reranker.
        let prior = TextImageModels.exportWeights(TextImageTransformer(config: TextImageConfig(codebookSize: 1024, textVocabulary: text.vocabularySize,
                                                                                               width: 16, layers: 1, heads: 2)),
                                                  text: text, name: "t", metadata: TokenizerRecord.metadata(tokenizer))
        XCTAssertThrowsError(try RerankerModel(weights: prior))
        let generator = try TextGenerator(codec: Codec(model: tokenizer), prior: TextPriorModel(weights: prior))
        let result = try generator.generate(prompt: prompt, count: 3, seed: 1)
        let (ranked, rankedScores) = try generator.ranked(result, by: loaded, prompt: prompt)
        let raw = try loaded.score(prompt: prompt, grids: result.grids, images: result.images)
        XCTAssertEqual(rankedScores, raw.sorted(by: >))
        XCTAssertEqual(ranked.grids[0], result.grids[raw.firstIndex(of: raw.max()!)!])
        XCTAssertEqual(RerankBasis.standard(for: generator, reranker: loaded), .prompt)
        XCTAssertThrowsError(try generator.ranked(result, by: loaded, prompt: prompt, against: .plan), "a caption reader compares no pictures")
    }
}
