import Foundation
import ImageIO
import Models
import NN
import Shapes
import TextToImage
import VQZ
import XCTest

/// Text models that draw a scene's layout before its picture: what the layout reads and what reads
/// it, its gradients, that a small model learns to plan and paint the plan, the layouts' grammar,
/// and old files.
extension XCTestCase {
    /// The gradients of a text model's parameters named with one of `prefixes` against finite
    /// differences of `loss` (which runs backward when asked), each one non-zero somewhere. The
    /// model's tables are first enlarged twentyfold: drawn at the init's 0.02 they would move by
    /// half their size with the check's step.
    func checkTextModelGradients(_ store: ParameterStore, of prefixes: [String], rng: inout RNG, loss: (_ backward: Bool) -> Double,
                                 file: StaticString = #filePath, line: UInt = #line) {
        for p in store.params where p.name.contains("emb") || p.name.contains("pos") {
            let v = store.value(p)
            for i in 0..<p.count { v[i] *= 20 }
        }
        store.zeroGrads()
        _ = loss(true)
        for p in store.params where prefixes.contains(where: { p.name.hasPrefix($0) }) {
            let analytic = Array(UnsafeBufferPointer(start: store.grad(p), count: p.count))
            XCTAssertTrue(analytic.contains { $0 != 0 }, "\(p.name) gets no gradient", file: file, line: line)
            checkGradient(p.name, values: store.value(p), analytic: analytic, rng: &rng, loss: { loss(false) }, file: file, line: line)
        }
    }
}

final class SceneLayoutTests: XCTestCase {
    /// 3 text positions, 4 layout positions of 5 ids, a 3 x 4 grid of 16 codes.
    static let tiny = TextImageConfig(codebookSize: 16, textVocabulary: 6, textLength: 3, width: 16, layers: 2, heads: 2,
                                      rows: 3, cols: 4, layoutLength: 4, layoutVocabulary: 5)

