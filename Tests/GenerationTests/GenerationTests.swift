import Foundation
import Generation
import ImageIO
import Models
import NN
import VQZ
import XCTest

/// Generator and Inpainter against the bundled tokenizer, with small untrained priors: what is
/// tested is the plumbing (which pixels change, determinism, refusals), not the pictures.
final class GenerationTests: XCTestCase {
    static let tokenizer = try! TokenizerModel.bundled()

    func prior(_ kind: PriorKind, tokenizer: TokenizerModel = GenerationTests.tokenizer,
               metadata: [String: String]? = nil) throws -> PriorModel {
        let config = kind == .pixelcnn
            ? PriorConfig(kind: .pixelcnn, codebookSize: tokenizer.config.codebookSize, width: 8, layers: 2)
            : PriorConfig(kind: kind, codebookSize: tokenizer.config.codebookSize, width: 16, layers: 1, heads: 2)
        let net = Priors.make(config, seed: 5)
        return try PriorModel(weights: Priors.exportWeights(net, name: "test", metadata: metadata ?? TokenizerRecord.metadata(tokenizer)))
    }

    /// A smooth picture with some texture, RGB.
    func picture(width: Int, height: Int) -> Image {
        var s = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                s[(y * width + x) * 3] = UInt8((x * 255) / width)
                s[(y * width + x) * 3 + 1] = UInt8((y * 255) / height)
                s[(y * width + x) * 3 + 2] = UInt8(((x / 4 + y / 4) % 2) * 120 + 60)
            }
        }
        return Image(width: width, height: height, channels: 3, samples8: s)
    }

    func testInpaintKeepsPixelsBeyondTheSeamExactly() throws {
        let image = picture(width: 100, height: 72)
        let (hx, hy, hw, hh) = (37, 21, 22, 19)
        let hole = try Inpainter.rectangle(x: hx, y: hy, w: hw, h: hh, imageWidth: 100, imageHeight: 72)
        for kind in PriorKind.allCases {
            for context in InpaintOptions.Context.allCases {
                var options = InpaintOptions()
                options.context = context
                options.feather = 4
                options.candidates = 4
                let out = try Inpainter(codec: Codec(model: Self.tokenizer), prior: prior(kind)).inpaint(image, hole: hole, options: options)
                XCTAssertEqual(out.width, 100)
                XCTAssertEqual(out.channels, 3)
                let a = image.samples8, b = out.samples8
                var changedInside = 0
                for y in 0..<72 {
                    for x in 0..<100 {
                        // Chebyshev distance to the rectangle: beyond 4 (Euclidean >= Chebyshev) nothing may change.
                        let dx = max(hx - x, 0, x - (hx + hw - 1)), dy = max(hy - y, 0, y - (hy + hh - 1))
                        let i = (y * 100 + x) * 3
                        if max(dx, dy) > 4 {
                            XCTAssertEqual(Array(a[i..<(i + 3)]), Array(b[i..<(i + 3)]), "\(kind) \(context): pixel \(x),\(y) outside the seam changed")
                        } else if dx == 0 && dy == 0 && a[i..<(i + 3)] != b[i..<(i + 3)] {
                            changedInside += 1
                        }
                    }
                }
                XCTAssertGreaterThan(changedInside, hw * hh / 2, "\(kind) \(context): the hole was not refilled")
            }
        }
    }

    /// A stroke too thin to cover most of any token's block is the harmonic blur of its border:
    /// nothing is drawn, and no pixel outside it changes. A wide hole gets drawn tokens instead.
    func testThinHoleIsTheBlurAndAWideOneIsDrawn() throws {
        let image = picture(width: 96, height: 64)
        var stroke = [Bool](repeating: false, count: 96 * 64)
        for y in 10..<54 { for x in (y + 10)..<(y + 13) { stroke[y * 96 + x] = true } }
        let inpainter = try Inpainter(codec: Codec(model: Self.tokenizer), prior: prior(.masked))
        let thin = try inpainter.inpaint(image, hole: stroke, options: InpaintOptions())
        XCTAssertEqual(thin.samples8, harmonicFill(image.samples8, width: 96, height: 64, hole: stroke))

        let square = try Inpainter.rectangle(x: 30, y: 14, w: 36, h: 36, imageWidth: 96, imageHeight: 64)
        let wide = try inpainter.inpaint(image, hole: square, options: InpaintOptions())
        XCTAssertNotEqual(wide.samples8, harmonicFill(image.samples8, width: 96, height: 64, hole: square))
    }

    /// A fill off by a constant is corrected to the original: the correction takes the border's values.
    func testSeamlessCorrectionRemovesAnOffset() throws {
        let image = picture(width: 48, height: 40)
        let inpainter = try Inpainter(codec: Codec(model: Self.tokenizer), prior: prior(.masked))
        let hole = try Inpainter.rectangle(x: 12, y: 10, w: 20, h: 16, imageWidth: 48, imageHeight: 40)
        let smooth = image.samples8.enumerated().map { i, v in i % 3 == 2 ? UInt8(100) : v }   // no checkerboard
        let off = smooth.map { UInt8(min(255, Int($0) + 30)) }
        let fixed = inpainter.seamless(off, original: smooth, domain: hole, width: 48, height: 40)
        for i in 0..<(48 * 40) where hole[i] {
            for c in 0..<3 { XCTAssertEqual(Double(fixed[3 * i + c]), Double(smooth[3 * i + c]), accuracy: 1.5, "pixel \(i)") }
        }
    }

    /// A fill drawn in a colour the surroundings lack takes their colour and keeps its texture;
    /// nothing outside the hole changes.
    func testDetailTransferKeepsTheTextureAndTakesTheBorderColour() {
        let (w, h) = (64, 64), border: [UInt8] = [100, 150, 200]
        let base = (0..<(w * h)).flatMap { _ in border }
        let hole = (0..<(w * h)).map { i in (16..<48).contains(i % w) && (16..<48).contains(i / w) }
        let fill = (0..<(w * h)).flatMap { i -> [UInt8] in
            let texture = (i % w + i / w) % 2 == 0 ? 20 : -20
            return [230, 40, 40].map { UInt8($0 + texture) }
        }
        let out = transplantingDetail(of: fill, onto: base, domain: hole, width: w, height: h, radius: 2)
        var mean = [Double](repeating: 0, count: 3), swing = 0.0
        let inside = (0..<(w * h)).filter { hole[$0] }
        for i in inside {
            for c in 0..<3 { mean[c] += Double(out[3 * i + c]) / Double(inside.count) }
            swing += abs(Double(out[3 * i]) - Double(border[0])) / Double(inside.count)
        }
        for c in 0..<3 { XCTAssertEqual(mean[c], Double(border[c]), accuracy: 2, "channel \(c) takes the border's colour") }
        XCTAssertGreaterThan(swing, 15, "the fill's checkerboard survives")
        for i in 0..<(w * h) where !hole[i] { XCTAssertEqual(Array(out[(3 * i)..<(3 * i + 3)]), border) }
    }

    func testInpaintIsDeterministicForASeed() throws {
        let image = picture(width: 64, height: 48)
        let hole = try Inpainter.rectangle(x: 20, y: 10, w: 16, h: 16, imageWidth: 64, imageHeight: 48)
        let inpainter = try Inpainter(codec: Codec(model: Self.tokenizer), prior: prior(.pixelcnn))
        var options = InpaintOptions()
        options.candidates = 4
        let first = try inpainter.inpaint(image, hole: hole, options: options)
        XCTAssertEqual(first, try inpainter.inpaint(image, hole: hole, options: options))
        options.seed = 2
        XCTAssertNotEqual(first, try inpainter.inpaint(image, hole: hole, options: options))
    }

    func testInpaintKeepsGrayAndAlphaLayout() throws {
        var s = [UInt8](repeating: 0, count: 40 * 32 * 2)
        for i in 0..<(40 * 32) { s[2 * i] = UInt8(i % 200); s[2 * i + 1] = UInt8(255 - i % 50) }
        let image = Image(width: 40, height: 32, channels: 2, samples8: s)
        let hole = try Inpainter.rectangle(x: 10, y: 10, w: 8, h: 8, imageWidth: 40, imageHeight: 32)
        var options = InpaintOptions()
        options.context = .raster
        let out = try Inpainter(codec: Codec(model: Self.tokenizer), prior: prior(.transformer)).inpaint(image, hole: hole, options: options)
        XCTAssertEqual(out.channels, 2)
        for i in 0..<(40 * 32) { XCTAssertEqual(out.samples8[2 * i + 1], s[2 * i + 1], "alpha is kept everywhere") }
    }

    func testRefusals() throws {
        let codec = Codec(model: Self.tokenizer)
        XCTAssertThrowsError(try Inpainter.rectangle(x: 30, y: 0, w: 20, h: 5, imageWidth: 40, imageHeight: 30)) { e in
            XCTAssertEqual(e as? GenerationError, .badSize("rectangle 30,0,20,5 does not lie inside the 40x30 image"))
        }
        let mask = Image(width: 10, height: 10, channels: 1, samples8: Array(repeating: 255, count: 100))
        XCTAssertThrowsError(try Inpainter.mask(from: mask, imageWidth: 40, imageHeight: 30)) { e in
            XCTAssertEqual(e as? GenerationError, .maskSizeMismatch(mask: "10x10", image: "40x30"))
        }
        let inpainter = try Inpainter(codec: codec, prior: prior(.pixelcnn))
        let image = picture(width: 32, height: 32)
        XCTAssertThrowsError(try inpainter.inpaint(image, hole: Array(repeating: false, count: 32 * 32))) { e in
            XCTAssertEqual(e as? GenerationError, .emptyHole)
        }
        XCTAssertThrowsError(try inpainter.inpaint(image, hole: Array(repeating: true, count: 32 * 32))) { e in
            XCTAssertEqual(e as? GenerationError, .holeCoversImage)
        }
        // A prior trained on another tokenizer's tokens is refused by name.
        let other = try prior(.pixelcnn, metadata: [TokenizerRecord.nameKey: "other",
                                                    TokenizerRecord.digestKey: String(repeating: "ab", count: 16)])
        XCTAssertThrowsError(try Generator(codec: codec, prior: other)) { e in
            guard case .priorTokenizerMismatch(let p, let t)? = e as? GenerationError else { return XCTFail("\(e)") }
            XCTAssertEqual(p, "other@abababababababab")
            XCTAssertEqual(t, Self.tokenizer.tokens.description)
        }
        XCTAssertThrowsError(try Inpainter(codec: codec, prior: other))
        // The transformer's context is 16x16 tokens.
        let generator = try Generator(codec: codec, prior: prior(.transformer))
        XCTAssertThrowsError(try generator.generate(width: 200, height: 64, count: 1, seed: 1, options: SamplingOptions())) { e in
            XCTAssertEqual(e as? GenerationError, .gridTooLarge(rows: 8, cols: 25, maxRows: 16, maxCols: 16))
        }
    }

    func testGenerateSizesAndDeterminism() throws {
        let generator = try Generator(codec: Codec(model: Self.tokenizer), prior: prior(.transformer))
        let options = SamplingOptions(temperature: 1, topK: 50)
        let a = try generator.generate(width: 44, height: 30, count: 2, seed: 9, options: options)
        XCTAssertEqual(a.count, 2)
        XCTAssertEqual(a[0].width, 44)
        XCTAssertEqual(a[0].height, 30)
        XCTAssertEqual(a, try generator.generate(width: 44, height: 30, count: 2, seed: 9, options: options))
        XCTAssertNotEqual(a[0], a[1])
        let sheet = Generator.contactSheet(a, gap: 4)
        XCTAssertEqual(sheet.width, 2 * 44 + 4)
        XCTAssertEqual(sheet.height, 30)
    }
}
