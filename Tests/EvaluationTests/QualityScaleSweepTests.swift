import Evaluation
import Foundation
import ImageIO
import Models
import StandardFormats
import VQZ
import XCTest

/// The quality scale as `vqz eval scale` measures it, on the bundled sample photos: a higher
/// `-q` never writes a smaller file or a worse picture.
final class QualityScaleSweepTests: XCTestCase {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../samples").standardized

    func picture(_ name: String) throws -> RGBPicture {
        let image = try FormatRegistry.standard.decode([UInt8](Data(contentsOf: Self.samples.appendingPathComponent(name))))
            .converted(toBitDepth: 8).withChannels(3)
        return RGBPicture(width: image.width, height: image.height, pixels: image.samples8)
    }

    func testEveryPointOfTheScaleIsAtLeastAsLargeAndAsGoodAsTheOneBefore() throws {
        let codec = Codec(model: try TokenizerModel.bundled())
        for (name, points) in [("leaf-256.jpg", 101), ("dandelion-768x512.png", 51)] {
            let sweep = try QualityScaleSweep(picture(name), codec: codec, points: points, targets: 0)
            XCTAssertEqual(sweep.bytesFalls, [], "\(name): the file shrinks after these qualities")
            XCTAssertEqual(sweep.psnrFalls, [], "\(name): the picture worsens after these qualities")
            XCTAssertGreaterThan(sweep.points.last!.bytes, 3 * sweep.points.first!.bytes, "\(name): the scale spans the levels")
        }
    }
}
