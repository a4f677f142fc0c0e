import CVQZPlugin
import Testing
@testable import VQZQOI

/// The plugin's C entry points as vqz calls them: statuses, messages, memory, conversions.
@Suite struct QOIPluginTableTests {
    let table = qoiFormatPluginV1()!.pointee

    func encode(_ samples: [UInt8], width: UInt32, height: UInt32, channels: UInt32, depth: UInt32 = 8) -> (Int32, [UInt8], String) {
        var samples = samples
        var message = [CChar](repeating: 0, count: 256)
        var options = vqz_encode_options(quality: 90, compression_level: 6)
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = samples.withUnsafeMutableBytes { pixels in
            var image = vqz_image(width: width, height: height, channels: channels, bit_depth: depth,
                                  pixels: pixels.baseAddress, pixels_size: pixels.count)
            return table.encode!(&image, &options, &out, &size, &message, message.count)
        }
        defer { table.free_buffer!(out) }
        let bytes = out.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        return (status, bytes, String(cString: message))
    }

    @Test func tableDescribesQOI() {
        #expect(table.abi_version == 1)
        #expect(Int(table.struct_size) == MemoryLayout<vqz_format_plugin>.size)
        #expect(String(cString: table.name) == "QOI")
        #expect(String(cString: table.extensions) == "qoi")
        #expect(table.flags == VQZ_PLUGIN_CAN_READ | VQZ_PLUGIN_CAN_WRITE)
        let magic = Array("qoif....".utf8)
        #expect(table.sniff!(magic, magic.count) == 1)
        #expect(table.sniff!(magic, 3) == 0)
        #expect(table.sniff!(nil, 0) == 0)
    }

    @Test func grayAndSixteenBitAreWrittenAsEightBitRGB() throws {
        let (status, bytes, _) = encode([0, 255, 128, 7], width: 2, height: 1, channels: 2)
        #expect(status == VQZ_STATUS_OK)
        let decoded = try QOIDecoder.decode(bytes)
        #expect(decoded.header.channels == 4)
        #expect(decoded.pixels == [0, 0, 0, 255, 128, 128, 128, 7])

        let wide: [UInt16] = [0, 65535, 257 * 100]
        let raw = wide.withUnsafeBytes { Array($0) }
        let (status16, bytes16, _) = encode(raw, width: 1, height: 1, channels: 3, depth: 16)
        #expect(status16 == VQZ_STATUS_OK)
        #expect(try QOIDecoder.decode(bytes16).pixels == [0, 255, 100])
    }

    @Test func decodeStatusesAndMessages() throws {
        let (_, bytes, _) = encode([1, 2, 3, 4, 5, 6], width: 2, height: 1, channels: 3)
        var image = vqz_image()
        var message = [CChar](repeating: 0, count: 256)
        #expect(table.decode!(bytes, bytes.count, 2, &image, &message, 256) == VQZ_STATUS_OK)
        #expect(image.width == 2 && image.height == 1 && image.channels == 3 && image.bit_depth == 8 && image.pixels_size == 6)
        #expect(Array(UnsafeRawBufferPointer(start: image.pixels, count: 6)) == [1, 2, 3, 4, 5, 6])
        table.free_buffer!(image.pixels)

        image = vqz_image()
        #expect(table.decode!(bytes, bytes.count, 1, &image, &message, 256) == VQZ_STATUS_TOO_LARGE)
        #expect(image.width == 2 && image.height == 1 && image.pixels == nil)
        #expect(table.decode!(bytes, 10, 100, &image, &message, 256) == VQZ_STATUS_TRUNCATED)
        #expect(image.pixels == nil)
        var broken = bytes
        broken[12] = 9
        #expect(table.decode!(broken, broken.count, 100, &image, &message, 256) == VQZ_STATUS_CORRUPT)
        #expect(String(cString: message) == "QOI: channels 9 is neither 3 nor 4")
        // A short buffer gets a cut, NUL-terminated message and nothing past its end.
        var short = [CChar](repeating: 0x7F, count: 12)
        #expect(table.decode!(broken, broken.count, 100, &image, &short, 8) == VQZ_STATUS_CORRUPT)
        #expect(Array(short[0..<8]) == Array("QOI: ch".utf8).map { CChar(bitPattern: $0) } + [0])
        #expect(Array(short[8...]) == [0x7F, 0x7F, 0x7F, 0x7F])
    }

    @Test func cutMessagesStayValidUTF8() {
        var buffer = [CChar](repeating: 0, count: 7)
        // "QOI: é" is 7 bytes: cut to 6, the é's lead byte alone would be left; it is dropped.
        _ = QOIPlugin.fail(.corrupt("é"), &buffer, 7)
        #expect(String(cString: buffer) == "QOI: ")
    }
}
