import Foundation
import Generation
import ImageIO
import Models
import NN
import TextToImage
import VQZ
import XCTest

/// The contrastive reranker: its backward against finite differences, learning to retrieve
/// held-out pairs, checkpoints, the weights file and its tokenizer check, ranking candidates.
final class RerankerTests: XCTestCase {
    static let tiny = RerankerConfig(codebookSize: 12, textVocabulary: 7, textLength: 5, rows: 4, cols: 4,
                                     width: 8, layers: 1, heads: 2, channels: 6, embedding: 5)

    /// A random batch of n captions (words, then padding; one empty) and grids for `config`.
    static func randomBatch(_ config: RerankerConfig, _ n: Int, _ rng: inout RNG) -> (text: [Int32], tokens: [Int32]) {
        var text: [Int32] = []
        for b in 0..<n {
            let words = b == 0 ? 0 : 1 + rng.int(below: config.textLength)
            text += (0..<config.textLength).map { $0 < words ? Int32(1 + rng.int(below: config.textVocabulary - 1)) : 0 }
        }
        let tokens = (0..<(n * config.rows * config.cols)).map { _ in Int32(rng.int(below: config.codebookSize)) }
        return (text, tokens)
    }

    /// The tiny model reading 8 x 8 pictures (2 x 2 pixels a cell) instead of token grids.
    static let tinyPictures: RerankerConfig = {
        var config = tiny
        config.pictureCell = 2
        return config
    }()

    /// n random pictures for a model that reads them.
    static func randomPictures(_ config: RerankerConfig, _ n: Int, _ rng: inout RNG) -> [UInt8] {
        let (w, h) = config.pictureSize!
        return (0..<(n * w * h * 3)).map { _ in UInt8(rng.int(below: 256)) }
    }

    /// A tiny model whose gradients finite differences can check. Biases start at zero: move
    /// them. The text tables start at 0.02, so small that the first LayerNorm is far from linear
    /// over a finite difference's step: widen them.
    static func checkableModel(seed: UInt64, logScale: Float, config: RerankerConfig = tiny, rng: inout RNG) -> Reranker {
        let model = Reranker(config: config, seed: seed)
        model.store.value(model.logScale)[0] = logScale
        for p in model.store.params where p.name.hasSuffix(".bias") || ["textemb.weight", "textpos.weight"].contains(p.name) {
            let v = model.store.value(p)
            for i in 0..<p.count { v[i] = (p.name.hasSuffix(".bias") ? 0.1 : 0.5) * rng.normal() }
        }
        return model
    }

    /// Every parameter's gradient (encoders, projections, the temperature) against central
    /// differences of the batch loss, and a second backward adding the same again.
    func testBackwardMatchesFiniteDifferences() {
        for logScale: Float in [2, 5] {         // 5 is above the clamp at log 100: no gradient then
            var rng = RNG(seed: 11)
            let model = Self.checkableModel(seed: 3, logScale: logScale, rng: &rng)
            let (text, tokens) = Self.randomBatch(Self.tiny, 4, &rng)
            let loss = { Double(model.loss(text: text, images: .tokens(tokens), batch: 4)) }
            model.store.zeroGrads()
            model.loss(text: text, images: .tokens(tokens), batch: 4, backward: true)
            let grads = model.store.params.map { Array(UnsafeBufferPointer(start: model.store.grad($0), count: $0.count)) }
            model.loss(text: text, images: .tokens(tokens), batch: 4, backward: true)
            for (p, g) in zip(model.store.params, grads) {
                let again = model.store.grad(p)
                for i in 0..<p.count { XCTAssertEqual(again[i], 2 * g[i], accuracy: 1e-5 + 1e-4 * abs(g[i]), "\(p.name): backward overwrote") }
            }
            for (p, g) in zip(model.store.params, grads) where p.trainable {   // not the fixed code table
                if p.name == model.logScale.name && logScale > Reranker.maxLogScale {
                    XCTAssertEqual(g[0], 0, "the clamped temperature has no gradient")
                    continue
                }
                checkGradient("\(p.name) at s = \(logScale)", values: model.store.value(p), analytic: g, rng: &rng, loss: loss)
            }
        }
    }

