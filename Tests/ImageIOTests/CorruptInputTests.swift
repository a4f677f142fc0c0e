import ImageIO
import JPEGFormat
import PNGFormat
import XCTest

/// Damaged files of every kind must end in an `ImageDecodingError`: never a crash, an
/// abort, a hang or another error type.
final class CorruptInputTests: XCTestCase {
    static let formats: [any ImageFormat] = [PNMFormat(), PNGFormat(), JPEGFormat()]
    static let picture = TestImages.rgba16(width: 19, height: 11)

    /// One valid small file per format and layout worth cutting.
    func validFiles() throws -> [(name: String, format: any ImageFormat, bytes: [UInt8])] {
        let rgba8 = Self.picture.converted(toBitDepth: 8)
        return [
            ("png rgba8", PNGFormat(), try PNGFormat().encode(rgba8, options: EncodeOptions())),
            ("png gray16", PNGFormat(), try PNGFormat().encode(Self.picture.withChannels(1), options: EncodeOptions())),
            ("jpeg rgb", JPEGFormat(), try JPEGFormat().encode(rgba8, options: EncodeOptions())),
            ("jpeg gray", JPEGFormat(), try JPEGFormat().encode(rgba8.withChannels(1), options: EncodeOptions())),
            ("ppm", PNMFormat(), try PNMFormat().encode(rgba8.withChannels(3), options: EncodeOptions())),
            ("pam16", PNMFormat(), try PNMFormat().encode(Self.picture, options: EncodeOptions())),
        ]
    }

    func testTruncatedAtEveryOffsetIsTruncated() throws {
        var files = try validFiles()
        // Interlaced PNG and progressive JPEG read their data in a different order.
        if let convert = ExternalTools.convert {
            let source = try FixtureDirectory.shared.write(try PNMFormat().encode(Self.picture), to: "cut-source.pam")
            for (name, arguments, file) in [("png interlaced", ["-interlace", "PNG"], "cut-interlaced.png"),
                                            ("jpeg progressive", ["-alpha", "off", "-interlace", "JPEG"], "cut-progressive.jpg")] {
                try ExternalTools.run(convert, [source] + arguments + [FixtureDirectory.shared.path(file)])
                let format: any ImageFormat = file.hasSuffix(".png") ? PNGFormat() : JPEGFormat()
                files.append((name, format, try FixtureDirectory.shared.read(file)))
            }
        } else {
            XCTFail("ImageMagick not found: apt-get install imagemagick")
        }
        for file in files {
            XCTAssertNoThrow(try file.format.decode(file.bytes, limits: DecodeLimits()), file.name)
            for length in 0..<file.bytes.count {
                assertThrows(ImageDecodingError.truncated, "\(file.name) cut at \(length) of \(file.bytes.count)") {
                    try file.format.decode(Array(file.bytes[..<length]), limits: DecodeLimits())
                }
            }
        }
    }

    func testRandomBytesAreUnknownOrRejected() throws {
        var random = SeededRandom(seed: 42)
        let registry = FormatRegistry(formats: Self.formats)
        for length in [1, 2, 7, 8, 64, 1000] {
            for _ in 0..<20 {
                var bytes = random.bytes(length)
                if bytes.first == UInt8(ascii: "P") || bytes.first == 0x89 || bytes.first == 0xFF { bytes[0] = 0 }
                assertThrows(FormatRegistryError.unknownFormat, "\(length) random bytes") { try registry.decode(bytes) }
                // Handed straight to a decoder, the wrong magic is a corrupt file.
                for format in Self.formats {
                    XCTAssertThrowsError(try format.decode(bytes, limits: DecodeLimits())) { error in
                        guard case ImageDecodingError.corrupt? = error as? ImageDecodingError else {
                            return XCTFail("\(format.name) on random bytes: \(error)")
                        }
                    }
                }
            }
        }
    }

    func testRightMagicThenRandomBytesIsAnError() {
        var random = SeededRandom(seed: 9)
        let magics: [(any ImageFormat, [UInt8])] = [
            (PNGFormat(), [137, 80, 78, 71, 13, 10, 26, 10]), (JPEGFormat(), [0xFF, 0xD8, 0xFF]),
            (PNMFormat(), Array("P6\n".utf8)), (PNMFormat(), Array("P7\n".utf8)),
        ]
        for (format, magic) in magics {
            for length in [0, 1, 10, 100, 5000] {
                for _ in 0..<10 {
                    let bytes = magic + random.bytes(length)
                    XCTAssertThrowsError(try format.decode(bytes, limits: DecodeLimits()),
                                         "\(format.name) magic + \(length) random bytes") { error in
                        XCTAssertTrue(error is ImageDecodingError, "\(format.name): \(error)")
                    }
                }
            }
        }
    }

