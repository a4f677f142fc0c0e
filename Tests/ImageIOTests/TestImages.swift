import ImageIO

/// Deterministic pictures and byte-level helpers shared by the tests.
enum TestImages {
    /// A 16-bit RGBA picture with gradients in every channel, some noise (so that no two
    /// neighbours are equal) and alpha from opaque to clear. Odd sizes exercise the edges
    /// of Adam7 passes and JPEG blocks.
    static func rgba16(width: Int = 37, height: Int = 23) -> Image {
        var random = SeededRandom(seed: 7)
        var samples: [UInt16] = []
        for y in 0..<height {
            for x in 0..<width {
                let noise = Int(random.next() % 2048)
                samples.append(UInt16(min(65535, x * 65535 / max(1, width - 1) / 2 + noise)))
                samples.append(UInt16(min(65535, y * 65535 / max(1, height - 1) / 2 + noise * 3)))
                samples.append(UInt16(min(65535, (x + y) * 65535 / max(1, width + height - 2) / 3 + noise * 7)))
                samples.append(UInt16((x * 7 + y * 3) * 65535 / (7 * max(1, width - 1) + 3 * max(1, height - 1))))
            }
        }
        return Image(width: width, height: height, channels: 4, samples16: samples)
    }

    /// The picture in every channel count and bit depth.
    static func allLayouts(width: Int = 37, height: Int = 23) -> [Image] {
        let base = rgba16(width: width, height: height)
        return (1...4).flatMap { channels in
            [8, 16].map { base.withChannels(channels).converted(toBitDepth: $0) }
        }
    }

    static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func bigEndian32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// A PNG chunk: length, type, data, CRC over type and data.
    static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian32(UInt32(data.count)) + body + bigEndian32(crc32(body))
    }

    /// The names of a PNG's chunks in order.
    static func pngChunkNames(_ png: [UInt8]) -> [String] {
        var names: [String] = [], at = 8
        while at + 8 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            names.append(String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self))
            at += 12 + length
        }
        return names
    }

    /// Inserts a chunk just before the first IDAT.
    static func insertingPNGChunk(_ chunk: [UInt8], into png: [UInt8]) -> [UInt8] {
        var at = 8
        while at + 8 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            if png[(at + 4)..<(at + 8)].elementsEqual("IDAT".utf8) { break }
            at += 12 + length
        }
        return Array(png[..<at]) + chunk + Array(png[at...])
    }

    /// A JPEG APP1 segment holding EXIF IFD0 with one orientation entry, in either byte order.
    static func exifSegment(orientation: Int, bigEndian: Bool) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
        var tiff: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
        tiff += u16(42) + u32(8)             // magic, IFD0 at offset 8
        tiff += u16(2)                       // two entries: a decoy, then the orientation
        tiff += u16(0x010F) + u16(2) + u32(4) + [0x41, 0x42, 0x43, 0]  // Make = "ABC"
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + [0, 0]
        tiff += u32(0)                       // no next IFD
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    /// A JPEG with a segment inserted right after SOI.
    static func insertingAfterSOI(_ segment: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
        Array(jpeg[..<2]) + segment + Array(jpeg[2...])
    }

    /// The largest absolute difference between two same-sized sample arrays.
    static func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
    }
}

/// A tiny deterministic generator (SplitMix64) so every run sees the same "random" bytes.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1334_95EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}