    /// A model that reads pictures: its gradients match finite differences too, and each cell's
    /// features are that cell's pixels (a picture that differs in one cell moves only the
    /// features of that cell).
    func testPictureReadingBackwardMatchesFiniteDifferences() {
        var rng = RNG(seed: 14)
        let model = Self.checkableModel(seed: 6, logScale: 2, config: Self.tinyPictures, rng: &rng)
        XCTAssertFalse(model.store.params.contains { $0.name.hasPrefix("tokemb") }, "no code table in a model that reads pictures")
        let (text, _) = Self.randomBatch(Self.tiny, 4, &rng)
        let pictures = Self.randomPictures(Self.tinyPictures, 4, &rng)
        let loss = { Double(model.loss(text: text, images: .pictures(pictures), batch: 4)) }
        model.store.zeroGrads()
        model.loss(text: text, images: .pictures(pictures), batch: 4, backward: true)
        for p in model.store.params where p.trainable && !(p.name == model.logScale.name) {
            let g = Array(UnsafeBufferPointer(start: model.store.grad(p), count: p.count))
            checkGradient("\(p.name) reading pictures", values: model.store.value(p), analytic: g, rng: &rng, loss: loss)
        }
        // Cell (row 1, col 2) of an 8 x 8 picture with 2 x 2 cells is pixels x 4-5, y 2-3.
        var changed = Array(pictures.prefix(8 * 8 * 3))
        changed[(3 * 8 + 5) * 3 + 1] &+= 9
        let a = model.cellFeatures(.pictures(Array(pictures.prefix(8 * 8 * 3))), batch: 1).array
        let b = model.cellFeatures(.pictures(changed), batch: 1).array
        let f = Self.tinyPictures.cellFeatures
        let moved = Set((0..<a.count).filter { a[$0] != b[$0] }.map { $0 / f })
        XCTAssertEqual(moved, [1 * 4 + 2])
        XCTAssertEqual(b[(1 * 4 + 2) * f + (1 * 2 + 1) * 3 + 1] - a[(1 * 4 + 2) * f + (1 * 2 + 1) * 3 + 1], 9 / 255, accuracy: 1e-6)
    }

    /// Pictures are scaled down to what the model reads by averaging each block of pixels.
    func testPicturesAreScaledDownByBlockAverages() {
        var config = Self.tinyPictures
        (config.rows, config.cols, config.pictureCell) = (1, 1, 2)      // reads 2 x 2 pictures
        let model = Reranker(config: config, seed: 1)
        let rgb = (0..<(4 * 4 * 3)).map { UInt8(($0 * 7) % 256) }
        let small = model.scaledToRead(rgb, width: 4, height: 4)
        XCTAssertEqual(small.count, 2 * 2 * 3)
        for y in 0..<2 {
            for x in 0..<2 {
                for c in 0..<3 {
                    let block = [(0, 0), (0, 1), (1, 0), (1, 1)].map { Int(rgb[((2 * y + $0.0) * 4 + 2 * x + $0.1) * 3 + c]) }
                    XCTAssertEqual(Int(small[(y * 2 + x) * 3 + c]), Int((Double(block.reduce(0, +)) / 4).rounded()))
                }
            }
        }
        XCTAssertEqual(model.scaledToRead(Array(rgb.prefix(12)), width: 2, height: 2), Array(rgb.prefix(12)), "already the size it reads")
    }

