import Foundation
import ImageIO
import Models
import NN
import Shapes
import XCTest

/// The captioned shapes and the scene judge, as a user of `vqz dataset shapes` and
/// `vqz eval` would check them.
final class ShapesDatasetTests: XCTestCase {
    func records(_ split: ShapesDataset.Split, count: Int, seed: UInt64 = 11) -> [ShapesDataset.Record] {
        (0..<count).map { ShapesDataset.record(index: $0, seed: seed, split: split) }
    }

    func testJudgeReadsRenderedScenesExactly() {
        var total = SceneScore()
        for record in records(.train, count: 80) + records(.heldout, count: 40) {
            let analysis = SceneJudge.analyse(SceneRenderer.render(record.scene))
            let score = SceneJudge.score(record.request, analysis)
            XCTAssertEqual(score.satisfiedTotal, score.requestedTotal, "\(record.caption): \(analysis.objects)")
            XCTAssertEqual(score.requestedTotal, record.request.attributeCount)
            let (found, of) = SceneJudge.objectsFound(record.scene, analysis)
            XCTAssertEqual(found, of, "\(record.caption): the judge misread a shape: \(analysis.objects)")
            XCTAssertEqual(analysis.objects.count, record.scene.objects.count, "\(record.caption)")
            total.add(score)
        }
        XCTAssertEqual(total.share, 1)
        // Every kind of attribute was exercised.
        for a in SceneScore.Attribute.allCases { XCTAssertGreaterThan(total.requested[a] ?? 0, 0, "\(a) never requested") }
    }

    func testWarpedScenesKeepTheirCaptionsAndBendOnlyTheShapes() {
        var score = SceneScore(), changed = 0
        for i in 0..<60 {
            let plain = ShapesDataset.record(index: i, seed: 11, split: .train)
            let warped = ShapesDataset.record(index: i, seed: 11, split: .train, warp: 0.2)
            XCTAssertNil(plain.scene.warps)
            XCTAssertEqual(warped.scene.warps?.count, plain.scene.objects.count)
            XCTAssertEqual([warped.caption, warped.image], [plain.caption, plain.image])
            XCTAssertEqual(warped.request, plain.request)
            XCTAssertEqual(warped.scene.objects, plain.scene.objects)
            XCTAssertEqual(warped.scene.background, plain.scene.background)
            let a = SceneRenderer.render(plain.scene), b = SceneRenderer.render(warped.scene)
            let s = plain.scene.canvas
            for y in 0..<s {
                for x in 0..<s where (0..<3).contains(where: { a.samples8[(y * s + x) * 3 + $0] != b.samples8[(y * s + x) * 3 + $0] }) {
                    changed += 1
                    let near = zip(plain.scene.objects, warped.scene.warps!).contains { o, w in
                        let r = o.extent * (1 + w.reach) + 1
                        return abs(Double(x) + 0.5 - o.x) <= r && abs(Double(y) + 0.5 - o.y) <= r
                    }
                    XCTAssertTrue(near, "record \(i): pixel (\(x), \(y)) changed away from every shape")
                }
            }
            score.add(SceneJudge.score(warped.request, SceneJudge.analyse(b)))
        }
        XCTAssertGreaterThan(changed, 60 * 50, "the warps bend outlines")
        // Still the shapes the captions name, mostly (92% of 300 scenes `--seed 7`, docs/TEXT.md).
        XCTAssertGreaterThan(score.share, 0.8)
    }

    func testJudgeNoticesWhatIsWrong() {
        // A request that the picture contradicts on colour, shape and relation scores below 1.
        let record = records(.train, count: 40).first { $0.scene.objects.count == 2 }!
        var wrong = record.request
        wrong.objects[0].color = ShapeColor.allCases.first { $0 != wrong.objects[0].color && $0 != wrong.objects[1].color }!
        wrong.relations[0].relation = wrong.relations[0].relation.inverse
        let score = SceneJudge.score(wrong, SceneJudge.analyse(SceneRenderer.render(record.scene)))
        XCTAssertLessThan(score.satisfiedTotal, score.requestedTotal)
        XCTAssertEqual(score.satisfied[.relation] ?? 0, 0)
        // A blank picture has none of the shapes.
        let blank = ShapeScene(canvas: 128, background: SceneBackground(kind: .plain, level: 200), objects: [])
        let empty = SceneJudge.score(record.request, SceneJudge.analyse(SceneRenderer.render(blank)))
        XCTAssertEqual(empty.satisfied[.shape] ?? 0, 0)
        XCTAssertEqual(empty.satisfied[.color] ?? 0, 0)
    }

