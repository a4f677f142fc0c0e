import ImageIO
import XCTest

final class ImageTests: XCTestCase {
    let rgba = Image(width: 2, height: 1, channels: 4, samples8: [10, 20, 30, 40, 200, 100, 50, 255])

    func testChannelConversions() {
        XCTAssertEqual(rgba.withChannels(3).samples8, [10, 20, 30, 200, 100, 50])
        // Rec. 601 luma, rounded: 0.299*10 + 0.587*20 + 0.114*30 = 18.15; 0.299*200 + 0.587*100 + 0.114*50 = 124.2.
        XCTAssertEqual(rgba.withChannels(1).samples8, [18, 124])
        XCTAssertEqual(rgba.withChannels(2).samples8, [18, 40, 124, 255])
        let gray = Image(width: 2, height: 1, channels: 1, samples8: [7, 9])
        XCTAssertEqual(gray.withChannels(4).samples8, [7, 7, 7, 255, 9, 9, 9, 255])
        XCTAssertEqual(gray.withChannels(2).samples8, [7, 255, 9, 255])
        let gray16 = Image(width: 1, height: 1, channels: 1, samples16: [1234])
        XCTAssertEqual(gray16.withChannels(2).samples, .uint16([1234, 65535]))
        XCTAssertTrue(rgba.hasAlpha && !rgba.isGray && gray.isGray && !gray.hasAlpha)
        XCTAssertEqual(rgba.withChannels(4), rgba)
    }

    func testBitDepthConversions() {
        let wide = rgba.converted(toBitDepth: 16)
        XCTAssertEqual(wide.bitDepth, 16)
        XCTAssertEqual(wide.samples16[0], 10 * 257)
        XCTAssertEqual(wide.converted(toBitDepth: 8), rgba)
        // Reduction rounds to nearest.
        let odd = Image(width: 4, height: 1, channels: 1, samples16: [0, 128, 129, 65535 - 128])
        XCTAssertEqual(odd.samples8, [0, 0, 1, 255])
        XCTAssertEqual(odd.sample(x: 1, y: 0, channel: 0), 128)
        XCTAssertEqual(odd.maxValue, 65535)
    }

    /// Pixels are labelled by position, so each orientation can be checked by hand:
    ///   stored 3x2:  a b c
    ///                d e f
    func testOrientations() {
        let stored = Image(width: 3, height: 2, channels: 1, samples8: [1, 2, 3, 4, 5, 6])
        let expected: [ExifOrientation: (Int, Int, [UInt8])] = [
            .up: (3, 2, [1, 2, 3, 4, 5, 6]),
            .upMirrored: (3, 2, [3, 2, 1, 6, 5, 4]),
            .down: (3, 2, [6, 5, 4, 3, 2, 1]),
            .downMirrored: (3, 2, [4, 5, 6, 1, 2, 3]),
            .leftMirrored: (2, 3, [1, 4, 2, 5, 3, 6]),
            .right: (2, 3, [4, 1, 5, 2, 6, 3]),
            .rightMirrored: (2, 3, [6, 3, 5, 2, 4, 1]),
            .left: (2, 3, [3, 6, 2, 5, 1, 4]),
        ]
        for (orientation, (width, height, samples)) in expected {
            let turned = stored.applying(orientation)
            XCTAssertEqual([turned.width, turned.height], [width, height], "\(orientation)")
            XCTAssertEqual(turned.samples8, samples, "\(orientation)")
        }
    }

    func testExifParsing() {
        for bigEndian in [false, true] {
            for value in 1...8 {
                let segment = TestImages.exifSegment(orientation: value, bigEndian: bigEndian)
                XCTAssertEqual(ExifOrientation(exif: Array(segment[10...]))?.rawValue, value)
            }
        }
        let good = Array(TestImages.exifSegment(orientation: 6, bigEndian: true)[10...])
        // Cut before the end of the orientation's value, the block is out of bounds somewhere:
        // none may crash, and none may invent a value. (The last 6 bytes are padding and
        // the next-IFD pointer, which the tag does not need.)
        for length in 0..<good.count - 6 { XCTAssertNil(ExifOrientation(exif: Array(good[..<length])), "cut \(length)") }
        XCTAssertNil(ExifOrientation(exif: Array(TestImages.exifSegment(orientation: 9, bigEndian: false)[10...])))
        var badOffset = good
        badOffset[7] = 0xF0  // IFD0 offset past the end
        XCTAssertNil(ExifOrientation(exif: badOffset))
        XCTAssertNil(ExifOrientation(exif: Array("XX*\0\0\0\0\u{8}".utf8)))
    }
}
