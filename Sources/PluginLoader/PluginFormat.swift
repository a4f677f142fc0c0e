import CVQZPlugin
import Foundation
import ImageIO

/// An image format from a plugin library, called through the library's C table
/// (docs/PLUGINS.md). Pixels and bytes the plugin returns are copied into Swift arrays and
/// freed at once with the plugin's own free function, so no plugin memory outlives a call.
///
/// `@unchecked Sendable`: the table is constant and never unloaded, and the ABI requires its
/// functions to be safe to call from several threads at once.
public struct PluginFormat: ImageFormat, @unchecked Sendable {
    let table: UnsafePointer<vqz_format_plugin>
    /// The library the format came from, for `vqz formats -v` and for messages.
    public let libraryPath: String
    public let name: String
    public let extensions: [String]
    public let canRead: Bool
    public let canWrite: Bool
    public let summary: String

    /// The table must have passed `problem(with:)`.
    init(table: UnsafePointer<vqz_format_plugin>, libraryPath: String) {
        let t = table.pointee
        self.table = table
        self.libraryPath = libraryPath
        name = String(cString: t.name!)
        extensions = PluginFormat.extensionList(t.extensions!)
        canRead = t.flags & VQZ_PLUGIN_CAN_READ != 0
        canWrite = t.flags & VQZ_PLUGIN_CAN_WRITE != 0
        summary = t.summary.map { String(cString: $0) } ?? name
    }

    /// Why a table cannot be used, or nil when it can. The version fields are read first,
    /// on their own, so that a table of another layout is never read past its end.
    static func problem(with table: UnsafePointer<vqz_format_plugin>) -> String? {
        let raw = UnsafeRawPointer(table)
        let version = raw.load(fromByteOffset: 0, as: UInt32.self)
        let size = raw.load(fromByteOffset: 4, as: UInt32.self)
        let supported = UInt32(VQZ_PLUGIN_ABI_VERSION)
        guard version == supported else {
            return "plugin ABI version \(version), this vqz supports version \(supported) (rebuild the plugin with this vqz's vqz_plugin.h)"
        }
        guard size >= MemoryLayout<vqz_format_plugin>.size else {
            return "bad table: \(size) bytes, ABI version \(supported) needs \(MemoryLayout<vqz_format_plugin>.size)"
        }
        let t = table.pointee
        guard let name = t.name, !String(cString: name).isEmpty else { return "bad table: no name" }
        guard let extensions = t.extensions, !extensionList(extensions).isEmpty else { return "bad table: no extensions" }
        let known = VQZ_PLUGIN_CAN_READ | VQZ_PLUGIN_CAN_WRITE
        guard t.flags & known != 0, t.flags & ~known == 0 else { return "bad table: flags \(t.flags) are not read and/or write" }
        guard t.sniff != nil else { return "bad table: no sniff function" }
        guard t.free_buffer != nil else { return "bad table: no free_buffer function" }
        guard t.flags & VQZ_PLUGIN_CAN_READ == 0 || t.decode != nil else { return "bad table: reads but has no decode function" }
        guard t.flags & VQZ_PLUGIN_CAN_WRITE == 0 || t.encode != nil else { return "bad table: writes but has no encode function" }
        return nil
    }

    /// "qoi, QOI" -> ["qoi"... ]: comma-separated, trimmed, lower-cased, leading dots dropped.
    static func extensionList(_ text: UnsafePointer<CChar>) -> [String] {
        String(cString: text).split(separator: ",").map {
            var ext = $0.trimmingCharacters(in: .whitespaces).lowercased()
            while ext.hasPrefix(".") { ext.removeFirst() }
            return ext
        }.filter { !$0.isEmpty }
    }

    public func sniff(_ header: [UInt8]) -> Bool {
        guard !header.isEmpty else { return false }
        return header.withUnsafeBufferPointer { table.pointee.sniff!($0.baseAddress, $0.count) == 1 }
    }

