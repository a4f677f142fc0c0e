import CJPEG
import ImageIO

/// JPEG over libjpeg-turbo. Reads baseline, progressive and grayscale JPEGs as 8-bit gray
/// or RGB; CMYK and YCCK (Adobe's inverted CMYK included) are converted to RGB without a
/// color profile. The EXIF orientation is applied, so the image comes back upright.
///
/// Writes 8-bit gray or RGB with `EncodeOptions.quality`. JPEG has no alpha: an alpha
/// channel is dropped (not composited), and 16-bit images are reduced to 8 bits; callers
/// who care composite or reduce first.
public struct JPEGFormat: ImageFormat {
    public init() {}

    public var name: String { "JPEG" }
    public var extensions: [String] { ["jpg", "jpeg", "jpe", "jfif"] }
    public var summary: String {
        "JPEG (libjpeg-turbo): reads baseline, progressive, gray, CMYK, applies EXIF orientation; "
            + "writes 8-bit gray and RGB (alpha dropped)"
    }

    static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]

    public func sniff(_ header: [UInt8]) -> Bool {
        header.starts(with: JPEGFormat.signature)
    }

    public func decode(_ data: [UInt8], limits: DecodeLimits) throws -> Image {
        guard sniff(data) else {
            throw JPEGFormat.signature.starts(with: data)
                ? ImageDecodingError.truncated : ImageDecodingError.corrupt("not a JPEG file (no SOI marker)")
        }
        guard let reader = vqz_jpeg_reader_new() else { throw ImageDecodingError.corrupt("out of memory") }
        defer { vqz_jpeg_reader_free(reader) }
        return try data.withUnsafeBufferPointer { input in
            guard vqz_jpeg_read_header(reader, input.baseAddress, input.count) == 1 else {
                throw JPEGFormat.decodingError(reader.pointee.error)
            }
            let width = Int(reader.pointee.info.image_width), height = Int(reader.pointee.info.image_height)
            let source = reader.pointee.info.jpeg_color_space
            let isCMYK = source == JCS_CMYK || source == JCS_YCCK
            let components: Int
            if source == JCS_GRAYSCALE {
                reader.pointee.info.out_color_space = JCS_GRAYSCALE
                components = 1
            } else if isCMYK {
                // libjpeg turns YCCK into CMYK; CMYK to RGB is done below.
                reader.pointee.info.out_color_space = JCS_CMYK
                components = 4
            } else {
                reader.pointee.info.out_color_space = JCS_RGB
                components = 3
            }
            let byteCount = try limits.check(width: width, height: height, channels: components)
            let orientation = JPEGFormat.exifOrientation(reader.pointee.info.marker_list)
            let invertedCMYK = reader.pointee.info.saw_Adobe_marker != 0
            var pixels = [UInt8](repeating: 0, count: byteCount)
            let done = pixels.withUnsafeMutableBufferPointer {
                vqz_jpeg_read_rows(reader, $0.baseAddress, width * components, byteCount)
            }
            guard done == 1 else { throw JPEGFormat.decodingError(reader.pointee.error) }
            let image = isCMYK
                ? Image(width: width, height: height, channels: 3,
                        samples8: JPEGFormat.rgb(fromCMYK: pixels, inverted: invertedCMYK))
                : Image(width: width, height: height, channels: components, samples8: pixels)
            return orientation.map { image.applying($0) } ?? image
        }
    }

    public func encode(_ image: Image, options: EncodeOptions) throws -> [UInt8] {
        guard (1...100).contains(options.quality) else {
            throw ImageEncodingError.invalidOption("JPEG quality \(options.quality) is outside 1...100")
        }
        guard image.width > 0, image.height > 0 else { throw ImageEncodingError.unsupported("an empty image") }
        guard image.width <= Int(JPEG_MAX_DIMENSION), image.height <= Int(JPEG_MAX_DIMENSION) else {
            throw ImageEncodingError.unsupported("JPEG holds at most \(JPEG_MAX_DIMENSION) pixels a side")
        }
        let opaque = image.converted(toBitDepth: 8).withChannels(image.colorChannels)
        guard let writer = vqz_jpeg_writer_new() else { throw ImageEncodingError.failed("out of memory") }
        defer { vqz_jpeg_writer_free(writer) }
        let done = opaque.samples8.withUnsafeBufferPointer {
            vqz_jpeg_write(writer, $0.baseAddress, opaque.width * opaque.channels, JDIMENSION(opaque.width),
                           JDIMENSION(opaque.height), Int32(opaque.channels), Int32(options.quality))
        }
        guard done == 1 else {
            throw ImageEncodingError.failed("libjpeg: " + JPEGFormat.message(writer.pointee.error))
        }
        return Array(UnsafeBufferPointer(start: writer.pointee.output, count: writer.pointee.output_size))
    }

    /// The orientation in the first APP1 segment that holds EXIF data, if any.
    private static func exifOrientation(_ markers: jpeg_saved_marker_ptr?) -> ExifOrientation? {
        let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
        var marker = markers
        while let current = marker {
            let segment = current.pointee
            if segment.marker == JPEG_APP0 + 1, let data = segment.data, segment.data_length > 6 {
                let bytes = Array(UnsafeBufferPointer(start: data, count: Int(segment.data_length)))
                if bytes.starts(with: exifHeader) {
                    return ExifOrientation(exif: Array(bytes[6...]))
                }
            }
            marker = segment.next
        }
        return nil
    }

    /// CMYK to RGB as naive ink: R = (1 - C)(1 - K). Adobe applications store CMYK JPEGs
    /// inverted (and mark them with an Adobe segment), so there the stored values already
    /// are 1 - C and 1 - K.
    private static func rgb(fromCMYK cmyk: [UInt8], inverted: Bool) -> [UInt8] {
        let pixels = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: pixels * 3)
        for p in 0..<pixels {
            var k = Int(cmyk[4 * p + 3])
            if !inverted { k = 255 - k }
            for c in 0..<3 {
                var ink = Int(cmyk[4 * p + c])
                if !inverted { ink = 255 - ink }
                rgb[3 * p + c] = UInt8((ink * k + 127) / 255)
            }
        }
        return rgb
    }

    private static func decodingError(_ error: vqz_jpeg_error) -> ImageDecodingError {
        if error.truncated != 0 { return .truncated }
        let unsupported = [JERR_BAD_PRECISION, JERR_SOF_UNSUPPORTED, JERR_NOT_COMPILED, JERR_CONVERSION_NOTIMPL]
        let text = "libjpeg: " + message(error)
        if unsupported.contains(where: { Int32($0.rawValue) == error.code }) { return .unsupported(text) }
        return .corrupt(text)
    }

    private static func message(_ error: vqz_jpeg_error) -> String {
        withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