    /// The reranker's hard negatives: the caption is true of the picture (the judge finds all of
    /// it), its near miss is not (the judge finds one attribute missing), the two share most
    /// of their words, and no near miss of a training scene names a held-out pair.
    func testNearMissesChangeOneStatedAttribute() {
        var rng = RNG(seed: 4)
        var changed: [SceneScore.Attribute: Int] = [:]
        for record in records(.train, count: 150) {
            let drawn = SceneCaptioner.captionAndNearMiss(record.scene, relations: record.request.relations, rng: &rng)
            let analysis = SceneJudge.analyse(SceneRenderer.render(record.scene))
            let truth = SceneJudge.score(drawn.request, analysis), miss = SceneJudge.score(drawn.nearMissRequest, analysis)
            XCTAssertEqual(truth.satisfiedTotal, truth.requestedTotal, drawn.caption)
            XCTAssertEqual(miss.requestedTotal, truth.requestedTotal, "\(drawn.nearMiss) asks for as much as \(drawn.caption)")
            XCTAssertLessThan(miss.satisfiedTotal, miss.requestedTotal, "\(drawn.nearMiss) is true of the picture of \(drawn.caption)")
            for a in SceneScore.Attribute.allCases where (miss.satisfied[a] ?? 0) < (truth.satisfied[a] ?? 0) { changed[a, default: 0] += 1 }
            let (a, b) = (drawn.caption.split(separator: " "), drawn.nearMiss.split(separator: " "))
            XCTAssertLessThanOrEqual(zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count), 6, "\(drawn.caption) / \(drawn.nearMiss)")
            for o in drawn.nearMissRequest.objects { XCTAssertFalse(ShapesDataset.isHeldOut(o.color, o.shape), drawn.nearMiss) }
        }
        for a: SceneScore.Attribute in [.shape, .color, .size, .position, .relation, .background] {
            XCTAssertGreaterThan(changed[a] ?? 0, 0, "no near miss changed the \(a)")
        }
    }

    /// The reranker's picture-side hard negatives: every caption of the scene is false of the
    /// near miss (the judge finds something missing whatever the wording states), which differs
    /// in one way, keeps its shapes apart and inside the canvas, and never draws a held-out pair.
    func testPictureNearMissesAreFalseOfEveryCaption() throws {
        var rng = RNG(seed: 5)
        var changed: [SceneScore.Attribute: Int] = [:]
        for record in records(.train, count: 150) {
            let miss = try XCTUnwrap(record.scene.pictureNearMiss(relations: record.request.relations, rng: &rng))
            XCTAssertNotEqual(miss, record.scene)
            XCTAssertTrue(miss.shapesFit, "\(miss)")
            XCTAssertEqual(miss.background, record.scene.background)
            for o in miss.objects { XCTAssertFalse(ShapesDataset.isHeldOut(o.color, o.shape), "\(o)") }
            let truth = SceneJudge.analyse(SceneRenderer.render(record.scene)), analysis = SceneJudge.analyse(SceneRenderer.render(miss))
            for _ in 0..<4 {
                let request = SceneCaptioner.caption(record.scene, relations: record.request.relations, rng: &rng).1
                let own = SceneJudge.score(request, truth), score = SceneJudge.score(request, analysis)
                XCTAssertEqual(own.satisfiedTotal, own.requestedTotal, "\(request)")
                XCTAssertLessThan(score.satisfiedTotal, score.requestedTotal, "the near miss \(miss) fits \(request)")
                for a in SceneScore.Attribute.allCases where (score.satisfied[a] ?? 0) < (own.satisfied[a] ?? 0) { changed[a, default: 0] += 1 }
            }
        }
        for a: SceneScore.Attribute in [.count, .shape, .color, .relation] {
            XCTAssertGreaterThan(changed[a] ?? 0, 0, "no picture near miss changed the \(a)")
        }
    }

    func testSameSeedSameScenesAndPixels() {
        let a = records(.train, count: 20, seed: 5), b = records(.train, count: 20, seed: 5)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.map(ShapesDataset.jsonLine), b.map(ShapesDataset.jsonLine))
        XCTAssertEqual(SceneRenderer.render(a[3].scene), SceneRenderer.render(b[3].scene))
        let c = records(.train, count: 20, seed: 6)
        XCTAssertNotEqual(a.map(\.caption), c.map(\.caption))
        // A larger count keeps the first records.
        XCTAssertEqual(ShapesDataset.record(index: 7, seed: 5, split: .train), a[7])
    }

    func testHeldOutPairsNeverInTrainingAndAlwaysInHeldout() {
        for record in records(.train, count: 600) {
            for o in record.scene.objects {
                XCTAssertFalse(ShapesDataset.isHeldOut(o.color, o.shape), "training scene \(record.image) holds a \(o.color) \(o.shape)")
            }
        }
        var seen = Set<String>()
        for record in records(.heldout, count: 200) {
            let held = record.scene.objects.filter { ShapesDataset.isHeldOut($0.color, $0.shape) }
            XCTAssertFalse(held.isEmpty, "heldout scene \(record.image) has no held-out pair")
            for o in held { seen.insert("\(o.color) \(o.shape)") }
        }
        XCTAssertEqual(seen.count, ShapesDataset.heldOutPairs.count, "every held-out pair appears in the heldout split")
    }

    func testRecordsRoundTripThroughJSONLines() throws {
        let rs = records(.heldout, count: 10)
        let text = rs.map(ShapesDataset.jsonLine).joined(separator: "\n") + "\n"
        XCTAssertEqual(try ShapesDataset.records(jsonl: text), rs)
        XCTAssertThrowsError(try ShapesDataset.records(jsonl: "{\"caption\": 3}\n", name: "bad.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .badRecord(file: "bad.jsonl", line: 1))
        }
    }

    /// The cells `vqz train text --shape-weight` weighs: every pixel a shape changes lies in one,
    /// and on the 16 x 16 token grid they are a minority of the tokens.
    func testShapeCellsHoldEveryPixelAShapeChanges() {
        let rs = records(.train, count: 40)
        var marked = 0
        for r in rs {
            let cells = r.scene.shapeCells(rows: 16, cols: 16)
            var ground = r.scene
            ground.objects = []
            ground.tints = []
            let (a, b) = (SceneRenderer.render(r.scene), SceneRenderer.render(ground))
            for y in 0..<128 {
                for x in 0..<128 where (0..<3).contains(where: { a.sample(x: x, y: y, channel: $0) != b.sample(x: x, y: y, channel: $0) }) {
                    XCTAssertTrue(cells[(y / 8) * 16 + x / 8], "\(r.image): pixel (\(x), \(y)) of a shape lies in an unmarked cell")
                }
            }
            marked += cells.filter { $0 }.count
        }
        XCTAssertGreaterThan(marked, 0)
        XCTAssertLessThan(Double(marked) / Double(rs.count * 256), 0.5)
    }

    func testCaptionsUseVariedWording() {
        let captions = records(.train, count: 300).map(\.caption)
        XCTAssertGreaterThan(Set(captions).count, 290)
        let words = Set(captions.flatMap(TextTokenizer.split))
        for w in ["left", "right", "above", "below", "under", "disc", "big", "little", "background", "corner"] {
            XCTAssertTrue(words.contains(w), "no caption says '\(w)'")
        }
    }

    func testScenesAreAtLeast128PixelsWithOneToThreeShapes() {
        let rs = records(.train, count: 200)
        XCTAssertEqual(Set(rs.map { $0.scene.objects.count }), [1, 2, 3])
        XCTAssertTrue(rs.allSatisfy { $0.scene.canvas == 128 })
        XCTAssertEqual(Set(rs.map { $0.scene.background.kind }), Set(BackgroundKind.allCases))
        let image = SceneRenderer.render(rs[0].scene)
        XCTAssertEqual([image.width, image.height, image.channels], [128, 128, 3])
    }
}