    /// With near misses (captions that match no grid) in the batch, the gradients still match
    /// finite differences, and a near miss close to a grid's own caption costs more than one
    /// far from it.
    func testNearMissesInTheLoss() {
        var rng = RNG(seed: 12)
        let model = Self.checkableModel(seed: 4, logScale: 2, rng: &rng)
        let (text, tokens) = Self.randomBatch(Self.tiny, 3, &rng)
        let (misses, _) = Self.randomBatch(Self.tiny, 2, &rng)
        let batch = text + misses
        let loss = { Double(model.loss(text: batch, images: .tokens(tokens), batch: 3, nearMisses: 2)) }
        model.store.zeroGrads()
        model.loss(text: batch, images: .tokens(tokens), batch: 3, nearMisses: 2, backward: true)
        for p in model.store.params where p.trainable {
            let g = Array(UnsafeBufferPointer(start: model.store.grad(p), count: p.count))
            checkGradient("\(p.name) with near misses", values: model.store.value(p), analytic: g, rng: &rng, loss: loss)
        }
        // Unit vectors: a grid's own caption, a near miss almost on it and one far away.
        let grid = Tensor([1, 2], [1, 0]), own: [Float] = [1, 0]
        let near = contrastiveLoss(Tensor([2, 2], own + [0.9, 0.436]), grid, logScale: 2).loss
        let far = contrastiveLoss(Tensor([2, 2], own + [-1, 0]), grid, logScale: 2).loss
        let none = contrastiveLoss(Tensor([1, 2], own), grid, logScale: 2).loss
        XCTAssertEqual(none, 0, accuracy: 1e-6, "one pair and no negatives: nothing to tell apart")
        XCTAssertGreaterThan(near, far)
        XCTAssertGreaterThan(far, none)
    }

    /// Picture near misses (grids that match no caption) too, alone and with caption near misses:
    /// the gradients match finite differences, and a caption pays more for a near miss close to
    /// its own grid than for one far from it.
    func testPictureNearMissesInTheLoss() {
        var rng = RNG(seed: 13)
        let model = Self.checkableModel(seed: 5, logScale: 2, rng: &rng)
        let (text, tokens) = Self.randomBatch(Self.tiny, 3, &rng)
        let (misses, pictureMisses) = Self.randomBatch(Self.tiny, 2, &rng)
        for captionMisses in [0, 2] {
            let batch = text + misses.prefix(captionMisses * Self.tiny.textLength), grids = tokens + pictureMisses
            let loss = { Double(model.loss(text: batch, images: .tokens(grids), batch: 3, nearMisses: captionMisses, pictureNearMisses: 2)) }
            model.store.zeroGrads()
            model.loss(text: batch, images: .tokens(grids), batch: 3, nearMisses: captionMisses, pictureNearMisses: 2, backward: true)
            for p in model.store.params where p.trainable {
                let g = Array(UnsafeBufferPointer(start: model.store.grad(p), count: p.count))
                checkGradient("\(p.name) with \(captionMisses) caption and 2 picture near misses", values: model.store.value(p),
                              analytic: g, rng: &rng, loss: loss)
            }
        }
        let caption = Tensor([1, 2], [1, 0]), own: [Float] = [1, 0]
        let near = contrastiveLoss(caption, Tensor([2, 2], own + [0.9, 0.436]), logScale: 2).loss
        let far = contrastiveLoss(caption, Tensor([2, 2], own + [-1, 0]), logScale: 2).loss
        XCTAssertGreaterThan(near, far)
        XCTAssertGreaterThan(far, contrastiveLoss(caption, Tensor([1, 2], own), logScale: 2).loss)
    }

    /// Central differences on up to 60 entries; fails when the relative error of the gradient
    /// vector is above 2% or when the gradient is zero (the check would prove nothing).
    // Synthetic pairs: "a C patch at P" for six colours and four places; the grid is noise
    // (tokens 12..<24) with a 3 x 3 patch of colour C's two tokens in quadrant P.
    static let colours = ["red", "orange", "yellow", "green", "blue", "purple"], places = ["left", "right", "top", "bottom"]
    static let vocabulary = TextTokenizer(words: ["a", "patch", "at"] + colours + places, length: 6)
    static let patchConfig = RerankerConfig(codebookSize: 24, textVocabulary: vocabulary.vocabularySize, textLength: 6, rows: 8, cols: 8,
                                            width: 16, layers: 1, heads: 2, channels: 16, embedding: 16)

    static func patchPair(colour: Int, place: Int, _ rng: inout RNG) -> TextImagePair {
        var grid = (0..<64).map { _ in Int32(12 + rng.int(below: 12)) }
        let (r0, c0) = [(2 + rng.int(below: 2), rng.int(below: 2)), (2 + rng.int(below: 2), 4 + rng.int(below: 2)),
                        (rng.int(below: 2), 2 + rng.int(below: 3)), (4 + rng.int(below: 2), 2 + rng.int(below: 3))][place]
        for r in r0..<(r0 + 3) { for c in c0..<(c0 + 3) { grid[r * 8 + c] = Int32(2 * colour + rng.int(below: 2)) } }
        return TextImagePair(text: vocabulary.encode("a \(colours[colour]) patch at \(places[place])").ids, tokens: grid)
    }

