import Foundation
import ImageIO
import Models
import NN
import Shapes
import TextToImage
import VQZ
import XCTest

/// The text tokenizer and the text-to-image transformer: unknown words, causality, learning,
/// sampling determinism and guidance, the weights file.
final class TextModelTests: XCTestCase {
    static let captions = (0..<200).map { ShapesDataset.record(index: $0, seed: 3, split: .train).caption }

    func testTokenizerNamesUnknownWordsAndKeepsKnownOnes() {
        let text = TextTokenizer(training: Self.captions, length: 12)
        let e = text.encode("A small RED dog above a large blue house!")
        XCTAssertEqual(e.unknown, ["dog", "house"])
        XCTAssertEqual(text.decode(e.ids), "a small red above a large blue")
        XCTAssertEqual(e.ids.count, 12)
        XCTAssertEqual(e.truncated, 0)
        XCTAssertEqual(text.encode("").ids, text.empty)
        let long = text.encode(Array(repeating: "red", count: 15).joined(separator: " "))
        XCTAssertEqual(long.truncated, 3)
        XCTAssertEqual(try TextTokenizer(json: text.json), text)
    }

    static let tiny = TextImageConfig(codebookSize: 16, textVocabulary: 6, textLength: 3, width: 16, layers: 2, heads: 2, rows: 3, cols: 4)

    func testImageLogitsDependOnTheTextAndOnEarlierTokensOnly() {
        let model = TextImageTransformer(config: Self.tiny, seed: 2)
        var rng = RNG(seed: 9)
        let t = 12, k = 16
        let text: [Int32] = [1, 4, 2]
        let tokens = (0..<t).map { _ in Int32(rng.int(below: k)) }
        let base = model.forward(text: text, tokens: tokens, batch: 1).array
        for j in [0, 5, 11] {
            var changed = tokens
            changed[j] = (changed[j] + 3) % Int32(k)
            let other = model.forward(text: text, tokens: changed, batch: 1).array
            for p in 0..<t {
                let differs = (0..<k).contains { abs(base[p * k + $0] - other[p * k + $0]) > 1e-6 }
                if p <= j { XCTAssertFalse(differs, "token \(j) changed the logits at \(p)") }
                if p == j + 1 { XCTAssertTrue(differs, "token \(j) does not reach position \(p)") }
            }
        }
        let otherText = model.forward(text: [3, 4, 2], tokens: tokens, batch: 1).array
        XCTAssertTrue((0..<k).contains { abs(base[$0] - otherText[$0]) > 1e-6 }, "the first image token ignores the text")
    }

