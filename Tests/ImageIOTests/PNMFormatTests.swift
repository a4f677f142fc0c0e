import ImageIO
import XCTest

final class PNMFormatTests: XCTestCase {
    func decode(_ text: String, _ raster: [UInt8] = []) throws -> Image {
        try PNMFormat().decode(Array(text.utf8) + raster, limits: DecodeLimits())
    }

    func testRoundTripsEveryLayoutExactly() throws {
        for image in TestImages.allLayouts() {
            let bytes = try PNMFormat().encode(image, options: EncodeOptions())
            let magic = String(decoding: bytes[..<2], as: UTF8.self)
            XCTAssertEqual(magic, [1: "P5", 2: "P7", 3: "P6", 4: "P7"][image.channels])
            XCTAssertEqual(try PNMFormat().decode(bytes, limits: DecodeLimits()), image,
                           "\(image.channels) channels, \(image.bitDepth) bit")
        }
    }

    func testReadsHeadersWithCommentsAndOddWhitespace() throws {
        let image = try decode("P6\n# made by hand\n2\t# width\r\n1 # height\n255\n", [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(image, Image(width: 2, height: 1, channels: 3, samples8: [1, 2, 3, 4, 5, 6]))
        // The single whitespace byte after maxval may itself look like data.
        let gray = try decode("P5 2 1 255 ", [32, 10])
        XCTAssertEqual(gray.samples8, [32, 10])
    }

    func testReadsSixteenBitBigEndian() throws {
        let image = try decode("P5\n2 1\n65535\n", [0x12, 0x34, 0xFF, 0xFE])
        XCTAssertEqual(image.samples, .uint16([0x1234, 0xFFFE]))
    }

    func testScalesOtherMaxvals() throws {
        XCTAssertEqual(try decode("P5\n3 1\n15\n", [0, 7, 15]).samples, .uint8([0, 119, 255]))
        XCTAssertEqual(try decode("P5\n3 1\n1000\n", [0, 0, 0x01, 0xF4, 0x03, 0xE8]).samples,
                       .uint16([0, 32768, 65535]))
        // A sample above maxval is clamped rather than wrapped.
        XCTAssertEqual(try decode("P5\n1 1\n100\n", [200]).samples, .uint8([255]))
    }

    func testReadsPAMWithTupleTypesAndComments() throws {
        let header = "P7\n# comment\nWIDTH 2\nHEIGHT 1\nDEPTH 2\nMAXVAL 255\nTUPLTYPE GRAYSCALE_ALPHA\nENDHDR\n"
        XCTAssertEqual(try decode(header, [9, 255, 8, 0]),
                       Image(width: 2, height: 1, channels: 2, samples8: [9, 255, 8, 0]))
        let bitmap = try decode("P7\nWIDTH 2\nHEIGHT 1\nDEPTH 1\nMAXVAL 1\nTUPLTYPE BLACKANDWHITE\nENDHDR\n", [0, 1])
        XCTAssertEqual(bitmap.samples8, [0, 255])
    }

    func testMatchesImageMagickBothWays() throws {
        let convert = try ExternalTools.requireConvert()
        for image in TestImages.allLayouts() {
            let label = "\(image.channels) channels, \(image.bitDepth) bit"
            // ImageMagick reads ours...
            let ours = try FixtureDirectory.shared.write(try PNMFormat().encode(image, options: EncodeOptions()),
                                                         to: "ours-\(image.channels)-\(image.bitDepth).pnm")
            let read = try ExternalTools.run(convert, [ours, "-depth", "16", "-endian", "MSB", "rgba:-"])
            assertSamples(samples16(bigEndian: read), image.withChannels(4).samples16, label)
        }
        // ...and we read ImageMagick's PGM, PPM and PAM.
        let source = try FixtureDirectory.shared.write(try PNMFormat().encode(TestImages.rgba16()), to: "pnm-source.pam")
        for (name, arguments) in [("gray.pgm", ["-alpha", "off", "-colorspace", "Gray", "-depth", "16"]),
                                  ("rgb.ppm", ["-alpha", "off", "-depth", "8"]),
                                  ("rgba.pam", ["-depth", "8"])] {
            let path = FixtureDirectory.shared.path("im-\(name)")
            try ExternalTools.run(convert, [source] + arguments + [path])
            let image = try PNMFormat().decode(try FixtureDirectory.shared.read("im-\(name)"), limits: DecodeLimits())
            let reference = try ExternalTools.run(convert, [path, "-depth", "16", "-endian", "MSB", "rgba:-"])
            assertSamples(image.withChannels(4).samples16, samples16(bigEndian: reference), name)
        }
    }

    func testRejectsMalformedHeaders() {
        let cases: [(String, ImageDecodingError)] = [
            ("P3\n1 1\n255\n", .unsupported("plain-text and bitmap PNM (P1 to P4); save as P5, P6 or P7")),
            ("P6\n0 5\n255\n", .corrupt("PNM size 0x5 is empty")),
            ("P6\n1 1\n0\n", .corrupt("PNM maxval 0 is outside 1...65535")),
            ("P6\n1 1\n70000\n", .corrupt("PNM maxval 70000 is outside 1...65535")),
            ("P6\nx 1\n255\n", .corrupt("expected a number in the PNM header")),
            ("P6\n99999999999999999999999 1\n255\n", .corrupt("PNM header number out of range")),
            ("P6\n1 1\n255x", .corrupt("no whitespace after the PNM maxval")),
            ("P6\n1 1\n255", .truncated),
            ("P6\n1 1\n", .truncated),
            ("P6\n1 1\n255\n\u{1}\u{2}", .truncated),
            ("P7\nWIDTH 1\nHEIGHT 1\nDEPTH 3\n", .truncated),
            ("P7\nWIDTH 1\nHEIGHT 1\nDEPTH 5\nMAXVAL 255\nENDHDR\n", .unsupported("PAM depth 5; only 1 to 4 channels")),
            ("P7\nWIDTH 1\nHEIGHT 1\nMAXVAL 255\nENDHDR\n", .corrupt("PAM header lacks WIDTH, HEIGHT, DEPTH or MAXVAL")),
            ("P7\nWIDTH one\n", .corrupt("bad PAM header line for WIDTH")),
            ("P7\nCOLOR 1\n", .corrupt("unknown PAM header keyword 'COLOR'")),
            ("Q6\n1 1\n255\n", .corrupt("not a PNM file")),
            ("P6\n99999999 99999999\n255\n", .tooLarge(width: 99_999_999, height: 99_999_999, limit: 1 << 28)),
            ("P7\nWIDTH 3037000500\nHEIGHT 3037000500\nDEPTH 4\nMAXVAL 65535\nENDHDR\n",
             .tooLarge(width: 3_037_000_500, height: 3_037_000_500, limit: 1 << 28)),
        ]
        for (text, expected) in cases {
            assertThrows(expected, text.debugDescription) { try decode(text) }
        }
    }

    func testSniffing() {
        let format = PNMFormat()
        for magic in ["P5\n", "P6 ", "P7\n", "P3\n"] { XCTAssertTrue(format.sniff(Array(magic.utf8)), magic) }
        for magic in ["P8\n", "P6", "P6x", "p6\n", "PF\n", ""] { XCTAssertFalse(format.sniff(Array(magic.utf8)), magic) }
    }
}
