import CVQZPlugin
import Testing
@testable import VQZQOI

/// The QOI codec against the specification: known bytes for each chunk kind, round trips,
/// and clean errors for every broken file.
@Suite struct QOICodecTests {
    /// 8x1 RGBA pixels chosen so that each chunk kind appears once, in this order:
    /// run, diff, luma, index, rgba, rgb, run at the last pixel.
    static let pixels: [UInt8] = [
        0, 0, 0, 255,        // same as the start pixel: a run of 1, flushed by the next pixel
        1, 0, 0, 255,        // diff: dr 1, dg 0, db 0
        11, 10, 9, 255,      // luma: dg 10, dr - dg 0, db - dg -1
        1, 0, 0, 255,        // index: seen two pixels ago, slot (3 + 255 * 11) % 64 = 56
        200, 100, 50, 128,   // rgba: alpha changes
        50, 100, 200, 128,   // rgb: dr -150 fits neither diff nor luma
        50, 100, 200, 128,   // a run of 2 ending at the last pixel
        50, 100, 200, 128,
    ]
    static let header = QOIHeader(width: 8, height: 1, channels: 4)
    static let expected: [UInt8] = Array("qoif".utf8) + [0, 0, 0, 8, 0, 0, 0, 1, 4, 0]
        + [0xC0, 0x7A, 0xAA, 0x87, 0x38, 0xFF, 200, 100, 50, 128, 0xFE, 50, 100, 200, 0xC1]
        + [0, 0, 0, 0, 0, 0, 0, 1]

    /// A gradient with flat areas, noise and alpha steps: every chunk kind, many times.
    static func picture(width: Int, height: Int, channels: Int) -> [UInt8] {
        var random: UInt64 = 0x9E3779B97F4A7C15
        var samples = [UInt8]()
        for y in 0..<height {
            for x in 0..<width {
                random = random &* 6364136223846793005 &+ 1442695040888963407
                let noise = Int(random >> 60)
                let flat = (x / 7 + y / 5) % 3 == 0
                samples.append(UInt8(truncatingIfNeeded: flat ? 40 : x * 3 + noise))
                samples.append(UInt8(truncatingIfNeeded: flat ? 40 : y * 5 - noise))
                samples.append(UInt8(truncatingIfNeeded: flat ? 90 : (x * y) + (noise > 12 ? 77 : 0)))
                if channels == 4 { samples.append(UInt8(truncatingIfNeeded: x < width / 2 ? 255 : (y * 16) | 3)) }
            }
        }
        return samples
    }

    @Test func encoderWritesTheSpecifiedChunks() throws {
        #expect(try QOIEncoder.encode(Self.pixels, header: Self.header) == Self.expected)
    }

    @Test func decoderReadsTheSpecifiedChunks() throws {
        let (header, pixels) = try QOIDecoder.decode(Self.expected)
        #expect(header == Self.header)
        #expect(pixels == Self.pixels)
    }

    @Test(arguments: [3, 4]) func roundTrip(channels: Int) throws {
        for (width, height) in [(1, 1), (64, 1), (1, 70), (37, 23), (200, 150)] {
            let samples = Self.picture(width: width, height: height, channels: channels)
            let header = QOIHeader(width: width, height: height, channels: channels, colorspace: 1)
            let bytes = try QOIEncoder.encode(samples, header: header)
            // The worst case: a tag byte before every pixel.
            #expect(bytes.count <= samples.count + QOIHeader.size + 8 + width * height)
            let decoded = try QOIDecoder.decode(bytes)
            #expect(decoded.header == header)
            #expect(decoded.pixels == samples, "\(width)x\(height)x\(channels)")
        }
    }

    @Test func longRunsAreSplitAt62() throws {
        let samples = [UInt8](repeating: 7, count: 3 * 200)
        let bytes = try QOIEncoder.encode(samples, header: QOIHeader(width: 200, height: 1, channels: 3))
        // luma for (7,7,7) from (0,0,0), then runs of 62, 62, 62, 13.
        let chunks: [UInt8] = [0x80 | 39, 0x88, 0xFD, 0xFD, 0xFD, 0xC0 | 12]
        #expect(Array(bytes[14..<(bytes.count - 8)]) == chunks)
        #expect(try QOIDecoder.decode(bytes).pixels == samples)
    }

