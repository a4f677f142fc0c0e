import Foundation
import ImageIO
import Models
import NN
import StandardFormats
import VQZ
import XCTest

/// The codec end to end through the bundled tokenizer, without the CLI.
final class CodecTests: XCTestCase {
    static let model = try! TokenizerModel.bundled()

    /// A photo-like test image: smooth gradients, an edge and some texture.
    static func testImage(width: Int, height: Int, channels: Int = 3) -> Image {
        var rng = SeededGenerator(seed: UInt64(width * 31 + height))
        var s = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    let base = (x * 255 / max(width, 1) + y * 97 / max(height, 1) + c * 60) % 256
                    let edge = x > width / 2 ? 40 : 0
                    s[(y * width + x) * channels + c] = UInt8((base + edge + Int(rng.next() % 9)) % 256)
                }
            }
        }
        return Image(width: width, height: height, channels: channels, samples8: s)
    }

    /// Tiles are sized by the widest activation: the first photo tokenizer's full-resolution 32
    /// channels keep 96 tokens (a 768x512 photo in one tile), v2's 64 at half resolution 128.
    func testTileSideFollowsTheWidestActivation() throws {
        XCTAssertEqual(Codec(model: try TokenizerModel.bundled(.firstPhotos)).tileTokens, 96)
        XCTAssertEqual(Self.model.config.widestActivationPerPixel, 16)
        XCTAssertEqual(Codec(model: Self.model).tileTokens, 128)
        XCTAssertEqual(Codec.tileTokens(for: TokenizerConfig(channels: [8, 16, 32, 64])), 192)
    }

    func testTiledProcessingEqualsWholeImage() throws {
        let image = Self.testImage(width: 203, height: 141)
        // The f32 decoder first: tiles must add nothing but last-bit rounding.
        let model = try TokenizerModel.bundled()
        model.network.decoderPrecision = .float32
        let whole = Codec(model: model)
        whole.tileTokens = 1000
        let tiled = Codec(model: model)
        tiled.tileTokens = 7   // 26x18 grid: many tiles, every kind of border
        let a = whole.tokenize(image, levels: model.levels)
        let b = tiled.tokenize(image, levels: model.levels)
        XCTAssertEqual(a, b, "tokens differ between tiled and whole-image encoding")
        let p = whole.reconstruct(a, width: 203, height: 141), q = tiled.reconstruct(a, width: 203, height: 141)
        let diffs = zip(p, q).enumerated().filter { $0.element.0 != $0.element.1 }
        let worst = diffs.map { abs(Int($0.element.0) - Int($0.element.1)) }.max() ?? 0
        // sgemm's results can differ in the last bit with the shape of the product (OpenBLAS picks
        // kernels by size), which moves a rare sample across a rounding boundary: allow that, and
        // nothing a seam would cause.
        XCTAssertLessThanOrEqual(worst, 1, "tiled decoding differs by up to \(worst) levels")
        XCTAssertLessThan(diffs.count, p.count / 1000, "\(diffs.count) samples differ between tiled and whole-image decoding")

        // The integer decoder (the default) scales each tensor's activations by its own largest value,
        // so a tile's scale depends on what the tile holds: its output differs from f32 by ~0.16
        // levels RMS (63-64 dB on the validation photos), so a few percent of samples round to the
        // other side, by one level; a seam would move them by more.
        model.network.decoderPrecision = .int16
        let pi = whole.reconstruct(a, width: 203, height: 141), qi = tiled.reconstruct(a, width: 203, height: 141)
        let moved = zip(pi, qi).filter { $0 != $1 }.count
        let worstInteger = zip(pi, qi).map { abs(Int($0) - Int($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worstInteger, 1, "integer tiled decoding differs by up to \(worstInteger) levels")
        XCTAssertLessThan(moved, p.count / 20, "\(moved) samples differ between integer tiled and whole-image decoding")
    }

    /// The encoder's output decoded without quantization goes through the same tiles as the codec,
    /// and is the limit the levels approach: better than level 1, and not far from the top level.
    func testUnquantizedReconstructionIsTheLevelsLimit() throws {
        let image = Self.testImage(width: 203, height: 141)
        let whole = Codec(model: Self.model)
        whole.tileTokens = 1000
        let tiled = Codec(model: Self.model)
        tiled.tileTokens = 7
        let p = whole.reconstructUnquantized(image), q = tiled.reconstructUnquantized(image)
        let worst = zip(p, q).map { abs(Int($0) - Int($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1, "tiled unquantized decoding differs by up to \(worst) levels")

        let rgb = image.samples8
        let unquantized = psnr(rgb, p)
        let level = { (l: Int) in psnr(rgb, try whole.decompress(whole.compress(image, levels: l)).samples8) }
        let (first, top) = (try level(1), try level(Self.model.levels))
        XCTAssertGreaterThan(unquantized, first, "one level is as good as no quantization")
        XCTAssertGreaterThan(unquantized, top - 0.5, "the top level is far better than its own limit")
    }

    /// On the sample photo the tint plane pays at level 1: the file carries it, decodes through its
    /// bytes to the picture the encoder measured, and is closer to the photo than the tokens alone.
    func testTheTintPlaneIsKeptWhereItPaysAndDecodesAsMeasured() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../samples/dandelion-768x512.png")
        let photo = try FormatRegistry.standard.decode([UInt8](Data(contentsOf: path)))
        let codec = Codec(model: Self.model)
        let plain = try codec.analyse(photo).file(quality: .levels(1))
        let (file, picture) = try codec.tinted(plain, fittedTo: photo)
        let plane = try XCTUnwrap(file.tint, "no tint plane at level 1")
        XCTAssertEqual(plane.channels, 3)
        let decoded = try codec.decompress(VQZFile(decoding: file.encode()))
        XCTAssertEqual(decoded.samples8, picture.samples8)
        let before = psnr(photo.samples8, try codec.decompress(plain).samples8), after = psnr(photo.samples8, decoded.samples8)
        XCTAssertGreaterThan(after, before + 0.1)

        codec.tintPlanes = false
        XCTAssertNil(try codec.compress(photo, levels: 1).tint)
    }

    /// Refined tokens (`compress --effort`) keep the depth map rate control chose, decode closer
    /// to the picture than nearest codes, and do not depend on the thread count: tokens must be
    /// the same on every machine.
    func testRefinedTokensDecodeCloserAndDependOnNothingButThePicture() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../samples/leaf-256.jpg")
        let photo = try FormatRegistry.standard.decode([UInt8](Data(contentsOf: path)))
        let model = try TokenizerModel.bundled()
        model.network.decoderPrecision = .float32
        let codec = Codec(model: model)
        let plain = try codec.analyse(photo).file(quality: .scale(60))
        XCTAssertNotNil(plain.tokens.depth, "the test wants a depth map")
        var refinement = TokenRefinement(rounds: 3)
        let refined = codec.refined(plain, toMatch: photo, by: refinement)
        XCTAssertEqual(refined.tokens.depth, plain.tokens.depth)
        XCTAssertEqual(refined.tokens.codebookSizes, plain.tokens.codebookSizes)
        XCTAssertEqual(try VQZFile(decoding: refined.encode()).tokens, refined.tokens, "refined tokens are stored as they are")
        XCTAssertNotEqual(refined.tokens, plain.tokens)
        let before = psnr(photo.samples8, try codec.decompress(plain).samples8)
        let after = psnr(photo.samples8, try codec.decompress(refined).samples8)
        XCTAssertGreaterThan(after, before)

        let saved = Threads.count
        defer { Threads.set(saved) }
        refinement.tileTokens = 12   // a 32x32 grid: tiles with every kind of border
        Threads.set(1)
        let one = codec.refined(plain, toMatch: photo, by: refinement)
        Threads.set(2)
        XCTAssertEqual(codec.refined(plain, toMatch: photo, by: refinement).tokens, one.tokens)
    }

    func testRoundTripKeepsSizeAndLayout() throws {
        let codec = Codec(model: Self.model)
        for (w, h) in [(1, 1), (7, 5), (8193, 3), (64, 64), (65, 9)] {
            let file = try codec.compress(Self.testImage(width: w, height: h), levels: 1)
            let decoded = try codec.decompress(try VQZFile(decoding: try file.encode()))
            XCTAssertEqual([decoded.width, decoded.height, decoded.channels], [w, h, 3], "\(w)x\(h)")
            let f = Self.model.downsampling
            XCTAssertEqual([file.tokens.width, file.tokens.height], [(w + f - 1) / f, (h + f - 1) / f])
        }
    }

    func testGrayComesBackGrayAndAlphaIsExact() throws {
        let codec = Codec(model: Self.model)
        let gray = try codec.decompress(codec.compress(Self.testImage(width: 40, height: 24, channels: 1)))
        XCTAssertEqual(gray.channels, 1)

        let rgba = Self.testImage(width: 40, height: 24, channels: 4)
        let back = try codec.decompress(VQZFile(decoding: codec.compress(rgba).encode()))
        XCTAssertEqual(back.channels, 4)
        let alphaIn = stride(from: 3, to: rgba.samples8.count, by: 4).map { rgba.samples8[$0] }
        let alphaOut = stride(from: 3, to: back.samples8.count, by: 4).map { back.samples8[$0] }
        XCTAssertEqual(alphaIn, alphaOut)

        let dropped = try codec.decompress(codec.compress(rgba, keepAlpha: false))
        XCTAssertEqual(dropped.channels, 3)

        let grayAlpha = try codec.decompress(codec.compress(Self.testImage(width: 9, height: 9, channels: 2)))
        XCTAssertEqual(grayAlpha.channels, 2)
    }

    func testSixteenBitInputIsReducedToEightBits() throws {
        let codec = Codec(model: Self.model)
        let eight = Self.testImage(width: 32, height: 16)
        let sixteen = Image(width: 32, height: 16, channels: 3, samples16: eight.samples8.map { UInt16($0) * 257 })
        XCTAssertEqual(try codec.compress(sixteen).tokens, try codec.compress(eight).tokens)
    }

    func testEachLevelAddsTokensAndTheLevelIsChecked() throws {
        let codec = Codec(model: Self.model)
        let image = Self.testImage(width: 64, height: 48)
        for level in 1...Self.model.levels {
            let file = try codec.compress(image, levels: level)
            XCTAssertEqual(file.tokens.levels.count, level)
            // A prefix of levels is the same tokens: level L refines level L-1, it does not replace it.
            if level > 1 {
                XCTAssertEqual(file.tokens.levels[0], try codec.compress(image, levels: 1).tokens.levels[0])
            }
        }
        XCTAssertThrowsError(try codec.compress(image, levels: Self.model.levels + 1)) { error in
            XCTAssertEqual(error as? CodecError, .levelOutOfRange(Self.model.levels + 1, available: Self.model.levels))
        }
    }

    func testFileFromAnotherModelIsRefusedNamingIt() throws {
        let codec = Codec(model: Self.model)
        var file = try codec.compress(Self.testImage(width: 16, height: 16))
        file.model = ModelFingerprint(name: "other-model", digest: Array(repeating: 7, count: 16))
        XCTAssertThrowsError(try codec.decompress(file)) { error in
            XCTAssertTrue(String(describing: error).contains("other-model"), "\(error)")
        }
    }

    func testReconstructionIsCloseToTheSample() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../samples/dandelion-768x512.png")
        let image = try FormatRegistry.standard.decode([UInt8](Data(contentsOf: url)))
        let codec = Codec(model: Self.model)
        var previous = 0.0
        for level in [1, Self.model.levels] {
            let out = try codec.decompress(codec.compress(image, levels: level))
            let quality = psnr(image.withChannels(3).samples8, out.samples8)
            // Loose floors that only a broken codec misses; docs/BENCHMARKS.md has the real figures.
            XCTAssertGreaterThan(quality, 20, "level \(level)")
            XCTAssertGreaterThan(quality, previous, "level \(level) is no better than a lower one")
            previous = quality
        }
    }
}
