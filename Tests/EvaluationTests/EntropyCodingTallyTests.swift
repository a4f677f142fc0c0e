import Evaluation
import ImageIO
import VQZ
import XCTest

/// The counts of `vqz eval entropy`, with the bundled tokenizer and entropy prior.
final class EntropyCodingTallyTests: XCTestCase {
    /// Every file comes back with its tokens, the prior's streams never beat the information
    /// floor they are measured against, and each coder's whole files at every level are larger
    /// than at one.
    func testTalliesAPictureBothWays() throws {
        let (w, h) = (128, 96)
        let pixels = (0..<(w * h)).flatMap { i -> [UInt8] in
            let (x, y) = (i % w, i / w)
            return [UInt8(2 * x), UInt8(2 * y), UInt8((x * y) % 251)]
        }
        let model = try TokenizerModel.bundled()
        var tally = EntropyCodingTally(codec: Codec(model: model), prior: try EntropyPrior.bundled(for: model))
        XCTAssertTrue(try tally.add(Image(width: w, height: h, channels: 3, samples8: pixels)))
        XCTAssertEqual(tally.pictures, 1)
        XCTAssertEqual(tally.pixels, w * h)
        for l in tally.priorBytes.indices {
            XCTAssertGreaterThan(tally.zstdBytes[l], 0)
            XCTAssertGreaterThanOrEqual(Double(tally.priorBytes[l] * 8), tally.floorBits[l], "level \(l + 1)")
        }
        for coder in 0..<2 { XCTAssertGreaterThan(tally.fileBytes[coder][1], tally.fileBytes[coder][0]) }
    }
}
