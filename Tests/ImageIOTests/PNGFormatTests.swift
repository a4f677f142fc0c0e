import ImageIO
import PNGFormat
import XCTest

final class PNGFormatTests: XCTestCase {
    /// A PNG that ImageMagick writes from the test picture, and what it must hold.
    struct Variant {
        let name: String
        let arguments: [String]
        var outputPrefix = ""
        let bitDepth: UInt8       // IHDR, as stored
        let colorType: UInt8      // IHDR: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
        var interlaced = false
        var transparency = false  // has a tRNS chunk
        let channels: Int         // after decoding
        let decodedDepth: Int
    }

    static func gray(_ depth: Int) -> [String] {
        ["-alpha", "off", "-colorspace", "Gray", "-depth", "\(depth)", "-define", "png:bit-depth=\(depth)",
         "-define", "png:color-type=0"]
    }

    static let variants: [Variant] = [
        Variant(name: "gray1", arguments: gray(1), bitDepth: 1, colorType: 0, channels: 1, decodedDepth: 8),
        Variant(name: "gray2", arguments: gray(2), bitDepth: 2, colorType: 0, channels: 1, decodedDepth: 8),
        Variant(name: "gray4", arguments: gray(4), bitDepth: 4, colorType: 0, channels: 1, decodedDepth: 8),
        Variant(name: "gray8", arguments: gray(8), bitDepth: 8, colorType: 0, channels: 1, decodedDepth: 8),
        Variant(name: "gray16", arguments: gray(16), bitDepth: 16, colorType: 0, channels: 1, decodedDepth: 16),
        Variant(name: "gray-alpha8", arguments: ["-colorspace", "Gray", "-depth", "8", "-define", "png:color-type=4"],
                bitDepth: 8, colorType: 4, channels: 2, decodedDepth: 8),
        Variant(name: "gray-alpha16", arguments: ["-colorspace", "Gray", "-depth", "16", "-define", "png:color-type=4"],
                bitDepth: 16, colorType: 4, channels: 2, decodedDepth: 16),
        Variant(name: "rgb8", arguments: ["-alpha", "off", "-depth", "8", "-define", "png:color-type=2"],
                bitDepth: 8, colorType: 2, channels: 3, decodedDepth: 8),
        Variant(name: "rgb16", arguments: ["-alpha", "off", "-depth", "16", "-define", "png:color-type=2"],
                bitDepth: 16, colorType: 2, channels: 3, decodedDepth: 16),
        Variant(name: "rgba8", arguments: ["-depth", "8", "-define", "png:color-type=6"],
                bitDepth: 8, colorType: 6, channels: 4, decodedDepth: 8),
        Variant(name: "rgba16", arguments: ["-depth", "16", "-define", "png:color-type=6"],
                bitDepth: 16, colorType: 6, channels: 4, decodedDepth: 16),
        Variant(name: "palette8", arguments: ["-alpha", "off", "-colors", "50", "-depth", "8", "-define", "png:color-type=3"],
                bitDepth: 8, colorType: 3, channels: 3, decodedDepth: 8),
        // ImageMagick keeps a palette entry spare: 3 colors make a 2-bit palette, 12 a 4-bit one.
        Variant(name: "palette2", arguments: ["-alpha", "off", "-colors", "3", "-define", "png:color-type=3",
                                              "-define", "png:bit-depth=2"],
                bitDepth: 2, colorType: 3, channels: 3, decodedDepth: 8),
        Variant(name: "palette4", arguments: ["-alpha", "off", "-colors", "12", "-define", "png:color-type=3",
                                              "-define", "png:bit-depth=4"],
                bitDepth: 4, colorType: 3, channels: 3, decodedDepth: 8),
        Variant(name: "palette-trns", arguments: ["-channel", "A", "-fx", "u>0.5?1:(u>0.25?0.5:0)", "+channel",
                                                  "-depth", "8", "-colors", "50"],
                outputPrefix: "PNG8:", bitDepth: 8, colorType: 3, transparency: true, channels: 4, decodedDepth: 8),
        Variant(name: "interlaced-rgba8", arguments: ["-depth", "8", "-define", "png:color-type=6", "-interlace", "PNG"],
                bitDepth: 8, colorType: 6, interlaced: true, channels: 4, decodedDepth: 8),
        Variant(name: "interlaced-gray2", arguments: gray(2) + ["-interlace", "PNG"],
                bitDepth: 2, colorType: 0, interlaced: true, channels: 1, decodedDepth: 8),
        Variant(name: "interlaced-rgb16", arguments: ["-alpha", "off", "-depth", "16", "-define", "png:color-type=2",
                                                      "-interlace", "PNG"],
                bitDepth: 16, colorType: 2, interlaced: true, channels: 3, decodedDepth: 16),
        Variant(name: "interlaced-palette-trns", arguments: ["-channel", "A", "-fx", "u>0.5?1:0", "+channel",
                                                             "-depth", "8", "-colors", "30", "-interlace", "PNG"],
                outputPrefix: "PNG8:", bitDepth: 8, colorType: 3, interlaced: true, transparency: true,
                channels: 4, decodedDepth: 8),
    ]

    /// ImageMagick's decoding as 16-bit RGBA, the common ground for every variant.
    func reference(_ path: String) throws -> [UInt16] {
        samples16(bigEndian: try ExternalTools.run(try ExternalTools.requireConvert(),
                                                   [path, "-depth", "16", "-endian", "MSB", "rgba:-"]))
    }

