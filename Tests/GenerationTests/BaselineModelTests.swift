import Foundation
import Generation
import ImageIO
import Models
import NN
import VQZ
import XCTest

/// BaselineModel and ReconstructionModel with small untrained baselines: tiling, image plumbing
/// (size, gray, alpha), sampling determinism and refusals; not picture quality.
final class BaselineModelTests: XCTestCase {
    func baseline(_ kind: AutoencoderKind) throws -> BaselineModel {
        let net = Autoencoder(config: AutoencoderConfig(kind: kind, channels: [4, 6, 8], bottomBlocks: 1, codeDim: 3), seed: 4)
        return try BaselineModel(weights: net.exportWeights(name: "tiny-\(kind)"), fallbackName: "x")
    }

    func picture(width: Int, height: Int, channels: Int = 3) -> Image {
        var s = [UInt8](repeating: 0, count: width * height * channels)
        for i in 0..<s.count { s[i] = UInt8((i * 37 + (i / (width * channels)) * 11) % 256) }
        return Image(width: width, height: height, channels: channels, samples8: s)
    }

    /// Small tiles with context margins give the pixels of one whole-image tile (the margin covers
    /// the tiny networks' receptive field), on a size that is not a multiple of f. As in Codec's
    /// test, sgemm may round differently with the shape of the product, which can move a rare
    /// sample across a rounding boundary: one level, nothing a seam would cause.
    func testTilesMatchWholeImage() throws {
        for kind in AutoencoderKind.allCases {
            let model = try baseline(kind)
            let image = picture(width: 45, height: 30)
            let whole = try model.reconstruct(image).samples8
            model.tileTokens = 2
            model.marginTokens = 6
            let tiled = try model.reconstruct(image).samples8
            let diffs = zip(whole, tiled).filter { $0 != $1 }
            let worst = diffs.map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1, "\(kind): tiled reconstruction differs by up to \(worst) levels")
            XCTAssertLessThan(diffs.count, whole.count / 100, "\(kind): \(diffs.count) samples differ")
        }
    }

    func testReconstructionKeepsSizeGrayAndAlpha() throws {
        let model = try baseline(.vae)
        let gray = try model.reconstruct(picture(width: 13, height: 9, channels: 1))
        XCTAssertEqual([gray.width, gray.height, gray.channels], [13, 9, 1])
        let rgba = picture(width: 10, height: 7, channels: 4)
        let out = try model.reconstruct(rgba)
        XCTAssertEqual(out.channels, 4)
        let (a, b) = (out.samples8, rgba.samples8)
        for i in 0..<70 { XCTAssertEqual(a[i * 4 + 3], b[i * 4 + 3], "alpha of pixel \(i)") }
    }

    /// Image i of a batch comes from RNG(seed + i): the same seed gives the same images, and the
    /// second image of a batch of two is the first of a batch started one seed later.
    func testSamplingIsDeterministic() throws {
        let model = try baseline(.vae)
        let a = try model.sample(width: 20, height: 12, count: 2, seed: 7)
        XCTAssertEqual(a, try model.sample(width: 20, height: 12, count: 2, seed: 7))
        XCTAssertEqual(a[1], try model.sample(width: 20, height: 12, count: 1, seed: 8)[0])
        XCTAssertNotEqual(a[0], a[1])
        XCTAssertEqual([a[0].width, a[0].height, a[0].channels], [20, 12, 3])
    }

    func testAutoencoderHasNoPrior() throws {
        XCTAssertThrowsError(try baseline(.ae).sample(width: 8, height: 8, count: 1, seed: 1)) {
            XCTAssertEqual($0 as? BaselineError, .noLatentPrior("tiny-ae"))
        }
    }

    /// ReconstructionModel tells the families apart by their metadata; the VQ tokenizer goes
    /// through the codec (equal to compress then decompress) and a baseline refuses levels.
    func testReconstructionModelDispatch() throws {
        let net = Autoencoder(config: AutoencoderConfig(kind: .ae, channels: [4, 6], bottomBlocks: 1, codeDim: 3))
        guard case .baseline(let b) = try ReconstructionModel.load(weights: net.exportWeights(name: "ae"), fallbackName: "x") else {
            return XCTFail("autoencoder weights did not load as a baseline")
        }
        XCTAssertEqual(b.kind, .ae)
        XCTAssertThrowsError(try ReconstructionModel.baseline(b).reconstruct(picture(width: 8, height: 8), levels: 1))
        let tokenizer = try TokenizerModel.bundled()
        let image = picture(width: 24, height: 16)
        let codec = Codec(model: tokenizer)
        let expected = try codec.decompress(try codec.compress(image, levels: 1))
        XCTAssertEqual(try ReconstructionModel.tokenizer(codec).reconstruct(image, levels: 1), expected)
    }
}
