#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CVQZPlugin

/// The plugin's side of the C ABI (docs/PLUGINS.md): the table vqz finds through the
/// exported `vqz_format_plugin_v1` and the C functions it points to. Everything here is
/// stateless, so vqz may call it from several threads at once.
enum QOIPlugin {
    /// Built once; its strings are never freed because the table lives as long as the process.
    static let table: UnsafeMutablePointer<vqz_format_plugin> = {
        let table = UnsafeMutablePointer<vqz_format_plugin>.allocate(capacity: 1)
        table.initialize(to: vqz_format_plugin(
            abi_version: UInt32(VQZ_PLUGIN_ABI_VERSION),
            struct_size: UInt32(MemoryLayout<vqz_format_plugin>.size),
            name: UnsafePointer(strdup("QOI")),
            extensions: UnsafePointer(strdup("qoi")),
            summary: UnsafePointer(strdup("QOI, the Quite OK Image format (a plugin written in Swift): reads and writes "
                                          + "8-bit RGB and RGBA; gray is written as RGB, 16-bit reduced to 8")),
            flags: VQZ_PLUGIN_CAN_READ | VQZ_PLUGIN_CAN_WRITE,
            sniff: { bytes, length in
                guard let bytes, length >= 4 else { return 0 }
                return UnsafeBufferPointer(start: bytes, count: 4).elementsEqual(QOIHeader.magic) ? 1 : 0
            },
            decode: { bytes, length, maxPixels, out, message, messageSize in
                QOIPlugin.decode(bytes, length, maxPixels, out, message, messageSize)
            },
            encode: { image, options, outBytes, outSize, message, messageSize in
                QOIPlugin.encode(image, outBytes, outSize, message, messageSize)
            },
            free_buffer: { buffer in free(buffer) }
        ))
        return table
    }()

    static func decode(_ bytes: UnsafePointer<UInt8>?, _ length: Int, _ maxPixels: UInt64, _ out: UnsafeMutablePointer<vqz_image>?,
                       _ message: UnsafeMutablePointer<CChar>?, _ messageSize: Int) -> Int32 {
        guard let out else { return fail(.corrupt("no output descriptor"), message, messageSize) }
        out.pointee = vqz_image()
        let input = UnsafeBufferPointer(start: length > 0 ? bytes : nil, count: length)
        do {
            let (header, pixels) = try QOIDecoder.decode(input, maxPixels: Int(clamping: maxPixels))
            guard let buffer = malloc(max(1, pixels.count)) else {
                return fail(.unsupported("out of memory"), message, messageSize, status: VQZ_STATUS_FAILED)
            }
            pixels.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            out.pointee = vqz_image(width: UInt32(header.width), height: UInt32(header.height), channels: UInt32(header.channels),
                                    bit_depth: 8, pixels: buffer, pixels_size: pixels.count)
            return VQZ_STATUS_OK
        } catch let error as QOIError {
            if case .tooLarge(let width, let height) = error {
                // The ABI asks for the declared size, so that vqz can say how large it was.
                out.pointee.width = UInt32(width)
                out.pointee.height = UInt32(height)
            }
            return fail(error, message, messageSize)
        } catch {
            return fail(.corrupt("\(error)"), message, messageSize)
        }
    }

    static func encode(_ image: UnsafePointer<vqz_image>?, _ outBytes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                       _ outSize: UnsafeMutablePointer<Int>?, _ message: UnsafeMutablePointer<CChar>?, _ messageSize: Int) -> Int32 {
        guard let image, let outBytes, let outSize else { return fail(.unsupported("missing arguments"), message, messageSize) }
        outBytes.pointee = nil
        outSize.pointee = 0
        do {
            let (samples, channels) = try rgbSamples(image.pointee)
            let header = QOIHeader(width: Int(image.pointee.width), height: Int(image.pointee.height), channels: channels)
            let bytes = try QOIEncoder.encode(samples, header: header)
            guard let buffer = malloc(bytes.count) else {
                return fail(.unsupported("out of memory"), message, messageSize, status: VQZ_STATUS_FAILED)
            }
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            outBytes.pointee = buffer.assumingMemoryBound(to: UInt8.self)
            outSize.pointee = bytes.count
            return VQZ_STATUS_OK
        } catch let error as QOIError {
            return fail(error, message, messageSize)
        } catch {
            return fail(.unsupported("\(error)"), message, messageSize)
        }
    }

    /// The image as 8-bit RGB or RGBA: QOI has no gray and no 16-bit samples. Gray is copied
    /// to the three colors; 16-bit samples are rounded to 8 bits (v * 255 / 65535).
    static func rgbSamples(_ image: vqz_image) throws -> (samples: [UInt8], channels: Int) {
        let width = Int(image.width), height = Int(image.height), channels = Int(image.channels)
        guard (1...4).contains(channels), image.bit_depth == 8 || image.bit_depth == 16 else {
            throw QOIError.unsupported("\(channels) channels at \(image.bit_depth) bits is not an image vqz sends")
        }
        guard width > 0, height > 0 else { throw QOIError.unsupported("cannot encode an empty image") }
        let (pixelCount, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixelCount <= QOIHeader.maxPixels else {
            throw QOIError.unsupported("\(width)x\(height) is over QOI's limit of \(QOIHeader.maxPixels) pixels")
        }
        let sampleCount = pixelCount * channels, wide = image.bit_depth == 16
        guard let pixels = image.pixels, image.pixels_size == sampleCount * (wide ? 2 : 1) else {
            throw QOIError.unsupported("the pixel buffer does not match the image size")
        }
        var samples = [UInt8](repeating: 0, count: sampleCount)
        if wide {
            let raw = UnsafeRawBufferPointer(start: pixels, count: image.pixels_size)
            for i in 0..<sampleCount {
                let value = UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                samples[i] = UInt8((value * 255 + 32767) / 65535)
            }
        } else {
            samples.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: pixels, count: sampleCount)) }
        }
        if channels >= 3 { return (samples, channels) }
        // Gray (+ alpha) to RGB (+ alpha).
        let target = channels + 2
        var color = [UInt8](repeating: 0, count: pixelCount * target)
        for p in 0..<pixelCount {
            let gray = samples[p * channels]
            color[p * target] = gray
            color[p * target + 1] = gray
            color[p * target + 2] = gray
            if channels == 2 { color[p * target + 3] = samples[p * channels + 1] }
        }
        return (color, target)
    }

    /// Writes the error's one-line description into the caller's buffer (cut to fit, always
    /// NUL-terminated) and returns its status code.
    static func fail(_ error: QOIError, _ message: UnsafeMutablePointer<CChar>?, _ messageSize: Int, status: Int32? = nil) -> Int32 {
        if let message, messageSize > 0 {
            var text = Array(error.description.utf8.prefix(messageSize - 1))
            // Never cut a UTF-8 sequence in half: drop trailing continuation bytes and their lead.
            if let last = text.lastIndex(where: { $0 & 0xC0 != 0x80 }), text[last] >= 0xC0,
               text.count - last < (text[last] >= 0xF0 ? 4 : text[last] >= 0xE0 ? 3 : 2) {
                text.removeSubrange(last...)
            }
            for (i, byte) in text.enumerated() { message[i] = CChar(bitPattern: byte) }
            message[text.count] = 0
        }
        return status ?? error.status
    }
}

/// The one exported symbol of the plugin library.
@_cdecl("vqz_format_plugin_v1")
public func qoiFormatPluginV1() -> UnsafePointer<vqz_format_plugin>? {
    UnsafePointer(QOIPlugin.table)
}