    /// Flipped bytes anywhere: a decoder may succeed (JPEG data has no checksum) but must
    /// only ever throw its own error type, and a decoded image must have a sane shape.
    func testMutatedFilesNeverCrash() throws {
        var random = SeededRandom(seed: 1234)
        for file in try validFiles() {
            for _ in 0..<400 {
                var bytes = file.bytes
                for _ in 0..<Int(1 + random.next() % 4) {
                    let at = Int(random.next() % UInt64(bytes.count))
                    bytes[at] = random.next() % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : bytes[at] ^ 0x10
                }
                do {
                    let image = try file.format.decode(bytes, limits: DecodeLimits(maxPixels: 1 << 20))
                    XCTAssertEqual(image.samples.count, image.width * image.height * image.channels, file.name)
                } catch is ImageDecodingError {
                } catch {
                    XCTFail("\(file.name): unexpected error \(error)")
                }
            }
        }
    }

    func testHugeDeclaredSizesAreRefusedBeforeAllocating() throws {
        // A PNG whose IHDR (with a valid CRC) declares 100000 x 100000 RGBA.
        let ihdr = TestImages.bigEndian32(100_000) + TestImages.bigEndian32(100_000) + [8, 6, 0, 0, 0]
        let png = [137, 80, 78, 71, 13, 10, 26, 10] + TestImages.pngChunk("IHDR", ihdr)
            + TestImages.pngChunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + TestImages.pngChunk("IEND", [])
        assertThrows(ImageDecodingError.tooLarge(width: 100_000, height: 100_000, limit: 1 << 28), "png") {
            try PNGFormat().decode(png, limits: DecodeLimits())
        }
        // A JPEG whose frame header says 60000 x 60000.
        var jpeg = try JPEGFormat().encode(Self.picture, options: EncodeOptions())
        let sof = try XCTUnwrap(jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])
        assertThrows(ImageDecodingError.tooLarge(width: 60000, height: 60000, limit: 1 << 28), "jpeg") {
            try JPEGFormat().decode(jpeg, limits: DecodeLimits())
        }
    }

    /// libpng's own limit of 1,000,000 pixels a side stays on, whatever the pixel budget: a row
    /// 2^31-1 pixels wide would need gigabytes before any budget check could see the rows.
    func testWidthBeyondLibpngsLimitIsRefused() throws {
        let ihdr = TestImages.bigEndian32(2_147_483_647) + TestImages.bigEndian32(1) + [8, 2, 0, 0, 0]
        let png = [137, 80, 78, 71, 13, 10, 26, 10] + TestImages.pngChunk("IHDR", ihdr)
            + TestImages.pngChunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + TestImages.pngChunk("IEND", [])
        XCTAssertThrowsError(try PNGFormat().decode(png, limits: DecodeLimits(maxPixels: Int.max))) { error in
            guard case .corrupt(let text) = error as? ImageDecodingError else { return XCTFail("\(error)") }
            XCTAssertTrue(text.contains("width"), text)
        }
    }

    /// A scan cut short and closed with EOI: libjpeg-turbo only warns ("premature end of data
    /// segment") and pads with grey; the reader refuses it.
    func testJPEGWithAShortScanIsRefused() throws {
        let jpeg = try JPEGFormat().encode(TestImages.rgba16(width: 64, height: 48), options: EncodeOptions(quality: 95))
        let sos = try XCTUnwrap(jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA })
        let scan = sos + 2 + (Int(jpeg[sos + 2]) << 8 | Int(jpeg[sos + 3]))
        let cut = Array(jpeg[..<(scan + (jpeg.count - scan) / 10)]) + [0xFF, 0xD9]
        XCTAssertNoThrow(try JPEGFormat().decode(jpeg, limits: DecodeLimits()))
        XCTAssertThrowsError(try JPEGFormat().decode(cut, limits: DecodeLimits())) { error in
            XCTAssertNotNil(error as? ImageDecodingError, "\(error)")
        }
    }

    func testPixelBudgetIsHonoured() throws {
        let limits = DecodeLimits(maxPixels: 19 * 11 - 1)
        for file in try validFiles() {
            assertThrows(ImageDecodingError.tooLarge(width: 19, height: 11, limit: 19 * 11 - 1), file.name) {
                try file.format.decode(file.bytes, limits: limits)
            }
            XCTAssertNoThrow(try file.format.decode(file.bytes, limits: DecodeLimits(maxPixels: 19 * 11)), file.name)
        }
    }

    func testCRCErrorInPNGIsCorrupt() throws {
        var png = try PNGFormat().encode(Self.picture, options: EncodeOptions())
        png[20] ^= 1  // IHDR width, CRC left as it was
        XCTAssertThrowsError(try PNGFormat().decode(png, limits: DecodeLimits())) { error in
            guard case ImageDecodingError.corrupt(let text)? = error as? ImageDecodingError else {
                return XCTFail("expected corrupt, got \(error)")
            }
            XCTAssertTrue(text.contains("CRC"), text)
        }
    }

    func testWrongFormatForDecoderIsCorrupt() throws {
        let png = try PNGFormat().encode(Self.picture, options: EncodeOptions())
        assertThrows(ImageDecodingError.corrupt("not a JPEG file (no SOI marker)"), "png as jpeg") {
            try JPEGFormat().decode(png, limits: DecodeLimits())
        }
        assertThrows(ImageDecodingError.corrupt("not a PNG file (bad signature)"), "png as jpeg") {
            try PNGFormat().decode(Array("P6\n1 1\n255\n\0\0\0".utf8), limits: DecodeLimits())
        }
    }
}
