import Foundation
import Models
import NN
import Shapes
import TextToImage
import XCTest

/// Text models whose image positions read a map of the layout: what the map reaches, its
/// gradients, that adding one changes nothing until trained, that a small model learns to paint
/// from it, and what SceneLayout's map spells out.
final class LayoutMapTests: XCTestCase {
    /// SceneLayoutTests' tiny model with a map of two channels of 4 and 3 ids.
    static let tiny: TextImageConfig = {
        var config = SceneLayoutTests.tiny
        config.mapVocabularies = [4, 3]
        return config
    }()
    static let text: [Int32] = [1, 4, 2], layout: [Int32] = [1, 3, 2, 0]
    static let tokens = (0..<12).map { Int32(($0 * 5 + 3) % 16) }
    static let map: [Int32] = (0..<12).map { Int32($0 % 4) } + (0..<12).map { Int32($0 % 3) }

    func testMapAtAPositionReachesThatImageRowAndLaterOnesOnly() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 2)
        let base = model.forward(text: Self.text, layout: Self.layout, map: Self.map, tokens: Self.tokens, batch: 1).array
        let plan = try XCTUnwrap(model.layoutLogits).array
        let k = Self.tiny.codebookSize
        for (channel, position) in [(0, 0), (0, 5), (1, 7), (1, 11)] {
            var changed = Self.map
            let i = channel * 12 + position
            changed[i] = (changed[i] + 1) % Int32(Self.tiny.mapVocabularies[channel])
            let other = model.forward(text: Self.text, layout: Self.layout, map: changed, tokens: Self.tokens, batch: 1).array
            for row in 0..<12 {
                let differs = (0..<k).contains { abs(base[row * k + $0] - other[row * k + $0]) > 1e-6 }
                XCTAssertEqual(differs, row >= position, "map channel \(channel) at \(position), image row \(row)")
            }
            XCTAssertEqual(try XCTUnwrap(model.layoutLogits).array, plan, "the map reaches the layout")
        }
    }

    func testMapGradientsMatchFiniteDifferences() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 3)
        var rng = RNG(seed: 5)
        let n = 2
        let text = (0..<(n * 3)).map { _ in Int32(rng.int(below: 6)) }, layout = (0..<(n * 4)).map { _ in Int32(rng.int(below: 5)) }
        let tokens = (0..<(n * 12)).map { _ in Int32(rng.int(below: 16)) }
        let map = (0..<n).flatMap { _ in (0..<12).map { _ in Int32(rng.int(below: 4)) } + (0..<12).map { _ in Int32(rng.int(below: 3)) } }
        func loss(backward: Bool) -> Double {
            let logits = model.forward(text: text, layout: layout, map: map, tokens: tokens, batch: n)
            let dimage = Tensor(logits.shape)
            let total = crossEntropyLoss(logits, tokens, dlogits: dimage)
            if backward { model.backward(dimage) }
            return Double(total)
        }
        checkTextModelGradients(model.store, of: ["mapemb"], rng: &rng, loss: loss)
    }

    func testAddedMapChangesNothingUntilTrained() {
        let planned = TextImageTransformer(config: SceneLayoutTests.tiny, seed: 4)
        let mapped = planned.withMap(vocabularies: [4, 3])
        XCTAssertEqual(mapped.config.mapVocabularies, [4, 3])
        let before = planned.forward(text: Self.text, layout: Self.layout, tokens: Self.tokens, batch: 1).array
        XCTAssertEqual(mapped.forward(text: Self.text, layout: Self.layout, map: Self.map, tokens: Self.tokens, batch: 1).array, before)
        var rngs = [RNG(seed: 1)]
        var again = [RNG(seed: 1)]
        let options = SamplingOptions(temperature: 1)
        let a = planned.sample(text: Self.text, batch: 1, guidance: 3, options: options, rngs: &rngs)
        let b = mapped.sample(text: Self.text, batch: 1, guidance: 3, options: options, layoutMap: { _ in Self.map }, rngs: &again)
        XCTAssertEqual(a.layouts, b.layouts)
        XCTAssertEqual(a.tokens, b.tokens)
    }

    /// Guidance's empty-caption branch reads no map, in training batches and in sampling: at
    /// guidance 0 (that branch alone) the map changes nothing, at 1 (the other alone) it does.
    func testTheEmptyCaptionReadsNoMap() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 6)
        let other = Self.map.map { ($0 + 1) % 3 }
        func draw(_ map: [Int32], guidance: Float) -> [Int32] {
            var rngs = [RNG(seed: 2)]
            return model.sample(text: Self.text, batch: 1, guidance: guidance, options: SamplingOptions(temperature: 1),
                                layoutMap: { _ in map }, layouts: Self.layout, rngs: &rngs).tokens
        }
        XCTAssertEqual(draw(Self.map, guidance: 0), draw(other, guidance: 0))
        XCTAssertNotEqual(draw(Self.map, guidance: 1), draw(other, guidance: 1))
        var options = TextImageTrainer.defaults(checkpointPath: "unused")
        options.batchSize = 3
        let trainer = TextImageTrainer(model: model, text: TextTokenizer(words: ["a", "b", "c", "d", "e"], length: 3), options: options, captionDropout: 0.5)
        let pair = TextImagePair(text: Self.text, layout: Self.layout, map: Self.map.map { $0 == 0 ? 1 : $0 }, tokens: Self.tokens)
        var seen = Set<Bool>()
        for _ in 0..<10 {
            let batch = trainer.batch([pair])
            for b in 0..<3 {
                let dropped = batch.text[(b * 3)..<(b * 3 + 3)].allSatisfy { $0 == 0 }
                XCTAssertEqual(Array(batch.map[(b * 24)..<(b * 24 + 24)]), dropped ? [Int32](repeating: 0, count: 24) : pair.map)
                seen.insert(dropped)
            }
        }
        XCTAssertEqual(seen, [true, false])
    }

    /// With map parts, the empty caption of a training batch reads no map or exactly one part of it,
    /// each drawn; the captioned pairs read the whole map.
    func testTheEmptyCaptionReadsOnePartOfTheMapAtATime() throws {
        var config = Self.tiny
        config.mapParts = [[0], [1]]
        let model = TextImageTransformer(config: config, seed: 6)
        var options = TextImageTrainer.defaults(checkpointPath: "unused")
        options.batchSize = 4
        let trainer = TextImageTrainer(model: model, text: TextTokenizer(words: ["a", "b", "c", "d", "e"], length: 3), options: options, captionDropout: 0.5)
        let map = Self.map.map { $0 == 0 ? 1 : $0 }
        let pair = TextImagePair(text: Self.text, layout: Self.layout, map: map, tokens: Self.tokens)
        let none = [Int32](repeating: 0, count: 24), kinds = Array(map[0..<12]) + none[12...], colours = Array(none[0..<12]) + map[12...]
        var seen = Set<[Int32]>()
        for _ in 0..<20 {
            let batch = trainer.batch([pair])
            for b in 0..<4 {
                let read = Array(batch.map[(b * 24)..<(b * 24 + 24)])
                let dropped = batch.text[(b * 3)..<(b * 3 + 3)].allSatisfy { $0 == 0 }
                if dropped { XCTAssertTrue([none, kinds, colours].contains(read), "\(read)") } else { XCTAssertEqual(read, map) }
                seen.insert(read)
            }
        }
        XCTAssertEqual(seen, [none, kinds, colours, map])
    }

    /// Composed sampling draws, greedily, each token from c + g * sum_i (p_i - u): the caption's logits
    /// plus each part's pull, p_i read by the empty caption with part i of the map alone and u with
    /// none, as the full forward computes them on the tokens drawn.
    func testMapPartsAddTheirPullsToTheCaptionsLogits() throws {
        var config = Self.tiny
        config.mapParts = [[0], [1]]
        XCTAssertTrue(config.isValid)
        let model = TextImageTransformer(config: SceneLayoutTests.tiny, seed: 7).withMap(vocabularies: [4, 3]).withMapParts([[0], [1]])
        // withMap starts the map at zero; give it weights so that the parts differ.
        var rng = RNG(seed: 8)
        for name in ["mapemb0.weight", "mapemb1.weight"] {
            let p = try XCTUnwrap(model.store.param(named: name))
            for i in 0..<p.count { model.store.value(p)[i] = rng.normal() }
        }
        XCTAssertEqual(model.config, config)
        let g: Float = 1.5, k = config.codebookSize
        func draw(parts scale: Float) -> [Int32] {
            var rngs = [RNG(seed: 2)]
            return model.sample(text: Self.text, batch: 1, guidance: 1, partGuidance: scale, options: SamplingOptions(temperature: 0),
                                layoutMap: { _ in Self.map }, layouts: Self.layout, rngs: &rngs).tokens
        }
        let tokens = draw(parts: g)
        XCTAssertNotEqual(tokens, draw(parts: 0), "the parts pull on the picture")
        func logits(_ text: [Int32], _ map: [Int32]) -> [Float] {
            model.forward(text: text, layout: Self.layout, map: map, tokens: tokens, batch: 1).array
        }
        let empty: [Int32] = [0, 0, 0], zeros = [Int32](repeating: 0, count: 12)
        let c = logits(Self.text, Self.map), u = logits(empty, zeros + zeros)
        let p0 = logits(empty, Array(Self.map[0..<12]) + zeros), p1 = logits(empty, zeros + Array(Self.map[12...]))
        for t in 0..<12 {
            let mixed = (0..<k).map { j in c[t * k + j] + g * (p0[t * k + j] - u[t * k + j] + p1[t * k + j] - u[t * k + j]) }
            XCTAssertEqual(Int32(mixed.indices.max { mixed[$0] < mixed[$1] }!), tokens[t], "token \(t)")
        }
        var bad = config
        bad.mapParts = [[2]]
        XCTAssertFalse(bad.isValid, "a part names channels of the map")
        XCTAssertEqual(try TextImageConfig(json: config.json), config)
    }

    /// Two pictures with the same caption and layout, told apart only by their maps: the trained
    /// model paints each from its map.
    func testTrainingLearnsToPaintFromTheMap() throws {
        let model = TextImageTransformer(config: Self.tiny, seed: 1)
        func pattern(_ p: Int) -> [Int32] { (0..<12).map { i -> Int32 in Int32((i * (p + 3) + 5 * p) % 16) } }
        func mapOf(_ p: Int) -> [Int32] {
            let kinds: [Int32] = (0..<12).map { i -> Int32 in Int32((i + p) % 4) }
            return kinds + [Int32](repeating: Int32(p + 1), count: 12)
        }
        let patterns = [pattern(0), pattern(1)], maps = [mapOf(0), mapOf(1)]
        let pairs = (0..<2).map { TextImagePair(text: Self.text, layout: Self.layout, map: maps[$0], tokens: patterns[$0]) }
        var options = TextImageTrainer.defaults(checkpointPath: FileManager.default.temporaryDirectory.appendingPathComponent("vqz-map-\(UUID()).ckpt").path)
        options.steps = 200
        options.batchSize = 4
        options.learningRate = 3e-3
        options.warmupSteps = 10
        let trainer = TextImageTrainer(model: model, text: TextTokenizer(words: ["a", "b", "c", "d", "e"], length: 3), options: options)
        try trainer.run(data: pairs)
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
        for p in 0..<2 {
            var rngs = [RNG(seed: 9)]
            let drawn = model.sample(text: Self.text, batch: 1, guidance: 1, options: SamplingOptions(temperature: 0),
                                     layoutMap: { _ in maps[p] }, layouts: Self.layout, rngs: &rngs)
            XCTAssertEqual(drawn.tokens, patterns[p], "map \(p)")
        }
    }

    func testAFinerMapChannelStartsAsTheCoarseIdsItWasDrawnFrom() {
        let model = TextImageTransformer(config: Self.tiny, seed: 6)
        // Channel 0 grows from 4 ids to 6; ids 4 and 5 start as 0 and 1.
        let finer = model.withMapChannel(0, vocabulary: 6, from: { $0 % 4 })
        XCTAssertEqual(finer.config.mapVocabularies, [6, 3])
        let before = model.forward(text: Self.text, layout: Self.layout, map: Self.map, tokens: Self.tokens, batch: 1).array
        var renamed = Self.map
        for i in 0..<12 where renamed[i] < 2 { renamed[i] += 4 }
        XCTAssertEqual(finer.forward(text: Self.text, layout: Self.layout, map: renamed, tokens: Self.tokens, batch: 1).array, before)
    }

    func testPlacedMapCoversTheShapeWhereItIsAndTheBinsMapWhereItMayBe() throws {
        func scene(x: Double, y: Double = 40, _ size: ShapeSize = .large) -> ShapeScene {
            ShapeScene(canvas: 128, background: SceneBackground(kind: .plain, level: 200, contrast: 0, period: 12),
                       objects: [SceneObject(shape: .triangle, color: .green, size: size, x: x, y: y, extent: size.extent(canvas: 128))])
        }
        let t = 256, placed = SceneLayout.MapStyle.placed
        XCTAssertEqual(SceneLayout.MapStyle(vocabularies: placed.vocabularies), .placed)
        XCTAssertEqual(SceneLayout.MapStyle(vocabularies: SceneLayout.mapVocabularies), .bins)
        XCTAssertNil(SceneLayout.MapStyle(vocabularies: [2, 2]))
        // Bin 2's centre is 40 pixels: the plan's map is the map of the shape drawn there.
        let atCentre = scene(x: 40)
        let planned = SceneLayout.map(SceneLayout.encode(atCentre), rows: 16, cols: 16, style: .placed)
        XCTAssertEqual(planned, SceneLayout.placedMap(atCentre, rows: 16, cols: 16))
        for (c, vocabulary) in placed.vocabularies.enumerated() {
            XCTAssertTrue(planned[(c * t)..<((c + 1) * t)].allSatisfy { $0 >= 0 && Int($0) < vocabulary }, "channel \(c)")
        }
        // The cells the shape's box touches (12...68 pixels: cells 1 to 8 each way), no more.
        XCTAssertEqual((0..<t).map { planned[$0] != 0 }, atCentre.shapeCells(rows: 16, cols: 16))
        XCTAssertEqual((0..<t).filter { planned[$0] != 0 }.count, 64)
        XCTAssertEqual((0..<t).filter { SceneLayout.placedMap(scene(x: 40, .small), rows: 16, cols: 16)[$0] != 0 }.count, 36)
        // Half a cell to the right, in the same bin: the bins map cannot tell, the placed map can.
        let moved = scene(x: 44)
        XCTAssertEqual(SceneLayout.encode(moved), SceneLayout.encode(atCentre))
        XCTAssertEqual(SceneLayout.trainingMap(moved, layout: SceneLayout.encode(moved), rows: 16, cols: 16, style: .bins),
                       SceneLayout.map(SceneLayout.encode(atCentre), rows: 16, cols: 16))
        let placedMoved = SceneLayout.trainingMap(moved, layout: SceneLayout.encode(moved), rows: 16, cols: 16, style: .placed)
        XCTAssertNotEqual(placedMoved, planned)
        // A cell further along, 8 pixels apart: the same offset from the shape, cell 5 at 36 as cell 6 at 44.
        let left = SceneLayout.placedMap(scene(x: 36), rows: 16, cols: 16)
        XCTAssertEqual(left[5 * 16 + 5], placedMoved[5 * 16 + 6])
        XCTAssertNotEqual(left[5 * 16 + 5], planned[5 * 16 + 5])
        XCTAssertEqual(Array(planned[t...]).filter { $0 != 0 }.count, 2 * 64, "colour and size over the same cells")
        // Each covered cell's offset is its own id, and a placed kind starts as a bins kind of the same shape.
        let covered = (0..<t).filter { planned[$0] != 0 }
        XCTAssertEqual(Set(covered.map { planned[$0] }).count, 64)
        XCTAssertEqual(SceneLayout.MapStyle.binsKind(ofPlaced: 0), 0)
        let bins = SceneLayout.map(SceneLayout.encode(atCentre), rows: 16, cols: 16)
        for i in covered {
            let kind = SceneLayout.MapStyle.binsKind(ofPlaced: Int(planned[i]))
            XCTAssertTrue((1..<SceneLayout.mapVocabularies[0]).contains(kind))
            XCTAssertEqual(Int32(kind), bins[i], "cell \(i): the same kind and whole-cell offset from the same centre")
        }
    }

    func testSceneMapNamesEachCellsShapeColourAndSizeApart() throws {
        func scene(_ shape: ShapeKind, _ color: ShapeColor, _ size: ShapeSize = .large) -> ShapeScene {
            ShapeScene(canvas: 128, background: SceneBackground(kind: .plain, level: 200, contrast: 0, period: 12),
                       objects: [SceneObject(shape: shape, color: color, size: size, x: 40, y: 40, extent: size.extent(canvas: 128))])
        }
        let t = 256
        let green = SceneLayout.map(SceneLayout.encode(scene(.triangle, .green)), rows: 16, cols: 16)
        XCTAssertEqual(green.count, 3 * t)
        XCTAssertEqual(SceneLayout.mapVocabularies.count, 3)
        for (c, vocabulary) in SceneLayout.mapVocabularies.enumerated() {
            XCTAssertTrue(green[(c * t)..<((c + 1) * t)].allSatisfy { $0 >= 0 && Int($0) < vocabulary }, "channel \(c)")
        }
        // Column and row bin 2 of 8: centred at 40 pixels, cell 5 of 16. A large shape reaches its
        // 3.4 cells and one more: cells 1 through 8 each way; the rest is ground.
        let covered = (0..<t).filter { green[$0] != 0 }
        XCTAssertEqual(covered.count, 64)
        XCTAssertTrue(covered.allSatisfy { (1...8).contains($0 / 16) && (1...8).contains($0 % 16) })
        XCTAssertEqual(green[t + 5 * 16 + 5], Int32(1 + ShapeColor.allCases.firstIndex(of: .green)!))
        XCTAssertEqual(green[2 * t + 5 * 16 + 5], Int32(1 + ShapeSize.allCases.firstIndex(of: .large)!))
        XCTAssertEqual(green[t + 15 * 16 + 15], 0)
        // A green triangle (held out of training) reads as a red triangle's shape and a green circle's colour.
        let red = SceneLayout.map(SceneLayout.encode(scene(.triangle, .red)), rows: 16, cols: 16)
        let circle = SceneLayout.map(SceneLayout.encode(scene(.circle, .green)), rows: 16, cols: 16)
        XCTAssertEqual(Array(green[0..<t]), Array(red[0..<t]))
        XCTAssertEqual(Array(green[t...]), Array(circle[t...]))
        XCTAssertNotEqual(Array(green[0..<t]), Array(circle[0..<t]))
        // Each cell's offset from the centre is its own id: no two cells of one shape share one.
        XCTAssertEqual(Set(covered.map { green[$0] }).count, 64)
        let small = SceneLayout.map(SceneLayout.encode(scene(.triangle, .green, .small)), rows: 16, cols: 16)
        XCTAssertEqual((0..<t).filter { small[$0] != 0 }.count, 36, "a small shape's 2.25 cells and one more: 6 each way")
    }
}