    /// On pairs it never saw (fresh noise and placement, one per caption), the trained model
    /// finds each caption's grid among 24 far above chance (1 in 24), and the checkpoint resumes.
    func testTrainingRetrievesHeldOutPairs() throws {
        var rng = RNG(seed: 5)
        let train = (0..<480).map { i in Self.patchPair(colour: i % 6, place: i / 6 % 4, &rng) }
        let heldout = (0..<24).map { i in Self.patchPair(colour: i % 6, place: i / 6, &rng) }
        var options = RerankerTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-rerank-\(UUID()).ckpt").path)
        options.steps = 300
        options.batchSize = 24
        options.learningRate = 3e-3
        options.warmupSteps = 20
        options.validateEvery = 100
        let trainer = RerankerTrainer(model: Reranker(config: Self.patchConfig, seed: 1), text: Self.vocabulary, options: options)
        let before = trainer.validate(heldout)
        var losses: [Float] = [], validations: [Int] = []
        try trainer.run(data: train, validation: heldout, progress: { losses.append($0.figures.loss) }, validated: { step, _ in validations.append(step) })
        let after = trainer.validate(heldout)
        XCTAssertEqual(losses.count, 300)
        XCTAssertEqual(validations, [100, 200, 300])
        XCTAssertLessThan(before.textToImage, 0.25)
        XCTAssertGreaterThan(after.textToImage, 0.6, "caption to grid retrieval among 24 held-out pairs")
        XCTAssertGreaterThan(after.imageToText, 0.6, "grid to caption retrieval among 24 held-out pairs")
        XCTAssertLessThan(losses.suffix(20).reduce(0, +) / 20, 0.5 * log(24), "the batch loss falls well below log N")
        let resumed = RerankerTrainer(model: Reranker(config: Self.patchConfig, seed: 9), text: Self.vocabulary, options: options)
        try resumed.resume(from: options.checkpointPath)
        XCTAssertEqual(resumed.step, 300)
        XCTAssertEqual(resumed.validate(heldout), after)
        XCTAssertEqual(resumed.model.scale, trainer.model.scale)
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    // The same task in pixels, and the shape told too: "a C S at P" for three colours, a square
    // or a cross, four places; 16 x 16 pictures of gray noise with a 5 x 5 square or plus of
    // colour C in quadrant P. Every pair of kinds differs in what a grid cell's pixels show.
    static let shapeWords = ["square", "cross"]
    static let pictureVocabulary = TextTokenizer(words: ["a", "at"] + colours.prefix(3) + shapeWords + places, length: 5)
    static let pictureConfig = RerankerConfig(codebookSize: 2, textVocabulary: pictureVocabulary.vocabularySize, textLength: 5,
                                              rows: 8, cols: 8, width: 16, layers: 1, heads: 2, pictureCell: 2, channels: 16, embedding: 16)

    static func shapePair(colour: Int, shape: Int, place: Int, _ rng: inout RNG) -> TextImagePair {
        let rgb: [[UInt8]] = [[220, 40, 40], [230, 140, 30], [230, 220, 40]]
        var picture = (0..<(16 * 16)).flatMap { _ in [UInt8](repeating: UInt8(100 + rng.int(below: 40)), count: 3) }
        let (y0, x0) = [(5 + rng.int(below: 3), rng.int(below: 3)), (5 + rng.int(below: 3), 10 + rng.int(below: 2)),
                        (rng.int(below: 3), 5 + rng.int(below: 3)), (10 + rng.int(below: 2), 5 + rng.int(below: 3))][place]
        for y in 0..<5 {
            for x in 0..<5 where shape == 0 || x == 2 || y == 2 {
                for c in 0..<3 { picture[((y0 + y) * 16 + x0 + x) * 3 + c] = rgb[colour][c] }
            }
        }
        return TextImagePair(text: pictureVocabulary.encode("a \(colours[colour]) \(shapeWords[shape]) at \(places[place])").ids,
                             tokens: [Int32](repeating: 0, count: 64), picture: picture)
    }

    /// A reranker that reads pictures learns the shapes, colours and places of pairs it never
    /// saw: among 24 held-out pairs (one of each kind) it finds each caption's picture far above
    /// chance, and the checkpoint resumes to the same model.
    func testTrainingOnPicturesRetrievesHeldOutPairs() throws {
        var rng = RNG(seed: 8)
        func kind(_ i: Int) -> (colour: Int, shape: Int, place: Int) { (i % 3, i / 3 % 2, i / 6 % 4) }
        let train = (0..<480).map { i in Self.shapePair(colour: kind(i).colour, shape: kind(i).shape, place: kind(i).place, &rng) }
        let heldout = (0..<24).map { i in Self.shapePair(colour: kind(i).colour, shape: kind(i).shape, place: kind(i).place, &rng) }
        var options = RerankerTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-rerank-\(UUID()).ckpt").path)
        options.steps = 300
        options.batchSize = 24
        options.learningRate = 3e-3
        options.warmupSteps = 20
        let trainer = RerankerTrainer(model: Reranker(config: Self.pictureConfig, seed: 1), text: Self.pictureVocabulary, options: options)
        let before = trainer.validate(heldout)
        try trainer.run(data: train)
        let after = trainer.validate(heldout)
        XCTAssertLessThan(before.textToImage, 0.25)
        XCTAssertGreaterThan(after.textToImage, 0.6, "caption to picture retrieval among 24 held-out pairs")
        XCTAssertGreaterThan(after.imageToText, 0.6, "picture to caption retrieval among 24 held-out pairs")
        let resumed = RerankerTrainer(model: Reranker(config: Self.pictureConfig, seed: 9), text: Self.pictureVocabulary, options: options)
        try resumed.resume(from: options.checkpointPath)
        XCTAssertEqual(resumed.validate(heldout), after)
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    /// A 200-step trainer of the patch model, batches of 24, checkpointing to a temporary file.
    static func shortPatchTrainer(seed: UInt64) -> (RerankerTrainer, TrainingOptions) {
        var options = RerankerTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-rerank-\(UUID()).ckpt").path)
        options.steps = 200
        options.batchSize = 24
        options.learningRate = 3e-3
        options.warmupSteps = 20
        return (RerankerTrainer(model: Reranker(config: patchConfig, seed: seed), text: vocabulary, options: options), options)
    }

    /// Trained with near misses (the same caption with another colour), held-out grids rank
    /// their own caption over its near miss; validation without near misses does not report it.
    func testTrainingWithNearMisses() throws {
        var rng = RNG(seed: 6)
        let kinds = (0..<480).map { (colour: $0 % 6, place: $0 / 6 % 4) }
        let train = kinds.map { Self.patchPair(colour: $0.colour, place: $0.place, &rng) }
        let heldout = (0..<24).map { Self.patchPair(colour: $0 % 6, place: $0 / 6, &rng) }
        func nearMiss(_ colour: Int, _ place: Int, _ rng: inout RNG) -> NearMissCaptions {
            let other = (colour + 1 + rng.int(below: 5)) % 6
            return NearMissCaptions(caption: Self.vocabulary.encode("a \(Self.colours[colour]) patch at \(Self.places[place])").ids,
                                    nearMiss: Self.vocabulary.encode("a \(Self.colours[other]) patch at \(Self.places[place])").ids)
        }
        let (trainer, options) = Self.shortPatchTrainer(seed: 2)
        trainer.nearMisses = { i, rng in nearMiss(kinds[i].colour, kinds[i].place, &rng) }
        var validationRNG = RNG(seed: 3)
        let misses = (0..<24).map { nearMiss($0 % 6, $0 / 6, &validationRNG) }
        try trainer.run(data: train)
        XCTAssertNil(trainer.validate(heldout).nearMiss)
        let after = try XCTUnwrap(trainer.validate(heldout, nearMisses: misses).nearMiss)
        XCTAssertGreaterThanOrEqual(after, 0.9, "held-out grids rank their caption over its near miss")
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    /// Trained with picture near misses (the caption's patch in another place), held-out captions
    /// rank their own grid over such a grid far above chance (the untrained model is near it);
    /// validation without them does not report it.
    func testTrainingWithPictureNearMisses() throws {
        var rng = RNG(seed: 7)
        let kinds = (0..<480).map { (colour: $0 % 6, place: $0 / 6 % 4) }
        func elsewhere(_ kind: (colour: Int, place: Int), _ rng: inout RNG) -> [Int32] {
            Self.patchPair(colour: kind.colour, place: (kind.place + 1 + rng.int(below: 3)) % 4, &rng).tokens
        }
        let train = kinds.map { Self.patchPair(colour: $0.colour, place: $0.place, &rng) }
        let heldoutKinds = (0..<24).map { (colour: $0 % 6, place: $0 / 6) }
        let heldout = heldoutKinds.map { Self.patchPair(colour: $0.colour, place: $0.place, &rng) }
        let (trainer, options) = Self.shortPatchTrainer(seed: 3)
        trainer.pictureNearMisses = kinds.map { elsewhere($0, &rng) }
        let misses = heldoutKinds.map { elsewhere($0, &rng) }
        let before = try XCTUnwrap(trainer.validate(heldout, pictureNearMisses: misses).pictureNearMiss)
        try trainer.run(data: train)
        XCTAssertNil(trainer.validate(heldout).pictureNearMiss)
        let after = try XCTUnwrap(trainer.validate(heldout, pictureNearMisses: misses).pictureNearMiss)
        XCTAssertLessThanOrEqual(before, 0.75, "untrained, about chance (1/2)")
        XCTAssertGreaterThanOrEqual(after, 0.8, "held-out captions rank their grid over its near miss")
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    func testWeightsRoundTripAndTheTokenizerCheck() throws {
        let tokenizer = try TokenizerModel.bundled()
        let text = TextTokenizer(training: TextModelTests.captions, length: 40)
        let config = RerankerConfig(codebookSize: 1024, textVocabulary: text.vocabularySize, width: 16, layers: 1, heads: 2, channels: 8, embedding: 8)
        let model = Reranker(config: config, seed: 2)
        model.store.value(model.logScale)[0] = 3.25
        let bytes = RerankerModels.exportWeights(model, text: text, name: "test", metadata: TokenizerRecord.metadata(tokenizer))
        let loaded = try RerankerModel(weights: bytes)
        XCTAssertEqual(loaded.text, text)
        XCTAssertEqual(loaded.network?.config, config)
        XCTAssertEqual(loaded.network?.scale, model.scale)
        XCTAssertNoThrow(try loaded.check(tokenizer))
        var rng = RNG(seed: 4)
        let grids = (0..<3).map { _ in (0..<256).map { _ in Int32(rng.int(below: 1024)) } }
        let prompt = "a red circle above a blue square"
        let expected = model.similarities(text: text.encode(prompt).ids, captions: 1, images: .tokens(grids.flatMap { $0 }), count: 3)
        let scores = try loaded.score(prompt: prompt, grids: grids, images: [])
        for (s, e) in zip(scores, expected) { XCTAssertEqual(s, e, accuracy: 2e-3, "float16 weights score about the same") }
        XCTAssertThrowsError(try loaded.score(prompt: prompt, grids: [[1, 2, 3]], images: []))
        // Weights for another tokenizer's tokens, or with no tokenizer recorded, are refused.
        let other = [TokenizerRecord.nameKey: "other", TokenizerRecord.digestKey: String(repeating: "ab", count: ModelFingerprint.digestSize)]
        let foreign = try RerankerModel(weights: RerankerModels.exportWeights(model, text: text, name: "test", metadata: other))
        XCTAssertThrowsError(try foreign.check(tokenizer)) { error in
            guard case GenerationError.rerankerTokenizerMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try RerankerModel(weights: RerankerModels.exportWeights(model, text: text, name: "test")))
        // Another model's weights are not a reranker.
        let prior = TextImageModels.exportWeights(TextImageTransformer(config: TextImageConfig(codebookSize: 1024, textVocabulary: text.vocabularySize,
                                                                                               width: 16, layers: 1, heads: 2)),
                                                  text: text, name: "t", metadata: TokenizerRecord.metadata(tokenizer))
        XCTAssertThrowsError(try RerankerModel(weights: prior)) { error in
            guard case ModelError.wrongKind = error else { return XCTFail("\(error)") }
        }
        // Candidates of a prompt come back best first, pictures and grids together.
        let generator = try TextGenerator(codec: Codec(model: tokenizer), prior: TextPriorModel(weights: prior))
        let result = try generator.generate(prompt: prompt, count: 3, seed: 1)
        let (ranked, rankedScores) = try generator.ranked(result, by: loaded, prompt: prompt)
        let raw = try loaded.score(prompt: prompt, grids: result.grids, images: result.images)
        XCTAssertEqual(rankedScores, raw.sorted(by: >))
        XCTAssertEqual(ranked.grids[0], result.grids[raw.firstIndex(of: raw.max()!)!])
        XCTAssertEqual(Set(ranked.grids.map { $0.description }), Set(result.grids.map { $0.description }))
        for (image, grid) in zip(ranked.images, ranked.grids) {
            XCTAssertEqual(image, result.images[result.grids.firstIndex(of: grid)!])
        }
        // A reranker that reads pictures: its file keeps that, it scores the candidates' pictures
        // scaled down (not their grids), and a picture that does not scale to its size is refused.
        var pictureConfig = config
        pictureConfig.pictureCell = 4
        let reader = Reranker(config: pictureConfig, seed: 3)
        let readerFile = RerankerModels.exportWeights(reader, text: text, name: "test", metadata: TokenizerRecord.metadata(tokenizer))
        let loadedReader = try RerankerModel(weights: readerFile)
        XCTAssertEqual(loadedReader.network?.config, pictureConfig)
        let small = result.images.map { reader.scaledToRead($0.withChannels(3).samples8, width: 128, height: 128) }
        XCTAssertEqual(small[0].count, 64 * 64 * 3)
        let direct = reader.similarities(text: text.encode(prompt).ids, captions: 1, images: .pictures(small.flatMap { $0 }), count: 3)
        let read = try loadedReader.score(prompt: prompt, grids: [], images: result.images)
        for (s, e) in zip(read, direct) { XCTAssertEqual(s, e, accuracy: 2e-3) }
        let (byPictures, pictureScores) = try generator.ranked(result, by: loadedReader, prompt: prompt)
        XCTAssertEqual(pictureScores, read.sorted(by: >))
        XCTAssertEqual(byPictures.images[0], result.images[read.firstIndex(of: read.max()!)!])
        let odd = Image(width: 100, height: 100, channels: 3, samples8: [UInt8](repeating: 0, count: 100 * 100 * 3))
        XCTAssertThrowsError(try loadedReader.score(prompt: prompt, grids: [], images: [odd])) { error in
            guard case GenerationError.badSize = error else { return XCTFail("\(error)") }
        }
    }
}

extension XCTestCase {
    /// The analytic gradient of `loss` with respect to `values` against central differences, at
    /// up to 60 of its entries.
    func checkGradient(_ label: String, values: UnsafeMutablePointer<Float>, analytic: [Float], rng: inout RNG,
                       loss: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
        let eps: Float = 1e-2
        let indices = analytic.count <= 60 ? Array(analytic.indices) : (0..<60).map { _ in rng.int(below: analytic.count) }
        var diff = 0.0, normA = 0.0, normN = 0.0
        for i in indices {
            let old = values[i]
            values[i] = old + eps
            let plus = loss()
            values[i] = old - eps
            let minus = loss()
            values[i] = old
            let numeric = (plus - minus) / Double(2 * eps), a = Double(analytic[i])
            diff += (a - numeric) * (a - numeric)
            normA += a * a
            normN += numeric * numeric
        }
        let scale = max(normA, normN).squareRoot()
        XCTAssertGreaterThan(scale, 1e-6, "\(label): zero gradient", file: file, line: line)
        XCTAssertLessThan(diff.squareRoot() / max(scale, 1e-12), 0.02, "\(label): analytic and numeric gradients differ", file: file, line: line)
    }
}
