import ImageIO
import JPEGFormat
import PNGFormat
import XCTest

final class FormatRegistryTests: XCTestCase {
    let registry = FormatRegistry(formats: [PNMFormat(), PNGFormat(), JPEGFormat()])
    let picture = TestImages.rgba16(width: 5, height: 3).converted(toBitDepth: 8)

    func testSniffingIgnoresTheName() throws {
        let files = [("PNG", try PNGFormat().encode(picture, options: EncodeOptions())),
                     ("JPEG", try JPEGFormat().encode(picture, options: EncodeOptions())),
                     ("PNM", try PNMFormat().encode(picture, options: EncodeOptions())),
                     ("PNM", try PNMFormat().encode(picture.withChannels(1), options: EncodeOptions()))]
        for (name, bytes) in files {
            XCTAssertEqual(registry.format(sniffing: bytes)?.name, name)
            XCTAssertEqual(registry.format(sniffing: Array(bytes.prefix(16)))?.name, name, "first 16 bytes")
            let image = try registry.decode(bytes)
            XCTAssertEqual([image.width, image.height], [5, 3], name)
        }
        XCTAssertNil(registry.format(sniffing: []))
        XCTAssertNil(registry.format(sniffing: Array("GIF89a".utf8)))
        assertThrows(FormatRegistryError.unknownFormat, "gif") { try registry.decode(Array("GIF89a......".utf8)) }
    }

    func testFormatByName() {
        let expected = ["png": "PNG", "PNG": "PNG", ".png": "PNG", "jpeg": "JPEG", "JPG": "JPEG", "jpg": "JPEG",
                        "ppm": "PNM", "pgm": "PNM", "pam": "PNM", "PNM": "PNM"]
        for (name, format) in expected { XCTAssertEqual(registry.format(named: name)?.name, format, name) }
        for name in ["gif", "", "p"] { XCTAssertNil(registry.format(named: name), name) }
    }

    func testFormatByPath() {
        let expected: [String: String?] = [
            "photo.JPG": "JPEG", "out/dir/picture.png": "PNG", "archive.tar.ppm": "PNM", "a.jpeg": "JPEG",
            "noextension": nil, ".png": nil, "dir.png/file": nil, "file.": nil, "image.webp": nil,
        ]
        for (path, format) in expected { XCTAssertEqual(registry.format(forPath: path)?.name, format, path) }
    }

    func testEncodeByName() throws {
        let bytes = try registry.encode(picture, as: "png")
        XCTAssertEqual(try registry.decode(bytes), picture)
        assertThrows(FormatRegistryError.unknownName("gif"), "gif") { try registry.encode(picture, as: "gif") }
    }

    func testEveryFormatDescribesItself() {
        for format in registry.formats {
            XCTAssertTrue(format.canRead && format.canWrite, format.name)
            XCTAssertFalse(format.extensions.isEmpty, format.name)
            XCTAssertTrue(format.summary.hasPrefix(format.name == "PNM" ? "PPM" : format.name), format.summary)
        }
        XCTAssertTrue(PNGFormat().summary.contains("libpng 1."), PNGFormat().summary)
    }

    func testErrorMessagesAreOneLowerCaseLine() {
        let errors: [any Error & CustomStringConvertible] = [
            ImageDecodingError.truncated, ImageDecodingError.corrupt("x"), ImageDecodingError.unsupported("x"),
            ImageDecodingError.tooLarge(width: 1, height: 2, limit: 3), ImageEncodingError.failed("x"),
            ImageEncodingError.invalidOption("x"), ImageEncodingError.unsupported("x"),
            FormatRegistryError.unknownFormat, FormatRegistryError.unknownName("x"),
            FormatRegistryError.cannotRead("x"), FormatRegistryError.cannotWrite("x"),
        ]
        for error in errors {
            let text = error.description
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertEqual(text.first.map { String($0) }, text.first.map { $0.lowercased() }, text)
        }
        XCTAssertEqual(ImageDecodingError.tooLarge(width: 100, height: 200, limit: 300).description,
                       "image too large: 100x200 pixels is over the limit of 300 pixels")
    }
}
