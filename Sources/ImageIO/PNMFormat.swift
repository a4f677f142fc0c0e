/// Binary Netpbm: PGM (P5), PPM (P6) and PAM (P7), maxval 1 to 65535, with comments.
///
/// Samples with maxval 255 or 65535 are read as they are; other maxvals are scaled to the
/// full 8-bit (maxval < 256) or 16-bit range. Writing picks the variant from the image:
/// gray as P5, RGB as P6, anything with alpha as P7, with maxval 255 or 65535.
public struct PNMFormat: ImageFormat {
    public init() {}

    public var name: String { "PNM" }
    public var extensions: [String] { ["ppm", "pgm", "pam", "pnm"] }
    public var summary: String {
        "PPM/PGM/PAM (P5, P6, P7; 8 and 16 bit): reads gray, gray+alpha, RGB, RGBA; writes all four"
    }

    public func sniff(_ header: [UInt8]) -> Bool {
        // P1 to P7 and a whitespace byte: the plain variants are recognized too, so that
        // they get a clear "unsupported" rather than "unknown format".
        header.count >= 3 && header[0] == UInt8(ascii: "P")
            && (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(header[1])
            && (header[2] == 0x20 || (0x09...0x0D).contains(header[2]))
    }

    public func decode(_ data: [UInt8], limits: DecodeLimits) throws -> Image {
        let header = try PNMHeader.parse(data)
        let wide = header.maxValue > 255
        let byteCount = try limits.check(width: header.width, height: header.height,
                                         channels: header.channels, bytesPerSample: wide ? 2 : 1)
        guard data.count - header.rasterOffset >= byteCount else { throw ImageDecodingError.truncated }
        let raster = data[header.rasterOffset..<(header.rasterOffset + byteCount)]
        let maxValue = header.maxValue
        // Scales 0...maxValue to 0...full with rounding; out-of-range samples are clamped.
        func scale(_ value: Int, to full: Int) -> Int {
            (Swift.min(value, maxValue) * full + maxValue / 2) / maxValue
        }
        if wide {
            var samples = [UInt16](repeating: 0, count: byteCount / 2)
            raster.withUnsafeBufferPointer { bytes in
                for i in samples.indices {
                    let value = Int(bytes[2 * i]) << 8 | Int(bytes[2 * i + 1])
                    samples[i] = UInt16(maxValue == 65535 ? value : scale(value, to: 65535))
                }
            }
            return Image(width: header.width, height: header.height, channels: header.channels, samples16: samples)
        }
        let samples = maxValue == 255 ? Array(raster) : raster.map { UInt8(scale(Int($0), to: 255)) }
        return Image(width: header.width, height: header.height, channels: header.channels, samples8: samples)
    }

    public func encode(_ image: Image, options: EncodeOptions) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else { throw ImageEncodingError.unsupported("an empty image") }
        let maxValue = image.maxValue
        let text: String
        switch image.channels {
        case 1: text = "P5\n\(image.width) \(image.height)\n\(maxValue)\n"
        case 3: text = "P6\n\(image.width) \(image.height)\n\(maxValue)\n"
        default:
            let tupleType = image.channels == 2 ? "GRAYSCALE_ALPHA" : "RGB_ALPHA"
            text = "P7\nWIDTH \(image.width)\nHEIGHT \(image.height)\nDEPTH \(image.channels)\n"
                + "MAXVAL \(maxValue)\nTUPLTYPE \(tupleType)\nENDHDR\n"
        }
        var output = Array(text.utf8)
        switch image.samples {
        case .uint8(let samples):
            output.append(contentsOf: samples)
        case .uint16(let samples):
            output.reserveCapacity(output.count + 2 * samples.count)
            for sample in samples {
                output.append(UInt8(sample >> 8))
                output.append(UInt8(sample & 0xFF))
            }
        }
        return output
    }
}
