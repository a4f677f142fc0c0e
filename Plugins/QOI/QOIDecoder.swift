/// QOI to pixels, from the specification (qoiformat.org), with every read bounds-checked:
/// any file, however broken, gives a `QOIError`, never a crash or a read past the end.
public enum QOIDecoder {
    /// Decodes a whole file to `header.channels` interleaved 8-bit samples per pixel.
    /// `maxPixels` bounds width * height; a larger image is refused before allocating.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, maxPixels: Int) throws -> (header: QOIHeader, pixels: [UInt8]) {
        let header = try QOIHeader(parsing: bytes)
        let (pixelCount, overflow) = header.width.multipliedReportingOverflow(by: header.height)
        guard !overflow, pixelCount <= maxPixels else { throw QOIError.tooLarge(width: header.width, height: header.height) }
        guard pixelCount <= QOIHeader.maxPixels else {
            throw QOIError.corrupt("\(header.width)x\(header.height) is over QOI's limit of \(QOIHeader.maxPixels) pixels")
        }
        // Every chunk is at least one byte and gives at most 62 pixels, so a short file
        // cannot claim a large image: this catches a 30-byte "decompression bomb" before
        // the output is allocated.
        let chunkBytes = max(0, bytes.count - QOIHeader.size - QOIOp.end.count)
        guard pixelCount <= chunkBytes * 62 else { throw QOIError.truncated }

        let channels = header.channels
        var pixels = [UInt8](repeating: 0, count: pixelCount * channels)
        var position = try pixels.withUnsafeMutableBufferPointer { out in
            try decodeChunks(bytes, from: QOIHeader.size, into: out, pixelCount: pixelCount, channels: channels)
        }
        guard bytes.count - position >= QOIOp.end.count else { throw QOIError.truncated }
        for expected in QOIOp.end {
            guard bytes[position] == expected else { throw QOIError.corrupt("no end marker after the last pixel") }
            position += 1
        }
        return (header, pixels)
    }

    public static func decode(_ bytes: [UInt8], maxPixels: Int = QOIHeader.maxPixels) throws -> (header: QOIHeader, pixels: [UInt8]) {
        try bytes.withUnsafeBufferPointer { try decode($0, maxPixels: maxPixels) }
    }

    /// Decodes chunks from `start` until `pixelCount` pixels are written; returns the
    /// position after the last chunk.
    private static func decodeChunks(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, into out: UnsafeMutableBufferPointer<UInt8>,
                                     pixelCount: Int, channels: Int) throws -> Int {
        var seen = [QOIPixel](repeating: QOIPixel(r: 0, g: 0, b: 0, a: 0), count: 64)
        var pixel = QOIPixel.start
        var p = start
        let end = bytes.count
        var written = 0
        func put(_ pixel: QOIPixel, times: Int) {
            for _ in 0..<times {
                let o = written * channels
                out[o] = pixel.r
                out[o + 1] = pixel.g
                out[o + 2] = pixel.b
                if channels == 4 { out[o + 3] = pixel.a }
                written += 1
            }
        }
        while written < pixelCount {
            guard p < end else { throw QOIError.truncated }
            let tag = bytes[p]
            p += 1
            var times = 1
            if tag == QOIOp.rgb {
                guard end - p >= 3 else { throw QOIError.truncated }
                pixel.r = bytes[p]; pixel.g = bytes[p + 1]; pixel.b = bytes[p + 2]
                p += 3
            } else if tag == QOIOp.rgba {
                guard end - p >= 4 else { throw QOIError.truncated }
                pixel = QOIPixel(r: bytes[p], g: bytes[p + 1], b: bytes[p + 2], a: bytes[p + 3])
                p += 4
            } else {
                let low = tag & 0x3F
                switch tag & QOIOp.mask {
                case QOIOp.index:
                    pixel = seen[Int(low)]
                case QOIOp.diff:
                    // Differences wrap around: 0 - 1 is 255.
                    pixel.r = pixel.r &+ ((tag >> 4) & 3) &- 2
                    pixel.g = pixel.g &+ ((tag >> 2) & 3) &- 2
                    pixel.b = pixel.b &+ (tag & 3) &- 2
                case QOIOp.luma:
                    guard p < end else { throw QOIError.truncated }
                    let second = bytes[p]
                    p += 1
                    let dg = low &- 32
                    pixel.r = pixel.r &+ dg &+ (second >> 4) &- 8
                    pixel.g = pixel.g &+ dg
                    pixel.b = pixel.b &+ dg &+ (second & 0x0F) &- 8
                default:  // QOIOp.run
                    times = Int(low) + 1
                    guard times <= pixelCount - written else { throw QOIError.corrupt("a run goes past the last pixel") }
                }
            }
            seen[pixel.hash] = pixel
            put(pixel, times: times)
        }
        return p
    }
}
