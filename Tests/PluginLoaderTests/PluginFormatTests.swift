import Foundation
import ImageIO
import Testing
@testable import PluginLoader

/// Calls through the C table: pixels and bytes copied in and out, the plugin's memory freed
/// once, status codes turned into ImageIO's errors, sizes checked against the limits.
@Suite final class PluginFormatTests {
    /// "TOY" w h channels depth mode, then the raw samples (16-bit in the machine's order).
    /// `mode` makes the decoder misbehave on purpose; toy_frees counts free_buffer calls.
    static let source = """
        #include <vqz_plugin.h>
        #include <stdlib.h>
        #include <string.h>
        #include <stdio.h>
        int toy_frees = 0;
        static int32_t sniff(const uint8_t *b, size_t n) { return n >= 3 && memcmp(b, "TOY", 3) == 0; }
        static void release(void *p) { if (p) toy_frees++; free(p); }
        static int32_t decode(const uint8_t *b, size_t n, uint64_t max, vqz_image *o, char *msg, size_t ms) {
            if (n < 8) return VQZ_STATUS_TRUNCATED;
            uint32_t w = b[3], h = b[4], c = b[5], d = b[6], mode = b[7];
            size_t size = (size_t)w * h * c * (d / 8);
            if (mode != 5 && (uint64_t)w * h > max) { o->width = w; o->height = h; return VQZ_STATUS_TOO_LARGE; }
            if (mode == 1) { snprintf(msg, ms, "toy: mode %u is corrupt", mode); return VQZ_STATUS_CORRUPT; }
            if (mode == 3) { snprintf(msg, ms, "toy: mode %u is unsupported", mode); return VQZ_STATUS_UNSUPPORTED; }
            if (mode == 4) return 99;
            if (n < 8 + size) return VQZ_STATUS_TRUNCATED;
            o->width = w; o->height = h; o->channels = c; o->bit_depth = d;
            o->pixels = malloc(size + 1);
            memcpy(o->pixels, b + 8, size);
            o->pixels_size = mode == 2 ? size + 1 : size;
            return VQZ_STATUS_OK;
        }
        static int32_t encode(const vqz_image *im, const vqz_encode_options *opt, uint8_t **out, size_t *n, char *msg, size_t ms) {
            if (opt->quality > 100) { snprintf(msg, ms, "toy: quality %d", opt->quality); return VQZ_STATUS_INVALID_OPTION; }
            if (im->channels == 2) { snprintf(msg, ms, "toy: no gray+alpha"); return VQZ_STATUS_UNSUPPORTED; }
            if (opt->compression_level == 9) { memset(msg, 'x', ms - 1); msg[ms - 1] = 0; return VQZ_STATUS_FAILED; }
            *n = 8 + im->pixels_size;
            *out = malloc(*n);
            uint8_t head[8] = { 'T', 'O', 'Y', im->width, im->height, im->channels, im->bit_depth, 0 };
            memcpy(*out, head, 8);
            memcpy(*out + 8, im->pixels, im->pixels_size);
            return VQZ_STATUS_OK;
        }
        static const vqz_format_plugin table = { VQZ_PLUGIN_ABI_VERSION, sizeof(vqz_format_plugin), "TOY", "toy,.TY",
                                                 NULL, VQZ_PLUGIN_CAN_READ | VQZ_PLUGIN_CAN_WRITE, sniff, decode, encode, release };
        const vqz_format_plugin *vqz_format_plugin_v1(void) { return &table; }
        """

    let folder: URL
    let format: PluginFormat
    let frees: UnsafeMutablePointer<Int32>

    // The library stays mapped after its file is gone.
    deinit { try? FileManager.default.removeItem(at: folder) }