    func testLayoutReadsTheTextAndEarlierIdsAndTheImageReadsTheLayout() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 2)
        let text: [Int32] = [1, 4, 2], layout: [Int32] = [1, 3, 2, 0]
        let tokens = (0..<12).map { Int32(($0 * 5 + 3) % 16) }
        func run(_ text: [Int32], _ layout: [Int32], _ tokens: [Int32]) throws -> (image: [Float], layout: [Float]) {
            let image = model.forward(text: text, layout: layout, tokens: tokens, batch: 1).array
            return (image, try XCTUnwrap(model.layoutLogits).array)
        }
        let base = try run(text, layout, tokens)
        let v = Self.tiny.layoutVocabulary, k = Self.tiny.codebookSize
        func differs(_ a: [Float], _ b: [Float], row: Int, width: Int) -> Bool {
            (0..<width).contains { abs(a[row * width + $0] - b[row * width + $0]) > 1e-6 }
        }
        // Layout id j reaches the layout rows after it and every image row, and no row before it.
        for j in 0..<4 {
            var changed = layout
            changed[j] = (changed[j] + 2) % Int32(v)
            let other = try run(text, changed, tokens)
            for row in 0..<4 { XCTAssertEqual(differs(base.layout, other.layout, row: row, width: v), row > j, "layout id \(j), layout row \(row)") }
            for row in 0..<12 { XCTAssertTrue(differs(base.image, other.image, row: row, width: k), "layout id \(j) does not reach image row \(row)") }
        }
        // The image tokens never reach the layout; the text reaches its first id.
        var changedTokens = tokens
        changedTokens[0] = 15 - changedTokens[0]
        XCTAssertEqual(try run(text, layout, changedTokens).layout, base.layout)
        XCTAssertTrue(differs(base.layout, try run([3, 4, 2], layout, tokens).layout, row: 0, width: v), "the first layout id ignores the text")
    }

    func testLayoutGradientsMatchFiniteDifferences() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 3)
        var rng = RNG(seed: 4)
        let n = 2
        let text = (0..<(n * 3)).map { _ in Int32(rng.int(below: 6)) }
        let layout = (0..<(n * 4)).map { _ in Int32(rng.int(below: 5)) }
        let tokens = (0..<(n * 12)).map { _ in Int32(rng.int(below: 16)) }
        // The trainer's loss: the image's mean cross-entropy plus the layout's.
        func loss(backward: Bool) -> Double {
            let logits = model.forward(text: text, layout: layout, tokens: tokens, batch: n)
            let layoutLogits = model.layoutLogits!
            let dimage = Tensor(logits.shape), dlayout = Tensor(layoutLogits.shape)
            let total = crossEntropyLoss(layoutLogits, layout, dlogits: dlayout) + crossEntropyLoss(logits, tokens, dlogits: dimage)
            if backward { model.backward(dimage, layout: dlayout) }
            return Double(total)
        }
        checkTextModelGradients(model.store, of: ["layemb", "laypos", "layhead", "textemb", "block0", "tokemb"], rng: &rng, loss: loss)
    }

    /// Captions name a layout and each layout its own pattern: a small model learns to draw the
    /// named layout and then to paint it, and the rule keeps out what it forbids.
    func testTrainingLearnsToPlanAndToPaintThePlan() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 1)
        let vocab = TextTokenizer(words: ["a", "b", "c", "d", "e"], length: 3)
        let layouts: [[Int32]] = [[1, 2, 0, 0], [1, 3, 4, 0], [2, 4, 0, 0]]
        let patterns: [[Int32]] = (0..<3).map { p in (0..<12).map { Int32(($0 * (p + 2) + p) % 16) } }
        let pairs = (0..<3).map { p in TextImagePair(text: [Int32(p + 1), 5, 0], layout: layouts[p], tokens: patterns[p]) }
        var options = TextImageTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-layout-\(UUID()).ckpt").path)
        options.steps = 200
        options.batchSize = 6
        options.learningRate = 3e-3
        options.warmupSteps = 10
        let trainer = TextImageTrainer(model: model, text: vocab, options: options, captionDropout: 0.1)
        let before = try XCTUnwrap(trainer.validate(pairs).layout)
        try trainer.run(data: pairs)
        let after = trainer.validate(pairs)
        XCTAssertGreaterThan(before, 1.5)
        XCTAssertLessThan(try XCTUnwrap(after.layout), 0.2, "bits per layout id after training")
        XCTAssertLessThan(after.captioned, 0.5)
        var rngs = [RNG(seed: 1), RNG(seed: 2), RNG(seed: 3)]
        let drawn = model.sample(text: pairs.flatMap(\.text), batch: 3, guidance: 1, options: SamplingOptions(temperature: 0), rngs: &rngs)
        XCTAssertEqual(drawn.layouts, layouts.flatMap { $0 })
        XCTAssertEqual(drawn.tokens, patterns.flatMap { $0 })
        // A rule that forbids id 2 at the second position: caption "a" must plan something else.
        rngs = [RNG(seed: 1)]
        let ruled = model.sample(text: pairs[0].text, batch: 1, guidance: 3, options: SamplingOptions(temperature: 1),
                                 layoutRule: { j, _ in (0..<5).map { j != 1 || $0 != 2 } }, rngs: &rngs)
        XCTAssertNotEqual(ruled.layouts[1], 2)
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
    }

    /// Layouts alone are the same draws a whole sample makes first; given layouts are painted as given.
    func testLayoutsAloneAndGivenLayouts() {
        let model = TextImageTransformer(config: Self.tiny, seed: 6)
        let text: [Int32] = [1, 4, 2, 3, 0, 0]
        func draw(given: [Int32]? = nil, paint: Bool = true) -> (layouts: [Int32], tokens: [Int32]) {
            var rngs = [RNG(seed: 3), RNG(seed: 4)]
            return model.sample(text: text, batch: 2, guidance: 2, options: SamplingOptions(temperature: 1), layouts: given, paint: paint, rngs: &rngs)
        }
        let whole = draw(), alone = draw(paint: false)
        XCTAssertEqual(alone.layouts, whole.layouts)
        XCTAssertTrue(alone.tokens.isEmpty)
        let given: [Int32] = [4, 4, 1, 0, 2, 3, 3, 1]
        XCTAssertEqual(draw(given: given).layouts, given)
        // Greedy painting of a given layout follows the forward pass given that layout.
        var rngs = [RNG(seed: 1), RNG(seed: 2)]
        let painted = model.sample(text: text, batch: 2, guidance: 1, options: SamplingOptions(temperature: 0), layouts: given, rngs: &rngs)
        let logits = model.forward(text: text, layout: given, tokens: painted.tokens, batch: 2).array
        let k = Self.tiny.codebookSize
        for r in 0..<painted.tokens.count {
            let row = Array(logits[(r * k)..<((r + 1) * k)])
            XCTAssertEqual(Int(painted.tokens[r]), row.indices.max { row[$0] < row[$1] }, "position \(r)")
        }
    }

    /// The layout's scale draws the layout ids and the picture's the image tokens: a layout drawn at
    /// 3 under a picture at 1 is the layout a sample at 3 draws, painted as the picture at 1 paints it.
    func testLayoutAndPictureAreGuidedApart() {
        let model = TextImageTransformer(config: Self.tiny, seed: 6)
        let text: [Int32] = [1, 4, 2, 3, 0, 0]
        let greedy = SamplingOptions(temperature: 0)
        func draw(_ guidance: Float, layout: Float? = nil, given: [Int32]? = nil) -> (layouts: [Int32], tokens: [Int32]) {
            var rngs = [RNG(seed: 3), RNG(seed: 4)]
            return model.sample(text: text, batch: 2, guidance: guidance, layoutGuidance: layout, options: greedy, layouts: given, rngs: &rngs)
        }
        let apart = draw(1, layout: 3), three = draw(3)
        XCTAssertEqual(apart.layouts, three.layouts)
        XCTAssertEqual(apart.tokens, draw(1, given: three.layouts).tokens)
        XCTAssertNotEqual(apart.tokens, three.tokens, "the picture's scale is its own")
    }

    /// With a layout choice, each picture is painted from the layout the score rates highest
    /// among those drawn for it.
    func testGeneratorPaintsTheBestScoredLayout() throws {
        let text = TextTokenizer(training: TextModelTests.captions, length: 12)
        let config = TextImageConfig(codebookSize: 1024, textVocabulary: text.vocabularySize, textLength: 12, width: 16, layers: 1, heads: 2,
                                     layoutLength: SceneLayout.length, layoutVocabulary: SceneLayout.vocabulary)
        let tokenizer = try TokenizerModel.bundled(.shapes)
        let weights = TextImageModels.exportWeights(TextImageTransformer(config: config, seed: 2), text: text, name: "test",
                                                    metadata: TokenizerRecord.metadata(tokenizer))
        let generator = try TextGenerator(codec: Codec(model: tokenizer), prior: TextPriorModel(weights: weights))
        var seen: [[Int32]] = []
        // Prefer more shapes, then the later-drawn layout: a score that is not the drawing order.
        let choice = TextGenerator.LayoutChoice(candidates: 5) { layouts in
            seen = layouts
            return layouts.enumerated().map { i, layout in Float(layout.filter { $0 != 0 }.count) + Float(i % 5) / 10 }
        }
        let result = try generator.generate(prompt: "a red circle", count: 2, seed: 7, guidance: 3, layoutChoice: choice)
        XCTAssertEqual(seen.count, 10)
        for i in 0..<2 {
            let group = Array(seen[(i * 5)..<((i + 1) * 5)])
            let best = group.indices.max { a, b in
                Float(group[a].filter { $0 != 0 }.count) + Float(a) / 10 < Float(group[b].filter { $0 != 0 }.count) + Float(b) / 10
            }!
            XCTAssertEqual(result.layouts[i], group[best])
            XCTAssertTrue(Self.obeysTheRule(result.layouts[i]))
        }
        XCTAssertEqual(result.images.count, 2)
    }

    /// A trained model given a layout keeps every weight it had; the layout's are new.
    func testWithLayoutKeepsTheTrainedWeights() throws {
        var plain = Self.tiny
        (plain.layoutLength, plain.layoutVocabulary) = (0, 0)
        let model = TextImageTransformer(config: plain, seed: 5)
        let planned = model.withLayout(length: 4, vocabulary: 5, seed: 6)
        XCTAssertEqual(planned.config, Self.tiny)
        for p in model.store.params {
            let q = try XCTUnwrap(planned.store.param(named: p.name))
            XCTAssertEqual(Array(UnsafeBufferPointer(start: planned.store.value(q), count: q.count)),
                           Array(UnsafeBufferPointer(start: model.store.value(p), count: p.count)), p.name)
        }
        XCTAssertNotNil(planned.store.param(named: "layhead.weight"))
        XCTAssertNil(model.store.param(named: "layhead.weight"))
    }

    /// Files written before layouts existed read as models without one.
    func testConfigsWithoutLayoutKeysDrawNoLayout() throws {
        let old = #"{"cols":16,"codebookSize":1024,"heads":4,"layers":4,"rows":16,"textLength":40,"textVocabulary":63,"width":192}"#
        let config = try TextImageConfig(json: old)
        XCTAssertFalse(config.hasLayout)
        XCTAssertEqual(config.layoutVocabulary, 0)
        XCTAssertTrue(config.isValid)
        XCTAssertEqual(try TextImageConfig(json: Self.tiny.json), Self.tiny)
    }

    // MARK: - The shapes layout

    func testSceneLayoutNamesTheShapesInReadingOrder() throws {
        let scene = ShapeScene(canvas: 128, background: SceneBackground(kind: .checkered, level: 200, contrast: 20, period: 12, orientation: 0),
                               objects: [SceneObject(shape: .square, color: .blue, size: .large, x: 100, y: 90, extent: 27),
                                         SceneObject(shape: .circle, color: .red, size: .small, x: 20, y: 10, extent: 18)],
                               tints: [[0, 0, 0], [0, 0, 0]])
        let layout = SceneLayout.encode(scene)
        XCTAssertEqual(layout.count, SceneLayout.length)
        XCTAssertEqual(SceneLayout.describe(layout),
                       "light checkered ground; small red circle at column 2, row 1 of 8; large blue square at column 7, row 6 of 8")
        XCTAssertEqual(layout.suffix(6), [0, 0, 0, 0, 0, 0])
        XCTAssertTrue(Self.obeysTheRule(layout))
        // The scene the layout describes: the same shapes, each within half a cell of where it was.
        let planned = try XCTUnwrap(SceneLayout.scene(layout, canvas: 128))
        XCTAssertEqual(planned.background.kind, .checkered)
        XCTAssertTrue(planned.background.isLight)
        let original = scene.objects.reversed()
        XCTAssertEqual(planned.objects.map(\.shape), original.map(\.shape))
        XCTAssertEqual(planned.objects.map(\.color), original.map(\.color))
        XCTAssertEqual(planned.objects.map(\.size), original.map(\.size))
        for (p, o) in zip(planned.objects, original) {
            XCTAssertLessThanOrEqual(abs(p.x - o.x), 8)
            XCTAssertLessThanOrEqual(abs(p.y - o.y), 8)
        }
        XCTAssertNil(SceneLayout.scene([0, 0, 0], canvas: 128))
    }

    /// Every dataset scene's layout is one the rule allows, and the rule allows nothing else:
    /// layouts drawn at random under it read back as whole shapes.
    func testTheRuleAllowsExactlyTheLayoutsOfScenes() {
        for i in 0..<300 {
            let layout = SceneLayout.encode(ShapesDataset.record(index: i, seed: 5, split: .train).scene)
            XCTAssertTrue(Self.obeysTheRule(layout), "scene \(i): \(layout)")
        }
        var rng = RNG(seed: 6)
        for _ in 0..<300 {
            var layout: [Int32] = []
            for j in 0..<SceneLayout.length {
                let allowed = SceneLayout.allowed(position: j, before: layout[...])
                let ids = allowed.indices.filter { allowed[$0] }
                XCTAssertFalse(ids.isEmpty, "nothing allowed at \(j) after \(layout)")
                layout.append(Int32(ids[rng.int(below: ids.count)]))
            }
            let shapes = SceneLayout.describe(layout).components(separatedBy: "; ").count - 1
            XCTAssertTrue((1...SceneLayout.maxShapes).contains(shapes), "\(layout)")
            XCTAssertEqual(layout.filter { $0 != 0 }.count, 1 + 5 * shapes)
        }
    }

    static func obeysTheRule(_ layout: [Int32]) -> Bool {
        layout.indices.allSatisfy { SceneLayout.allowed(position: $0, before: layout[..<$0])[Int(layout[$0])] }
    }

    func testTextModelsWithAnotherLayoutAreRefused() throws {
        let text = TextTokenizer(words: ["a", "b"], length: 4)
        let config = TextImageConfig(codebookSize: 1024, textVocabulary: text.vocabularySize, textLength: 4, width: 8, layers: 1, heads: 2,
                                     layoutLength: 5, layoutVocabulary: 9)
        let tokenizer = try TokenizerModel.bundled()
        let bytes = TextImageModels.exportWeights(TextImageTransformer(config: config), text: text, name: "test",
                                                  metadata: TokenizerRecord.metadata(tokenizer))
        XCTAssertThrowsError(try TextPriorModel(weights: bytes)) { error in
            XCTAssertTrue("\(error)".contains("layout"), "\(error)")
        }
    }
}
