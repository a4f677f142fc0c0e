import CPNG
import ImageIO

/// PNG over libpng. Reads every PNG: gray 1/2/4/8/16-bit, palette with or without tRNS,
/// gray+alpha, RGB and RGBA 8/16-bit, Adam7 interlaced. Palettes become RGB, tRNS becomes
/// an alpha channel, gray below 8 bits is scaled to 8; 16-bit stays 16-bit. Gamma and
/// color profiles are not applied: samples come back as stored. The ICC profile (iCCP), EXIF
/// (eXIf) and XMP (iTXt XML:com.adobe.xmp) are kept in `Image.metadata`, and the EXIF
/// orientation is applied as JPEG's is, so the image comes back upright. Writes gray,
/// gray+alpha, RGB and RGBA at the image's bit depth (8 or 16), non-interlaced, with
/// `EncodeOptions.compressionLevel`, and the metadata back (a profile libpng finds invalid or
/// of the wrong colour space, RGB on gray, is dropped).
public struct PNGFormat: ImageFormat {
    public init() {}

    public var name: String { "PNG" }
    public var extensions: [String] { ["png"] }
    public var summary: String {
        "PNG (libpng \(String(cString: png_get_libpng_ver(nil)))): reads all color types, 1 to 16 bit, "
            + "interlaced, applies EXIF orientation; writes 8/16-bit gray, gray+alpha, RGB, RGBA; keeps ICC, EXIF, XMP"
    }

    public var metadataKinds: MetadataKinds { .all }

    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    public func sniff(_ header: [UInt8]) -> Bool {
        header.starts(with: PNGFormat.signature)
    }