    init() throws {
        folder = try CPlugin.scratchFolder()
        let path = try CPlugin.build(Self.source, named: "libtoy.so", in: folder)
        format = try PluginLoader.loadLibrary(at: path).get()
        // The loader's handle stays open; this one finds the same library and its counter.
        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL))
        frees = try #require(dlsym(handle, "toy_frees")).assumingMemoryBound(to: Int32.self)
    }

    func file(_ width: UInt8, _ height: UInt8, channels: UInt8, depth: UInt8, mode: UInt8, samples: [UInt8]) -> [UInt8] {
        Array("TOY".utf8) + [width, height, channels, depth, mode] + samples
    }

    @Test func tableStringsAreRead() {
        #expect(format.extensions == ["toy", "ty"])
        #expect(format.summary == "TOY", "a NULL summary falls back to the name")
    }

    @Test func eightBitRoundTripFreesEachBufferOnce() throws {
        let image = Image(width: 3, height: 2, channels: 3, samples8: (0..<18).map { UInt8($0 * 13) })
        let bytes = try format.encode(image)
        #expect(bytes == file(3, 2, channels: 3, depth: 8, mode: 0, samples: image.samples8))
        #expect(try format.decode(bytes) == image)
        #expect(frees.pointee == 2)
    }

    @Test func sixteenBitSamplesCrossInTheMachineOrder() throws {
        let image = Image(width: 2, height: 2, channels: 1, samples16: [1, 256, 65535, 4660])
        let bytes = try format.encode(image)
        #expect(bytes.count == 8 + 8)
        #expect(Array(bytes[8...]) == [1, 0, 0, 1, 255, 255, 0x34, 0x12])
        #expect(try format.decode(bytes) == image)
    }

    @Test func statusCodesBecomeImageIOErrors() throws {
        let one: [UInt8] = [9, 9, 9]
        #expect(throws: ImageDecodingError.truncated) { try format.decode(Array("TOY".utf8)) }
        #expect(throws: ImageDecodingError.truncated) { try format.decode([]) }
        #expect(throws: ImageDecodingError.corrupt("toy: mode 1 is corrupt")) {
            try format.decode(file(1, 1, channels: 3, depth: 8, mode: 1, samples: one))
        }
        #expect(throws: ImageDecodingError.unsupported("toy: mode 3 is unsupported")) {
            try format.decode(file(1, 1, channels: 3, depth: 8, mode: 3, samples: one))
        }
        #expect(throws: ImageDecodingError.corrupt("the TOY plugin failed with status 99")) {
            try format.decode(file(1, 1, channels: 3, depth: 8, mode: 4, samples: one))
        }
        #expect(throws: ImageDecodingError.tooLarge(width: 20, height: 10, limit: 100)) {
            try format.decode(file(20, 10, channels: 1, depth: 8, mode: 0, samples: []), limits: DecodeLimits(maxPixels: 100))
        }
        #expect(frees.pointee == 0)
    }

    @Test func whatAPluginReturnsIsCheckedBeforeCopying() throws {
        // A decoder that ignores max_pixels is caught by the host's own check.
        let big = file(20, 10, channels: 1, depth: 8, mode: 5, samples: Array(repeating: 1, count: 200))
        #expect(throws: ImageDecodingError.tooLarge(width: 20, height: 10, limit: 100)) {
            try format.decode(big, limits: DecodeLimits(maxPixels: 100))
        }
        #expect(throws: ImageDecodingError.corrupt("the TOY plugin returned 4 bytes of pixels for a 1x1 image")) {
            try format.decode(file(1, 1, channels: 3, depth: 8, mode: 2, samples: [1, 2, 3]))
        }
        #expect(throws: ImageDecodingError.corrupt("the TOY plugin returned 5 channels at 8 bits")) {
            try format.decode(file(1, 1, channels: 5, depth: 8, mode: 0, samples: [1, 2, 3, 4, 5]))
        }
        // Rejected or not, a returned buffer is freed.
        #expect(frees.pointee == 3)
    }

    @Test func encodeErrors() throws {
        let image = Image(width: 1, height: 1, channels: 3, samples8: [1, 2, 3])
        #expect(throws: ImageEncodingError.invalidOption("toy: quality 101")) {
            try format.encode(image, options: EncodeOptions(quality: 101))
        }
        #expect(throws: ImageEncodingError.unsupported("toy: no gray+alpha")) {
            try format.encode(Image(width: 1, height: 1, channels: 2, samples8: [1, 2]))
        }
        // A message that fills the buffer is read up to its end and no further.
        #expect(throws: ImageEncodingError.failed(String(repeating: "x", count: 255))) {
            try format.encode(image, options: EncodeOptions(compressionLevel: 9))
        }
        #expect(frees.pointee == 0)
    }
}
