import Models
import Shapes
import TextToImage
import XCTest

/// The (caption, grid) pairs `vqz train text` learns from.
final class TextTrainingDataTests: XCTestCase {
    /// `--shape-weight`: training pairs weigh the tokens of the cells a shape covers, and only
    /// those, by the shape weight.
    func testPairsWeighTheShapeCells() {
        let rs = (0..<3).map { ShapesDataset.record(index: $0, seed: 11, split: .train) }
        let pairs = TextTrainingData.pairs(records: rs, grids: Array(repeating: [Int32](repeating: 0, count: 256), count: 3),
                                           text: TextTokenizer(training: rs.map(\.caption), length: 40), rows: 16, cols: 16, shapeWeight: 4)
        XCTAssertEqual(pairs.count, 3)
        for (pair, r) in zip(pairs, rs) {
            XCTAssertEqual(pair.tokenWeights, r.scene.shapeCells(rows: 16, cols: 16).map { $0 ? 4 : 1 })
        }
    }
}