    public func decode(_ data: [UInt8], limits: DecodeLimits) throws -> Image {
        guard sniff(data) else {
            throw PNGFormat.signature.starts(with: data)
                ? ImageDecodingError.truncated : ImageDecodingError.corrupt("not a PNG file (bad signature)")
        }
        guard let context = vqz_png_new() else { throw ImageDecodingError.corrupt("out of memory") }
        defer { vqz_png_free(context) }
        return try data.withUnsafeBufferPointer { input in
            guard vqz_png_read_header(context, input.baseAddress, input.count) == 1 else {
                throw PNGFormat.decodingError(context)
            }
            let png = context.pointee.png, info = context.pointee.info
            let width = Int(png_get_image_width(png, info)), height = Int(png_get_image_height(png, info))
            // The declared size against the budget before libpng allocates a row: 4 channels of
            // 16 bits is the most any PNG expands to.
            try limits.check(width: width, height: height, channels: 4, bytesPerSample: 2)
            guard vqz_png_prepare_rows(context) == 1 else { throw PNGFormat.decodingError(context) }
            let channels = Int(png_get_channels(png, info)), depth = Int(png_get_bit_depth(png, info))
            // After png_set_expand every PNG has 8- or 16-bit samples.
            guard (1...4).contains(channels), depth == 8 || depth == 16 else {
                throw ImageDecodingError.unsupported("PNG with \(channels) channels of \(depth) bits after expansion")
            }
            let byteCount = try limits.check(width: width, height: height, channels: channels,
                                             bytesPerSample: depth / 8)
            let rowBytes = Int(png_get_rowbytes(png, info))
            guard rowBytes == width * channels * depth / 8 else {
                throw ImageDecodingError.corrupt("libpng row size \(rowBytes) does not match the header")
            }
            var bytes = [UInt8](repeating: 0, count: byteCount)
            let done = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
                var rows = (0..<height).map { Optional(buffer.baseAddress! + $0 * rowBytes) }
                return rows.withUnsafeMutableBufferPointer { vqz_png_read_rows(context, $0.baseAddress) }
            }
            guard done == 1 else { throw PNGFormat.decodingError(context) }
            let metadata = PNGFormat.metadata(vqz_png_get_metadata(context))
            let image: Image
            if depth == 8 {
                image = Image(width: width, height: height, channels: channels, samples8: bytes, metadata: metadata)
            } else {
                // PNG stores 16-bit samples big-endian.
                let samples = (0..<(byteCount / 2)).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
                image = Image(width: width, height: height, channels: channels, samples16: samples, metadata: metadata)
            }
            return metadata.exif.flatMap(ExifOrientation.init(exif:)).map { image.applying($0) } ?? image
        }
    }

    /// Copies of what libpng kept; its buffers die with the reader.
    private static func metadata(_ found: vqz_png_metadata) -> ImageMetadata {
        func copy(_ pointer: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8]? {
            guard let pointer, count > 0 else { return nil }
            return Array(UnsafeBufferPointer(start: pointer, count: count))
        }
        return ImageMetadata(iccProfile: copy(found.icc, found.icc_size), exif: copy(found.exif, found.exif_size),
                             xmp: copy(found.xmp, found.xmp_size))
    }

    public func encode(_ image: Image, options: EncodeOptions) throws -> [UInt8] {
        guard (0...9).contains(options.compressionLevel) else {
            throw ImageEncodingError.invalidOption("PNG compression level \(options.compressionLevel) is outside 0...9")
        }
        guard image.width > 0, image.height > 0 else { throw ImageEncodingError.unsupported("an empty image") }
        guard image.width <= Int(PNG_UINT_31_MAX), image.height <= Int(PNG_UINT_31_MAX) else {
            throw ImageEncodingError.unsupported("PNG holds at most 2^31-1 pixels a side")
        }
        let colorType: Int32
        switch image.channels {
        case 1: colorType = PNG_COLOR_TYPE_GRAY
        case 2: colorType = PNG_COLOR_TYPE_GRAY_ALPHA
        case 3: colorType = PNG_COLOR_TYPE_RGB
        default: colorType = PNG_COLOR_TYPE_RGB_ALPHA
        }
        var bytes: [UInt8]
        switch image.samples {
        case .uint8(let samples):
            bytes = samples
        case .uint16(let samples):
            bytes = [UInt8](repeating: 0, count: 2 * samples.count)
            for (i, sample) in samples.enumerated() {
                bytes[2 * i] = UInt8(sample >> 8)
                bytes[2 * i + 1] = UInt8(sample & 0xFF)
            }
        }
        let rowBytes = image.width * image.channels * image.bitDepth / 8
        guard let context = vqz_png_new() else { throw ImageEncodingError.failed("out of memory") }
        defer { vqz_png_free(context) }
        let icc = image.metadata.iccProfile ?? [], exif = image.metadata.exif ?? []
        // libpng measures iTXt text with strlen: XMP holds no NUL, and gets one at its end.
        let xmp = image.metadata.xmp.map { $0 + [0] } ?? []
        let done = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var rows = (0..<image.height).map { Optional(buffer.baseAddress! + $0 * rowBytes) }
            return icc.withUnsafeBufferPointer { icc in
                exif.withUnsafeBufferPointer { exif in
                    xmp.withUnsafeBufferPointer { xmp in
                        let metadata = vqz_png_metadata(icc: icc.baseAddress, icc_size: icc.count, exif: exif.baseAddress,
                                                        exif_size: exif.count, xmp: xmp.baseAddress,
                                                        xmp_size: max(xmp.count - 1, 0))
                        return rows.withUnsafeMutableBufferPointer {
                            vqz_png_write(context, png_uint_32(image.width), png_uint_32(image.height),
                                          Int32(image.bitDepth), colorType, Int32(options.compressionLevel),
                                          $0.baseAddress, metadata)
                        }
                    }
                }
            }
        }
        guard done == 1 else {
            throw ImageEncodingError.failed("libpng: " + String(cString: vqz_png_message(context)))
        }
        return Array(UnsafeBufferPointer(start: context.pointee.output, count: context.pointee.output_size))
    }

    private static func decodingError(_ context: UnsafeMutablePointer<vqz_png>) -> ImageDecodingError {
        if context.pointee.truncated != 0 { return .truncated }
        return .corrupt("libpng: " + String(cString: vqz_png_message(context)))
    }
}