    /// Texts that name a pattern: the model must learn to draw the named one. The loss falls
    /// well below that of an unconditional model of the mixture.
    func testTrainingOnCaptionsLowersTheLoss() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 1)
        let vocab = TextTokenizer(words: ["a", "b", "c", "d", "e"], length: 3)
        let patterns: [[Int32]] = (0..<3).map { p in (0..<12).map { Int32(($0 * (p + 1) + p) % 16) } }
        let pairs = (0..<3).map { p in TextImagePair(text: [Int32(p + 1), 5, 0], tokens: patterns[p]) }
        var options = TextImageTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-text-\(UUID()).ckpt").path)
        options.steps = 150
        options.batchSize = 6
        options.learningRate = 3e-3
        options.warmupSteps = 10
        let trainer = TextImageTrainer(model: model, text: vocab, options: options, captionDropout: 0.1)
        let before = trainer.validate(pairs).captioned
        var losses: [Float] = []
        try trainer.run(data: pairs, progress: { losses.append($0.figures) })
        let after = trainer.validate(pairs)
        XCTAssertEqual(losses.count, 150)
        XCTAssertGreaterThan(before, 3.5)
        XCTAssertLessThan(after.captioned, 0.5, "bits per token with captions after training")
        // Without the caption the three patterns cannot be told apart: about log2(3) bits at the first positions.
        XCTAssertGreaterThan(after.empty, after.captioned + 0.05)
        // Greedy sampling with the caption draws the named pattern.
        var rngs = [RNG(seed: 1), RNG(seed: 2)]
        let drawn = model.sample(text: pairs[2].text + pairs[0].text, batch: 2, guidance: 1, options: SamplingOptions(temperature: 0), rngs: &rngs).tokens
        XCTAssertEqual(Array(drawn[0..<12]), patterns[2])
        XCTAssertEqual(Array(drawn[12..<24]), patterns[0])
        // The checkpoint resumes where the run stopped.
        let resumed = TextImageTrainer(model: TextImageTransformer(config: Self.tiny, seed: 7), text: vocab, options: options)
        try resumed.resume(from: options.checkpointPath)
        XCTAssertEqual(resumed.step, 150)
        XCTAssertEqual(resumed.validate(pairs).captioned, after.captioned, accuracy: 1e-9)
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    /// Blocks added to a trained model start as the identity: the deeper model scores every
    /// position exactly as the trained one did, and training then moves the new blocks.
    func testDeepenedModelStartsAsTheTrainedOneThenLearns() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 5)
        let deeper = model.deepened(by: 2, seed: 6)
        XCTAssertEqual(deeper.config.layers, Self.tiny.layers + 2)
        XCTAssertGreaterThan(deeper.store.trainableCount, model.store.trainableCount)
        let text: [Int32] = [1, 4, 2, 3, 0, 0]
        let tokens = (0..<24).map { Int32(($0 * 7) % 16) }
        XCTAssertEqual(deeper.forward(text: text, tokens: tokens, batch: 2).array, model.forward(text: text, tokens: tokens, batch: 2).array)

        var options = TextImageTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-deep-\(UUID()).ckpt").path)
        options.steps = 5
        options.batchSize = 2
        options.warmupSteps = 1
        let pairs = [TextImagePair(text: [1, 4, 2], tokens: Array(tokens[0..<12])), TextImagePair(text: [3, 0, 0], tokens: Array(tokens[12..<24]))]
        try TextImageTrainer(model: deeper, text: TextTokenizer(words: ["a", "b", "c", "d", "e"], length: 3), options: options).run(data: pairs, progress: { _ in })
        let added = try XCTUnwrap(deeper.store.param(named: "block\(Self.tiny.layers + 1).fc2.weight"))
        XCTAssertTrue(UnsafeBufferPointer(start: deeper.store.value(added), count: added.count).contains { $0 != 0 }, "the added block's output stayed zero")
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    /// The loss split by region averages back to the whole: over the marked tokens and the rest,
    /// weighted by their counts, it is the validation's bits per token; unmarked pairs give none.
    func testValidationSplitsTheLossBetweenShapesAndGround() {
        let model = TextImageTransformer(config: Self.tiny, seed: 8)
        let tokens = (0..<24).map { Int32(($0 * 5 + 1) % 16) }
        let marks: [Float] = (0..<12).map { $0 % 3 == 0 ? 4 : 1 }       // 4 of 12 tokens over a shape
        let pairs = [TextImagePair(text: [1, 4, 2], tokens: Array(tokens[0..<12]), tokenWeights: marks),
                     TextImagePair(text: [3, 0, 0], tokens: Array(tokens[12..<24]), tokenWeights: marks)]
        let options = TextImageTrainer.defaults(checkpointPath: "unused")
        let trainer = TextImageTrainer(model: model, text: TextTokenizer(words: ["a", "b", "c", "d", "e"], length: 3), options: options)
        let v = trainer.validate(pairs)
        guard let shapes = v.overShapes, let ground = v.overGround else { return XCTFail("no split for marked pairs") }
        XCTAssertEqual((4 * shapes + 8 * ground) / 12, v.captioned, accuracy: 1e-4)
        XCTAssertNotEqual(shapes, ground)
        let unmarked = trainer.validate(pairs.map { TextImagePair(text: $0.text, tokens: $0.tokens) })
        XCTAssertNil(unmarked.overShapes)
        XCTAssertNil(unmarked.overGround)
        XCTAssertEqual(unmarked.captioned, v.captioned)
    }

    /// Greedy sampling (the text prefix in one pass, then the cache) picks at every position the
    /// token the training forward scores highest given the same text and the tokens drawn before.
    func testGreedySamplingFollowsTheForwardPass() {
        let model = TextImageTransformer(config: Self.tiny, seed: 9)
        let text: [Int32] = [2, 4, 1, 3, 0, 0]
        var rngs = [RNG(seed: 1), RNG(seed: 2)]
        let drawn = model.sample(text: text, batch: 2, guidance: 1, options: SamplingOptions(temperature: 0), rngs: &rngs).tokens
        let logits = model.forward(text: text, tokens: drawn, batch: 2)
        let k = Self.tiny.codebookSize
        for r in 0..<drawn.count {
            let row = Array(logits.array[(r * k)..<((r + 1) * k)])
            XCTAssertEqual(Int(drawn[r]), row.indices.max { row[$0] < row[$1] }, "position \(r)")
        }
    }

    func testSamplingIsDeterministicAndGuidanceZeroIsTheEmptyCaption() {
        let model = TextImageTransformer(config: Self.tiny, seed: 4)
        let text: [Int32] = [1, 2, 0, 3, 3, 3]
        func draw(_ t: [Int32], _ g: Float) -> [Int32] {
            var rngs = [RNG(seed: 10), RNG(seed: 11)]
            return model.sample(text: t, batch: 2, guidance: g, options: SamplingOptions(temperature: 1), rngs: &rngs).tokens
        }
        XCTAssertEqual(draw(text, 3), draw(text, 3))
        XCTAssertEqual(draw(text, 0), draw([Int32](repeating: 0, count: 6), 1))
        XCTAssertEqual(draw(text, 1).count, 24)
    }

    func testWeightsCarryTheTextTokenizer() throws {
        let text = TextTokenizer(training: Self.captions, length: 40)
        let config = TextImageConfig(codebookSize: 1024, textVocabulary: text.vocabularySize, textLength: 40, width: 16, layers: 1, heads: 2)
        let model = TextImageTransformer(config: config, seed: 3)
        let tokenizer = try TokenizerModel.bundled()
        let bytes = TextImageModels.exportWeights(model, text: text, name: "test", metadata: TokenizerRecord.metadata(tokenizer))
        let loaded = try TextPriorModel(weights: bytes)
        XCTAssertEqual(loaded.text, text)
        XCTAssertEqual(loaded.network.config, config)
        // Stored with sorted keys, so a weights file's bytes depend on the model alone.
        let keys = config.json.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertEqual(keys.count, 12)
        XCTAssertNoThrow(try loaded.check(tokenizer))
        XCTAssertThrowsError(try TextPriorModel(weights: Priors.exportWeights(Priors.make(PriorConfig(kind: .transformer, width: 16, layers: 1, heads: 2)), name: "p")))
        // The generator draws every candidate of a prompt in one batch and reports unknown words.
        let generator = try TextGenerator(codec: Codec(model: tokenizer), prior: loaded)
        let result = try generator.generate(prompt: "a red zebra", count: 2, seed: 1, guidance: 2)
        XCTAssertEqual(result.prompt.unknown, ["zebra"])
        XCTAssertEqual(result.images.count, 2)
        XCTAssertEqual([result.images[0].width, result.images[0].height], [128, 128])
        XCTAssertNotEqual(result.grids[0], result.grids[1])
        XCTAssertEqual(try generator.generate(prompt: "a red zebra", count: 2, seed: 1, guidance: 2).grids, result.grids)
    }
}
