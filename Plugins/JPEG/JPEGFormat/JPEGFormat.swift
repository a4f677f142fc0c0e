import CJPEG
import ImageIO

/// JPEG over libjpeg-turbo. Reads baseline, progressive and grayscale JPEGs as 8-bit gray
/// or RGB; CMYK and YCCK (Adobe's inverted CMYK included) are converted to RGB without a
/// color profile. The ICC profile (APP2 ICC_PROFILE segments, joined), EXIF and XMP (APP1)
/// are kept in `Image.metadata` (a profile only when its colour space is that of the decoded
/// samples, so not a CMYK one); the EXIF orientation is applied, so the image comes back
/// upright (and its EXIF then says orientation 1).
///
/// Writes 8-bit gray or RGB with `EncodeOptions.quality`, and the metadata back. JPEG has no
/// alpha: an alpha channel is dropped (not composited), and 16-bit images are reduced to 8
/// bits; callers who care composite or reduce first. EXIF and XMP must each fit one APP1
/// segment (65527 and 65504 bytes) and a profile 255 APP2 segments (16,707,345 bytes): a
/// larger one is not written (extended XMP and multi-segment EXIF are not standard).
public struct JPEGFormat: ImageFormat {
    public init() {}

    public var name: String { "JPEG" }
    public var extensions: [String] { ["jpg", "jpeg", "jpe", "jfif"] }
    public var summary: String {
        "JPEG (libjpeg-turbo): reads baseline, progressive, gray, CMYK, applies EXIF orientation; "
            + "writes 8-bit gray and RGB (alpha dropped); keeps ICC, EXIF, XMP"
    }

    public var metadataKinds: MetadataKinds { .all }

    static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]
    static let exifIdentifier: [UInt8] = Array("Exif".utf8) + [0, 0]
    static let xmpIdentifier: [UInt8] = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
    /// The largest payload of one marker segment (its length field counts itself).
    static let maxSegmentPayload = 65533
    /// The largest profile jpeg_write_icc_profile can split: 255 segments of 65519 bytes.
    static let maxICCProfile = 255 * 65519

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
            var metadata = JPEGFormat.metadata(reader.pointee.info.marker_list)
            var profile: UnsafeMutablePointer<UInt8>?
            var profileSize: UInt32 = 0
            guard vqz_jpeg_read_icc(reader, &profile, &profileSize) == 1 else {
                throw JPEGFormat.decodingError(reader.pointee.error)
            }
            if let profile {
                metadata.iccProfile = profileSize > 0 ? Array(UnsafeBufferPointer(start: profile, count: Int(profileSize))) : nil
                vqz_jpeg_free_icc(profile)
            }
            // A profile describes samples of its own colour space only: CMYK becomes RGB here
            // without one, and a CMYK (or RGB-on-gray) profile would mislead every viewer.
            if let icc = metadata.iccProfile, !JPEGFormat.profile(icc, describes: isCMYK ? 3 : components) {
                metadata.iccProfile = nil
            }
            let orientation = metadata.exif.flatMap(ExifOrientation.init(exif:))
            let invertedCMYK = reader.pointee.info.saw_Adobe_marker != 0
            var pixels = [UInt8](repeating: 0, count: byteCount)
            let done = pixels.withUnsafeMutableBufferPointer {
                vqz_jpeg_read_rows(reader, $0.baseAddress, width * components, byteCount)
            }
            guard done == 1 else { throw JPEGFormat.decodingError(reader.pointee.error) }
            let image = isCMYK
                ? Image(width: width, height: height, channels: 3,
                        samples8: JPEGFormat.rgb(fromCMYK: pixels, inverted: invertedCMYK), metadata: metadata)
                : Image(width: width, height: height, channels: components, samples8: pixels, metadata: metadata)
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
        func segment(_ identifier: [UInt8], _ data: [UInt8]?) -> [UInt8] {
            guard let data, identifier.count + data.count <= JPEGFormat.maxSegmentPayload else { return [] }
            return identifier + data
        }
        let exif = segment(JPEGFormat.exifIdentifier, image.metadata.exif)
        let xmp = segment(JPEGFormat.xmpIdentifier, image.metadata.xmp)
        let icc = image.metadata.iccProfile.flatMap { $0.count <= JPEGFormat.maxICCProfile ? $0 : nil } ?? []
        let done = opaque.samples8.withUnsafeBufferPointer { pixels in
            exif.withUnsafeBufferPointer { exif in
                icc.withUnsafeBufferPointer { icc in
                    xmp.withUnsafeBufferPointer { xmp in
                        let metadata = vqz_jpeg_metadata(app1_exif: exif.baseAddress, app1_exif_size: UInt32(exif.count),
                                                         icc: icc.baseAddress, icc_size: UInt32(icc.count),
                                                         app1_xmp: xmp.baseAddress, app1_xmp_size: UInt32(xmp.count))
                        return vqz_jpeg_write(writer, pixels.baseAddress, opaque.width * opaque.channels,
                                              JDIMENSION(opaque.width), JDIMENSION(opaque.height),
                                              Int32(opaque.channels), Int32(options.quality), metadata)
                    }
                }
            }
        }
        guard done == 1 else {
            throw ImageEncodingError.failed("libjpeg: " + JPEGFormat.message(writer.pointee.error))
        }
        return Array(UnsafeBufferPointer(start: writer.pointee.output, count: writer.pointee.output_size))
    }

    /// Whether an ICC profile's data colour space (header bytes 16...19) is that of 1 (GRAY)
    /// or 3 (RGB) channels.
    static func profile(_ profile: [UInt8], describes channels: Int) -> Bool {
        profile.count >= 20 && profile[16..<20].elementsEqual((channels == 1 ? "GRAY" : "RGB ").utf8)
    }

    /// EXIF and XMP from the first APP1 segment of each kind.
    private static func metadata(_ markers: jpeg_saved_marker_ptr?) -> ImageMetadata {
        var metadata = ImageMetadata()
        var marker = markers
        while let current = marker {
            let segment = current.pointee
            if segment.marker == JPEG_APP0 + 1, let data = segment.data {
                let bytes = UnsafeBufferPointer(start: data, count: Int(segment.data_length))
                if metadata.exif == nil, bytes.count > exifIdentifier.count, bytes.starts(with: exifIdentifier) {
                    metadata.exif = Array(bytes[exifIdentifier.count...])
                } else if metadata.xmp == nil, bytes.count > xmpIdentifier.count, bytes.starts(with: xmpIdentifier) {
                    metadata.xmp = Array(bytes[xmpIdentifier.count...])
                }
            }
            marker = segment.next
        }
        return metadata
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