    @Test func everyCutFileIsTruncated() throws {
        for length in 0..<Self.expected.count {
            #expect(throws: QOIError.truncated, "\(length) bytes") { try QOIDecoder.decode(Array(Self.expected.prefix(length))) }
        }
    }

    @Test func brokenHeadersAreCorrupt() {
        func file(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var bytes = Self.expected
            edit(&bytes)
            return bytes
        }
        #expect(throws: QOIError.corrupt("not a QOI file (bad magic bytes)")) { try QOIDecoder.decode(file { $0[0] = 0x51 }) }
        #expect(throws: QOIError.corrupt("not a QOI file (bad magic bytes)")) { try QOIDecoder.decode(Array("PNG".utf8)) }
        #expect(throws: QOIError.corrupt("image size 0x1 is empty")) { try QOIDecoder.decode(file { $0[7] = 0 }) }
        #expect(throws: QOIError.corrupt("channels 5 is neither 3 nor 4")) { try QOIDecoder.decode(file { $0[12] = 5 }) }
        #expect(throws: QOIError.corrupt("colorspace 2 is neither 0 nor 1")) { try QOIDecoder.decode(file { $0[13] = 2 }) }
        #expect(throws: QOIError.corrupt("no end marker after the last pixel")) { try QOIDecoder.decode(file { $0[$0.count - 1] = 2 }) }
        // A 1x1 image whose only chunk is a run of 2.
        let run = Array("qoif".utf8) + [0, 0, 0, 1, 0, 0, 0, 1, 3, 0, 0xC1, 0, 0, 0, 0, 0, 0, 0, 1]
        #expect(throws: QOIError.corrupt("a run goes past the last pixel")) { try QOIDecoder.decode(run) }
    }

    @Test func largeClaimsAreRefusedBeforeAllocating() {
        // 16384 x 16384 in 30 bytes: at most 62 pixels a byte, so the file cannot hold it.
        let bomb = Array("qoif".utf8) + [0, 0, 0x40, 0, 0, 0, 0x40, 0, 4, 0] + [0xFD, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1]
        #expect(throws: QOIError.truncated) { try QOIDecoder.decode(bomb) }
        #expect(throws: QOIError.tooLarge(width: 16384, height: 16384)) { try QOIDecoder.decode(bomb, maxPixels: 1 << 20) }
        let huge = Array("qoif".utf8) + [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 3, 0] + QOIOp.end
        #expect(throws: QOIError.corrupt("4294967295x1 is over QOI's limit of 400000000 pixels")) {
            try QOIDecoder.decode(huge, maxPixels: Int.max)
        }
    }

    @Test func flippedBytesNeverCrash() throws {
        let valid = try QOIEncoder.encode(Self.picture(width: 31, height: 17, channels: 4),
                                          header: QOIHeader(width: 31, height: 17, channels: 4))
        var random: UInt64 = 12345
        var failures = 0
        for _ in 0..<2000 {
            var bytes = valid
            for _ in 0..<3 {
                random = random &* 6364136223846793005 &+ 1442695040888963407
                bytes[Int(random >> 33) % bytes.count] ^= UInt8(truncatingIfNeeded: random >> 13) | 1
            }
            do { _ = try QOIDecoder.decode(bytes) } catch is QOIError { failures += 1 }
        }
        #expect(failures > 0)
    }

    @Test func encoderRefusesWhatQOICannotHold() {
        #expect(throws: QOIError.unsupported("cannot encode an empty image")) {
            try QOIEncoder.encode([], header: QOIHeader(width: 0, height: 3, channels: 3))
        }
        #expect(throws: QOIError.unsupported("QOI holds 3 or 4 channels, not 2")) {
            try QOIEncoder.encode([1, 2], header: QOIHeader(width: 1, height: 1, channels: 2))
        }
    }
}
