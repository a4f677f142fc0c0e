import ImageIO
import JPEGFormat
import XCTest

final class JPEGFormatTests: XCTestCase {
    /// The 8-bit RGB test picture, and its gray twin, as PNM files for cjpeg and ImageMagick.
    static let rgb = TestImages.rgba16().withChannels(3).converted(toBitDepth: 8)

    func sourcePaths() throws -> (rgb: String, gray: String) {
        let directory = FixtureDirectory.shared
        return (try directory.write(PNMFormat().encode(Self.rgb), to: "jpeg-source.ppm"),
                try directory.write(PNMFormat().encode(Self.rgb.withChannels(1)), to: "jpeg-source.pgm"))
    }

    func cjpeg() throws -> String {
        let path = try ExternalTools.requireDjpeg().replacingOccurrences(of: "djpeg", with: "cjpeg")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ExternalTools.Failure(description: "cjpeg not found: apt-get install libjpeg-turbo-progs")
        }
        return path
    }

    /// djpeg's decoding, read back through the PNM reader (tested on its own in PNMFormatTests).
    func djpegReference(_ path: String) throws -> Image {
        try PNMFormat().decode(try ExternalTools.run(try ExternalTools.requireDjpeg(), ["-pnm", path]),
                               limits: DecodeLimits())
    }

    func testDecodesVariantsWithinOneLevelOfDjpeg() throws {
        let sources = try sourcePaths()
        let cjpeg = try cjpeg()
        let variants: [(name: String, arguments: [String], source: String, channels: Int)] = [
            ("baseline", ["-quality", "90"], sources.rgb, 3),
            ("progressive", ["-quality", "90", "-progressive"], sources.rgb, 3),
            ("gray", ["-quality", "90"], sources.gray, 1),
            ("gray-progressive", ["-progressive"], sources.gray, 1),
            ("rgb-as-gray", ["-grayscale"], sources.rgb, 1),
            ("444", ["-sample", "1x1"], sources.rgb, 3),
            ("422", ["-sample", "2x1"], sources.rgb, 3),
            ("restart-markers", ["-restart", "1"], sources.rgb, 3),
            ("arithmetic", ["-arithmetic"], sources.rgb, 3),
            ("optimized", ["-optimize", "-quality", "50"], sources.rgb, 3),
        ]
        for variant in variants {
            let path = FixtureDirectory.shared.path("jpeg-\(variant.name).jpg")
            try ExternalTools.run(cjpeg, variant.arguments + ["-outfile", path, variant.source])
            let image = try JPEGFormat().decode(try FixtureDirectory.shared.read("jpeg-\(variant.name).jpg"),
                                                limits: DecodeLimits())
            let reference = try djpegReference(path)
            XCTAssertEqual(image.channels, variant.channels, variant.name)
            XCTAssertEqual(image.bitDepth, 8, variant.name)
            XCTAssertEqual([image.width, image.height], [37, 23], variant.name)
            XCTAssertEqual(reference.channels, variant.channels, variant.name)
            assertSamples(image.samples8, reference.samples8, tolerance: 1, variant.name)
        }
    }

    func testConvertsCMYKToRGB() throws {
        let convert = try ExternalTools.requireConvert()
        let path = FixtureDirectory.shared.path("cmyk.jpg")
        try ExternalTools.run(convert, [try sourcePaths().rgb, "-colorspace", "CMYK", "-quality", "95", path])
        let jpeg = try FixtureDirectory.shared.read("cmyk.jpg")
        // Four components in the frame header, or this is not the CMYK case at all.
        let sof = jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }
        XCTAssertEqual(sof.map { jpeg[$0 + 9] }, 4, "components in SOF0")
        let image = try JPEGFormat().decode(jpeg, limits: DecodeLimits())
        XCTAssertEqual(image.channels, 3)
        let reference = try ExternalTools.run(convert, [path, "-colorspace", "sRGB", "-depth", "8", "rgb:-"])
        assertSamples(image.samples8, reference, tolerance: 1, "cmyk against ImageMagick")
        // And still close to the picture it came from.
        XCTAssertLessThan(TestImages.maxDifference(image.samples8, Self.rgb.samples8), 40)
    }

    /// An EXIF orientation in APP1 (either byte order) comes back upright, as ImageMagick's -auto-orient has it.
    func testAppliesEveryExifOrientation() throws {
        let convert = try ExternalTools.requireConvert()
        let plain = try JPEGFormat().encode(Self.rgb, options: EncodeOptions(quality: 95))
        let upright = try JPEGFormat().decode(plain, limits: DecodeLimits())
        for orientation in 1...8 {
            let label = "orientation \(orientation)"
            let tagged = TestImages.insertingAfterSOI(
                TestImages.exifSegment(orientation: orientation, bigEndian: orientation % 2 == 0), into: plain)
            let image = try JPEGFormat().decode(tagged, limits: DecodeLimits())
            let swapped = orientation >= 5
            XCTAssertEqual([image.width, image.height], swapped ? [23, 37] : [37, 23], label)
            let path = try FixtureDirectory.shared.write(tagged, to: "orientation-\(orientation).jpg")
            let reference = try ExternalTools.run(convert, [path, "-auto-orient", "-depth", "8", "rgb:-"])
            assertSamples(image.samples8, reference, tolerance: 1, label)
            if orientation == 6 {
                // Rotated 90 degrees clockwise: the stored top-left pixel is now top-right.
                XCTAssertEqual(image.sample(x: 22, y: 0, channel: 0), upright.sample(x: 0, y: 0, channel: 0))
                XCTAssertEqual(image.sample(x: 0, y: 36, channel: 1), upright.sample(x: 36, y: 22, channel: 1))
            }
        }
    }

    func testRoundTripIsClose() throws {
        for image in [Self.rgb, Self.rgb.withChannels(1)] {
            let decoded = try JPEGFormat().decode(try JPEGFormat().encode(image, options: EncodeOptions(quality: 95)),
                                                  limits: DecodeLimits())
            XCTAssertEqual(decoded.channels, image.channels)
            let total = zip(decoded.samples8, image.samples8).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
            // The picture carries per-pixel noise that 4:2:0 chroma subsampling smooths away.
            XCTAssertLessThan(Double(total) / Double(image.samples8.count), 6, "\(image.channels) channels")
        }
    }

    func testDropsAlphaAndReducesSixteenBits() throws {
        let rgba16 = TestImages.rgba16()
        let decoded = try JPEGFormat().decode(try JPEGFormat().encode(rgba16, options: EncodeOptions(quality: 95)),
                                              limits: DecodeLimits())
        XCTAssertEqual(decoded.channels, 3)
        XCTAssertEqual(decoded.bitDepth, 8)
        let grayAlpha = try JPEGFormat().decode(
            try JPEGFormat().encode(rgba16.withChannels(2), options: EncodeOptions()), limits: DecodeLimits())
        XCTAssertEqual(grayAlpha.channels, 1)
    }

    func testQualityOption() throws {
        let small = try JPEGFormat().encode(Self.rgb, options: EncodeOptions(quality: 20))
        let large = try JPEGFormat().encode(Self.rgb, options: EncodeOptions(quality: 98))
        XCTAssertLessThan(small.count, large.count)
        for quality in [0, 101] {
            assertThrows(ImageEncodingError.invalidOption("JPEG quality \(quality) is outside 1...100"), "q\(quality)") {
                try JPEGFormat().encode(Self.rgb, options: EncodeOptions(quality: quality))
            }
        }
    }

    func testDjpegReadsWhatWeWrite() throws {
        let jpeg = try JPEGFormat().encode(Self.rgb, options: EncodeOptions(quality: 90))
        let path = try FixtureDirectory.shared.write(jpeg, to: "ours.jpg")
        let reference = try djpegReference(path)
        assertSamples(try JPEGFormat().decode(jpeg, limits: DecodeLimits()).samples8, reference.samples8,
                      tolerance: 1, "ours through djpeg")
    }

    func testTwelveBitJPEGIsUnsupported() throws {
        // SOF1 with precision 12: libjpeg-turbo built for 8 bits refuses it.
        var jpeg = try JPEGFormat().encode(Self.rgb, options: EncodeOptions())
        let sof = try XCTUnwrap(jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 1] = 0xC1
        jpeg[sof + 4] = 12
        XCTAssertThrowsError(try JPEGFormat().decode(jpeg, limits: DecodeLimits())) { error in
            guard case ImageDecodingError.unsupported(let text)? = error as? ImageDecodingError else {
                return XCTFail("expected unsupported, got \(error)")
            }
            XCTAssertTrue(text.contains("precision 12"), text)
        }
    }
}
