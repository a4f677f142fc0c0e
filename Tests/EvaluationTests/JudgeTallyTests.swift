import Evaluation
import Shapes
import XCTest

/// The counts of `vqz eval judge`.
final class JudgeTallyTests: XCTestCase {
    /// Rendered scenes are read exactly: every attribute, every shape, every kind on the
    /// confusion table's diagonal.
    func testRenderedScenesTallyExactly() {
        var tally = JudgeTally()
        let records = (0..<30).map { ShapesDataset.record(index: $0, seed: 11, split: .train) }
        for record in records { tally.add(record, SceneJudge.analyse(SceneRenderer.render(record.scene))) }
        XCTAssertEqual(tally.pictures, 30)
        XCTAssertEqual(tally.scenesExact, 30)
        XCTAssertEqual(tally.objectsFound, tally.objects)
        XCTAssertEqual(tally.objects, records.reduce(0) { $0 + $1.scene.objects.count })
        XCTAssertEqual(tally.score.share, 1)
        for (drawn, read) in tally.confusion { XCTAssertEqual(read.keys.sorted { $0.rawValue < $1.rawValue }, [drawn]) }
        XCTAssertEqual(tally.kindRight, tally.drawn)
    }
}