    public func decode(_ data: [UInt8], limits: DecodeLimits) throws -> Image {
        guard canRead, let decode = table.pointee.decode else { throw ImageDecodingError.unsupported("the \(name) plugin cannot read") }
        var out = vqz_image()
        var message = [CChar](repeating: 0, count: Int(VQZ_PLUGIN_MESSAGE_SIZE))
        let maxPixels = UInt64(max(0, limits.maxPixels))
        // A one-byte stand-in when the data is empty, so that the plugin never sees NULL.
        let status = (data.isEmpty ? [0] : data).withUnsafeBufferPointer { bytes in
            decode(bytes.baseAddress, data.count, maxPixels, &out, &message, message.count)
        }
        guard status == VQZ_STATUS_OK else {
            let text = PluginFormat.text(message, orElse: "the \(name) plugin failed with status \(status)")
            switch status {
            case VQZ_STATUS_TRUNCATED: throw ImageDecodingError.truncated
            case VQZ_STATUS_UNSUPPORTED: throw ImageDecodingError.unsupported(text)
            case VQZ_STATUS_TOO_LARGE:
                throw ImageDecodingError.tooLarge(width: Int(out.width), height: Int(out.height), limit: limits.maxPixels)
            default: throw ImageDecodingError.corrupt(text)
            }
        }
        defer { if let pixels = out.pixels { table.pointee.free_buffer!(pixels) } }
        return try copyImage(out, limits: limits)
    }

    /// Checks what the plugin returned against the ABI and the limits, then copies it.
    private func copyImage(_ out: vqz_image, limits: DecodeLimits) throws -> Image {
        let width = Int(out.width), height = Int(out.height), channels = Int(out.channels)
        guard (1...4).contains(channels), out.bit_depth == 8 || out.bit_depth == 16 else {
            throw ImageDecodingError.corrupt("the \(name) plugin returned \(channels) channels at \(out.bit_depth) bits")
        }
        let byteCount = try limits.check(width: width, height: height, channels: channels, bytesPerSample: Int(out.bit_depth) / 8)
        guard out.pixels_size == byteCount, byteCount == 0 || out.pixels != nil else {
            throw ImageDecodingError.corrupt("the \(name) plugin returned \(out.pixels_size) bytes of pixels for a \(width)x\(height) image")
        }
        let source = UnsafeRawBufferPointer(start: out.pixels, count: byteCount)
        if out.bit_depth == 8 {
            return Image(width: width, height: height, channels: channels, samples8: Array(source.bindMemory(to: UInt8.self)))
        }
        // memcpy rather than a typed view: nothing promises the buffer is 2-byte aligned.
        let samples = [UInt16](unsafeUninitializedCapacity: byteCount / 2) { buffer, count in
            if byteCount > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source) }
            count = byteCount / 2
        }
        return Image(width: width, height: height, channels: channels, samples16: samples)
    }

    public func encode(_ image: Image, options: EncodeOptions) throws -> [UInt8] {
        guard canWrite, let encode = table.pointee.encode else { throw ImageEncodingError.unsupported("the \(name) plugin cannot write") }
        guard let width = UInt32(exactly: image.width), let height = UInt32(exactly: image.height) else {
            throw ImageEncodingError.unsupported("\(image.width)x\(image.height) is too large for the plugin ABI")
        }
        var settings = vqz_encode_options(quality: Int32(clamping: options.quality),
                                          compression_level: Int32(clamping: options.compressionLevel))
        var message = [CChar](repeating: 0, count: Int(VQZ_PLUGIN_MESSAGE_SIZE))
        var output: UnsafeMutablePointer<UInt8>?
        var outputSize = 0
        let status: Int32 = withSampleBytes(image) { pixels in
            var descriptor = vqz_image(width: width, height: height, channels: UInt32(image.channels), bit_depth: UInt32(image.bitDepth),
                                       pixels: UnsafeMutableRawPointer(mutating: pixels.baseAddress), pixels_size: pixels.count)
            return encode(&descriptor, &settings, &output, &outputSize, &message, message.count)
        }
        guard status == VQZ_STATUS_OK else {
            let text = PluginFormat.text(message, orElse: "the \(name) plugin failed with status \(status)")
            switch status {
            case VQZ_STATUS_UNSUPPORTED: throw ImageEncodingError.unsupported(text)
            case VQZ_STATUS_INVALID_OPTION: throw ImageEncodingError.invalidOption(text)
            default: throw ImageEncodingError.failed(text)
            }
        }
        defer { if let output { table.pointee.free_buffer!(output) } }
        guard let output else {
            throw ImageEncodingError.failed("the \(name) plugin reported success but returned no bytes")
        }
        return Array(UnsafeBufferPointer(start: output, count: outputSize))
    }

    private func withSampleBytes<R>(_ image: Image, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch image.samples {
        case .uint8(let samples): return samples.withUnsafeBytes(body)
        case .uint16(let samples): return samples.withUnsafeBytes(body)
        }
    }

    /// The plugin's message: up to the first NUL, never past the buffer, invalid UTF-8 repaired.
    static func text(_ message: [CChar], orElse fallback: String) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? fallback : String(decoding: bytes, as: UTF8.self)
    }
}
