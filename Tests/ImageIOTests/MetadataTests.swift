import Foundation
import ImageIO
import JPEGFormat
import PNGFormat
import XCTest

/// ICC profiles, EXIF and XMP through the PNG and JPEG readers and writers, and the PNG eXIf
/// orientation.
final class MetadataTests: XCTestCase {
    /// A valid ICC v2 display profile (scripts/make-crafted writes it), 480 bytes.
    static let profile: [UInt8] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CLITests/Crafted/profile-rgb.icc")
        return (try? [UInt8](Data(contentsOf: url))) ?? []
    }()

    /// The TIFF block of `TestImages.exifSegment`: what follows "Exif\0\0".
    static func exif(orientation: Int, bigEndian: Bool = false) -> [UInt8] {
        Array(TestImages.exifSegment(orientation: orientation, bigEndian: bigEndian).dropFirst(4 + 6))
    }

    static let xmp = Array("""
        <?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">\
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description \
        xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>vqz</dc:title></rdf:Description></rdf:RDF>\
        </x:xmpmeta><?xpacket end="w"?>
        """.utf8)

    static let rgb = TestImages.rgba16().withChannels(3).converted(toBitDepth: 8)

    func full() throws -> ImageMetadata {
        XCTAssertEqual(Self.profile.count, 480, "Tests/CLITests/Crafted/profile-rgb.icc is missing: run scripts/make-crafted")
        return ImageMetadata(iccProfile: Self.profile, exif: Self.exif(orientation: 1), xmp: Self.xmp)
    }

    func testPNGKeepsEveryKindByteForByte() throws {
        var image = Self.rgb
        image.metadata = try full()
        let png = try PNGFormat().encode(image)
        XCTAssertEqual(TestImages.pngChunkNames(png).filter { ["iCCP", "eXIf", "iTXt"].contains($0) }, ["iCCP", "eXIf", "iTXt"])
        let decoded = try PNGFormat().decode(png)
        XCTAssertEqual(decoded.metadata, image.metadata)
        XCTAssertEqual(decoded.samples, image.samples)
    }

    func testJPEGKeepsEveryKindAndJoinsASplitProfile() throws {
        // 150,000 bytes need three APP2 segments; libjpeg-turbo does not look inside a profile.
        var random = SeededRandom(seed: 3)
        let large = Self.profile + random.bytes(150_000 - Self.profile.count)
        for profile in [try full().iccProfile!, large] {
            var image = Self.rgb
            image.metadata = ImageMetadata(iccProfile: profile, exif: Self.exif(orientation: 1, bigEndian: true), xmp: Self.xmp)
            let jpeg = try JPEGFormat().encode(image)
            let decoded = try JPEGFormat().decode(jpeg)
            XCTAssertEqual(decoded.metadata, image.metadata, "profile of \(profile.count) bytes")
        }
    }

    func testWritersWithoutMetadataWriteNone() throws {
        let png = try PNGFormat().encode(Self.rgb)
        XCTAssertTrue(TestImages.pngChunkNames(png).allSatisfy { !["iCCP", "eXIf", "iTXt"].contains($0) })
        XCTAssertEqual(try PNGFormat().decode(png).metadata, ImageMetadata())
        XCTAssertEqual(try JPEGFormat().decode(try JPEGFormat().encode(Self.rgb)).metadata, ImageMetadata())
    }

    /// libpng refuses an RGB profile on a gray PNG; the write goes on without it.
    func testPNGDropsAProfileOfTheWrongColourSpace() throws {
        var gray = Self.rgb.withChannels(1)
        gray.metadata = try full()
        let decoded = try PNGFormat().decode(try PNGFormat().encode(gray))
        XCTAssertNil(decoded.metadata.iccProfile)
        XCTAssertEqual(decoded.metadata.exif, gray.metadata.exif)
    }

    /// EXIF and XMP that do not fit one APP1 segment are left out; the picture is still written.
    func testJPEGLeavesOutWhatNoSegmentHolds() throws {
        var image = Self.rgb
        image.metadata = ImageMetadata(exif: Self.exif(orientation: 1) + [UInt8](repeating: 0, count: 65_520),
                                       xmp: [UInt8](repeating: 0x20, count: 65_505))
        let decoded = try JPEGFormat().decode(try JPEGFormat().encode(image))
        XCTAssertEqual(decoded.metadata, ImageMetadata())
        XCTAssertEqual([decoded.width, decoded.height], [image.width, image.height])
    }

    /// A PNG's eXIf orientation turns the pixels as a JPEG's does, and the EXIF then says 1.
    func testPNGAppliesTheExifOrientation() throws {
        // Stored 3 wide, 2 tall: A B C / D E F. Orientation 6 turns it 90 degrees clockwise.
        let stored = Image(width: 3, height: 2, channels: 1, samples8: [1, 2, 3, 4, 5, 6])
        var tagged = stored
        tagged.metadata.exif = Self.exif(orientation: 6, bigEndian: true)
        let decoded = try PNGFormat().decode(try PNGFormat().encode(tagged))
        XCTAssertEqual([decoded.width, decoded.height], [2, 3])
        XCTAssertEqual(decoded.samples8, [4, 1, 5, 2, 6, 3])
        XCTAssertEqual(ExifOrientation(exif: decoded.metadata.exif ?? []), .up)

        for orientation in 1...8 {
            var image = Self.rgb
            image.metadata.exif = Self.exif(orientation: orientation, bigEndian: orientation % 2 == 1)
            let fromPNG = try PNGFormat().decode(try PNGFormat().encode(image))
            XCTAssertEqual(fromPNG.samples, image.applying(ExifOrientation(rawValue: orientation)!).samples, "orientation \(orientation)")
            XCTAssertEqual(ExifOrientation(exif: fromPNG.metadata.exif!), .up, "orientation \(orientation)")
        }
    }

    func testJPEGResetsTheOrientationItApplied() throws {
        var image = Self.rgb
        image.metadata.exif = Self.exif(orientation: 8)
        let decoded = try JPEGFormat().decode(try JPEGFormat().encode(image))
        XCTAssertEqual([decoded.width, decoded.height], [image.height, image.width])
        let exif = try XCTUnwrap(decoded.metadata.exif)
        XCTAssertEqual(ExifOrientation(exif: exif), .up)
        // Only the orientation's value changed: the Make entry and the layout are as they were.
        XCTAssertEqual(zip(exif, Self.exif(orientation: 8)).filter { $0 != $1 }.count, 1)
    }

    func testResettingOrientationLeavesMalformedBlocksAlone() {
        for block in [[], [0x49, 0x49, 42, 0], Array(Self.exif(orientation: 6).prefix(20)), Array("garbage!!".utf8)] {
            XCTAssertEqual(ExifOrientation.resettingOrientation(in: block), block)
        }
        XCTAssertEqual(ExifOrientation.resettingOrientation(in: Self.exif(orientation: 6, bigEndian: true)),
                       Self.exif(orientation: 1, bigEndian: true))
    }

    /// Segments that do not make a profile (a lone "2 of 3") give no profile, not an error.
    func testJPEGIgnoresAnIncompleteProfile() throws {
        let plain = try JPEGFormat().encode(Self.rgb)
        let payload = Array("ICC_PROFILE".utf8) + [0, 2, 3] + Self.profile.prefix(100)
        let length = payload.count + 2
        let segment = [0xFF, 0xE2, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        let decoded = try JPEGFormat().decode(TestImages.insertingAfterSOI(segment, into: plain))
        XCTAssertNil(decoded.metadata.iccProfile)
        XCTAssertEqual(decoded.samples, try JPEGFormat().decode(plain).samples)
    }

    /// A CMYK JPEG comes back as RGB, which its CMYK profile does not describe: the profile is
    /// dropped, and so is an RGB profile on a gray JPEG. A matching one is kept.
    func testJPEGKeepsOnlyAProfileOfTheDecodedColourSpace() throws {
        let convert = try ExternalTools.requireConvert()
        let source = try FixtureDirectory.shared.write(PNMFormat().encode(Self.rgb), to: "metadata-source.ppm")
        let path = FixtureDirectory.shared.path("metadata-cmyk.jpg")
        try ExternalTools.run(convert, [source, "-colorspace", "CMYK", "-quality", "95", path])
        let cmyk = try FixtureDirectory.shared.read("metadata-cmyk.jpg")
        func withProfile(_ space: String, _ jpeg: [UInt8]) -> [UInt8] {
            var profile = Self.profile
            profile.replaceSubrange(16..<20, with: Array(space.utf8))
            let payload = Array("ICC_PROFILE".utf8) + [0, 1, 1] + profile
            let length = payload.count + 2
            return TestImages.insertingAfterSOI([0xFF, 0xE2, UInt8(length >> 8), UInt8(length & 0xFF)] + payload, into: jpeg)
        }
        let fromCMYK = try JPEGFormat().decode(withProfile("CMYK", cmyk))
        XCTAssertEqual(fromCMYK.channels, 3)
        XCTAssertNil(fromCMYK.metadata.iccProfile)
        let gray = try JPEGFormat().encode(Self.rgb.withChannels(1))
        XCTAssertNil(try JPEGFormat().decode(withProfile("RGB ", gray)).metadata.iccProfile)
        XCTAssertNotNil(try JPEGFormat().decode(withProfile("GRAY", gray)).metadata.iccProfile)
        XCTAssertNotNil(try JPEGFormat().decode(withProfile("RGB ", try JPEGFormat().encode(Self.rgb))).metadata.iccProfile)
    }

    /// A profile whose header lies about its size is dropped by libpng with a warning; the
    /// same chunk with the true size is kept.
    func testPNGIgnoresABrokenProfile() throws {
        var broken = Self.profile
        broken[3] ^= 0x40  // the size field
        XCTAssertNil(try Self.decodingInserted(profile: broken).metadata.iccProfile)
        XCTAssertEqual(try Self.decodingInserted(profile: Self.profile).metadata.iccProfile, Self.profile)
    }

    /// The test picture with an iCCP chunk holding `broken` in a stored (uncompressed) zlib stream.
    static func decodingInserted(profile broken: [UInt8]) throws -> Image {
        let zlibStored: [UInt8] = [0x78, 0x01, 0x01] + [UInt8(broken.count & 0xFF), UInt8(broken.count >> 8),
                                                        UInt8(~broken.count & 0xFF), UInt8((~broken.count >> 8) & 0xFF)]
            + broken + TestImages.bigEndian32(Self.adler32(broken))
        let chunk = TestImages.pngChunk("iCCP", Array("p".utf8) + [0, 0] + zlibStored)
        let png = TestImages.insertingPNGChunk(chunk, into: try PNGFormat().encode(Self.rgb))
        let decoded = try PNGFormat().decode(png)
        XCTAssertEqual(decoded.samples, Self.rgb.samples)
        return decoded
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return b << 16 | a
    }

    func testMetadataKindsParseCwebpsWords() {
        XCTAssertEqual(MetadataKinds(listing: "all"), .all)
        XCTAssertEqual(MetadataKinds(listing: "none"), [])
        XCTAssertEqual(MetadataKinds(listing: "icc,exif"), [.icc, .exif])
        XCTAssertEqual(MetadataKinds(listing: "XMP, icc"), [.xmp, .icc])
        for bad in ["", "icc,", "gps", "all,icc", "none,exif"] { XCTAssertNil(MetadataKinds(listing: bad), bad) }
        for kinds: MetadataKinds in [.all, [], [.icc], [.exif, .xmp]] {
            XCTAssertEqual(MetadataKinds(listing: kinds.description), kinds)
        }
        let metadata = ImageMetadata(iccProfile: [1], exif: [2], xmp: [3])
        XCTAssertEqual(metadata.keeping([.exif]), ImageMetadata(exif: [2]))
        XCTAssertEqual(ImageMetadata(iccProfile: [], exif: nil), ImageMetadata())
    }
}