    func sourcePath() throws -> String {
        try FixtureDirectory.shared.write(PNMFormat().encode(TestImages.rgba16()), to: "png-source.pam")
    }

    func testDecodesEveryVariantExactlyAsImageMagick() throws {
        let convert = try ExternalTools.requireConvert()
        let source = try sourcePath()
        for variant in Self.variants {
            let path = FixtureDirectory.shared.path("variant-\(variant.name).png")
            try ExternalTools.run(convert, [source] + variant.arguments + [variant.outputPrefix + path])
            let png = try FixtureDirectory.shared.read("variant-\(variant.name).png")
            // The fixture must be the variant it claims to be, or the test covers less than it says.
            XCTAssertEqual(png[24], variant.bitDepth, "\(variant.name): IHDR bit depth")
            XCTAssertEqual(png[25], variant.colorType, "\(variant.name): IHDR color type")
            XCTAssertEqual(png[28], variant.interlaced ? 1 : 0, "\(variant.name): IHDR interlace")
            XCTAssertEqual(TestImages.pngChunkNames(png).contains("tRNS"), variant.transparency, "\(variant.name): tRNS")

            let image = try PNGFormat().decode(png, limits: DecodeLimits())
            XCTAssertEqual(image.width, 37, variant.name)
            XCTAssertEqual(image.height, 23, variant.name)
            XCTAssertEqual(image.channels, variant.channels, "\(variant.name): channels")
            XCTAssertEqual(image.bitDepth, variant.decodedDepth, "\(variant.name): bit depth")
            assertSamples(image.withChannels(4).samples16, try reference(path), variant.name)
        }
    }

    /// tRNS on gray and RGB images names one transparent color; it must become an alpha channel.
    func testTransparentColorChunkBecomesAlpha() throws {
        let gray = Image(width: 4, height: 2, channels: 1, samples8: [0, 10, 20, 10, 30, 10, 40, 50])
        let grayPNG = TestImages.insertingPNGChunk(TestImages.pngChunk("tRNS", [0, 10]),
                                                   into: try PNGFormat().encode(gray, options: EncodeOptions()))
        let decodedGray = try PNGFormat().decode(grayPNG, limits: DecodeLimits())
        XCTAssertEqual(decodedGray.channels, 2)
        XCTAssertEqual(decodedGray.samples8, [0, 255, 10, 0, 20, 255, 10, 0, 30, 255, 10, 0, 40, 255, 50, 255])

        let rgb = Image(width: 2, height: 1, channels: 3, samples8: [1, 2, 3, 4, 5, 6])
        let rgbPNG = TestImages.insertingPNGChunk(TestImages.pngChunk("tRNS", [0, 4, 0, 5, 0, 6]),
                                                  into: try PNGFormat().encode(rgb, options: EncodeOptions()))
        let decodedRGB = try PNGFormat().decode(rgbPNG, limits: DecodeLimits())
        XCTAssertEqual(decodedRGB.samples8, [1, 2, 3, 255, 4, 5, 6, 0])

        // ImageMagick agrees.
        let path = try FixtureDirectory.shared.write(rgbPNG, to: "rgb-trns.png")
        assertSamples(decodedRGB.withChannels(4).samples16, try reference(path), "rgb tRNS")
    }

    func testRoundTripsEveryLayoutExactly() throws {
        for image in TestImages.allLayouts() {
            for level in [0, 6, 9] {
                let png = try PNGFormat().encode(image, options: EncodeOptions(compressionLevel: level))
                XCTAssertEqual(try PNGFormat().decode(png, limits: DecodeLimits()), image,
                               "\(image.channels) channels, \(image.bitDepth) bit, level \(level)")
            }
        }
    }

    func testImageMagickReadsWhatWeWrite() throws {
        for image in TestImages.allLayouts() {
            let label = "\(image.channels) channels, \(image.bitDepth) bit"
            let png = try PNGFormat().encode(image, options: EncodeOptions())
            XCTAssertEqual(png[24], UInt8(image.bitDepth), label)
            let path = try FixtureDirectory.shared.write(png, to: "ours-\(image.channels)-\(image.bitDepth).png")
            assertSamples(try reference(path), image.withChannels(4).samples16, label)
        }
    }

    func testCompressionLevelChangesSize() throws {
        let image = TestImages.rgba16(width: 64, height: 64).converted(toBitDepth: 8)
        let stored = try PNGFormat().encode(image, options: EncodeOptions(compressionLevel: 0))
        let packed = try PNGFormat().encode(image, options: EncodeOptions(compressionLevel: 9))
        XCTAssertGreaterThan(stored.count, 64 * 64 * 4)
        XCTAssertLessThan(packed.count, stored.count)
    }

    func testRejectsBadOptionsAndEmptyImages() {
        let image = Image(width: 1, height: 1, channels: 1, samples8: [0])
        assertThrows(ImageEncodingError.invalidOption("PNG compression level 10 is outside 0...9"), "level 10") {
            try PNGFormat().encode(image, options: EncodeOptions(compressionLevel: 10))
        }
        assertThrows(ImageEncodingError.unsupported("an empty image"), "empty") {
            try PNGFormat().encode(Image(width: 0, height: 3, channels: 3, samples8: []), options: EncodeOptions())
        }
    }
}
