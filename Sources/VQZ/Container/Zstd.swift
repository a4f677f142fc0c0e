import CZstd

/// The two zstd calls the container needs, with the bounds checks that make decoding safe.
public enum Zstd {
    /// Token grids are small next to images, so the writer can afford a high level.
    public static let defaultLevel: Int32 = 19

    // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are macros Swift does not import.
    private static let contentSizeUnknown = UInt64.max
    private static let contentSizeError = UInt64.max - 1

    /// One zstd frame with its content size recorded (ZSTD_compress always records it).
    public static func compress(_ input: [UInt8], level: Int32 = defaultLevel) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = out.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, level)
            }
        }
        if ZSTD_isError(n) != 0 {
            throw ContainerError.corruptPayload(chunk: "zstd", reason: String(cString: ZSTD_getErrorName(n)))
        }
        out.removeSubrange(n...)
        return out
    }

    /// Decodes a chunk that must hold exactly one zstd frame of 1...`maxSize` bytes, whatever
    /// size it declares within that range; the declared size is checked before allocating.
    static func decompress<C: Collection>(_ frame: C, maxSize: Int, chunk: String) throws -> [UInt8]
        where C.Element == UInt8
    {
        let input = Array(frame)
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        if declared == contentSizeError { throw ContainerError.corruptPayload(chunk: chunk, reason: "not a zstd frame") }
        if declared == contentSizeUnknown {
            throw ContainerError.corruptPayload(chunk: chunk, reason: "zstd frame does not declare its size")
        }
        guard declared >= 1 else { throw ContainerError.inconsistent("\(chunk) chunk holds nothing") }
        guard declared <= UInt64(maxSize) else {
            throw ContainerError.overLimit("\(chunk) chunk of \(declared) bytes (limit \(maxSize))")
        }
        return try decompress(input, expectedSize: Int(declared), chunk: chunk)
    }

    /// Decodes a chunk that must hold exactly one zstd frame of exactly `expectedSize` bytes.
    /// The frame's declared size is checked before allocating, and the decoder is bounded by
    /// the allocation, so a frame that lies about its size cannot make us write more.
    static func decompress<C: Collection>(_ frame: C, expectedSize: Int, chunk: String) throws -> [UInt8]
        where C.Element == UInt8
    {
        let input = Array(frame)
        func fail(_ reason: String) -> ContainerError {
            ContainerError.corruptPayload(chunk: chunk, reason: reason)
        }
        let (declared, frameSize) = input.withUnsafeBytes { src in
            (ZSTD_getFrameContentSize(src.baseAddress, src.count),
             ZSTD_findFrameCompressedSize(src.baseAddress, src.count))
        }
        if declared == contentSizeError { throw fail("not a zstd frame") }
        if declared == contentSizeUnknown { throw fail("zstd frame does not declare its size") }
        if declared != UInt64(expectedSize) {
            throw fail("zstd frame declares \(declared) bytes, header implies \(expectedSize)")
        }
        if ZSTD_isError(frameSize) != 0 {
            throw fail(String(cString: ZSTD_getErrorName(frameSize)))
        }
        if frameSize != input.count {
            throw fail("\(input.count - frameSize) bytes after the zstd frame")
        }
        // Capacity 1 for an empty frame keeps the pointer non-null.
        var out = [UInt8](repeating: 0, count: max(expectedSize, 1))
        let n = out.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                ZSTD_decompress(dst.baseAddress, expectedSize, src.baseAddress, src.count)
            }
        }
        if ZSTD_isError(n) != 0 { throw fail(String(cString: ZSTD_getErrorName(n))) }
        if n != expectedSize { throw fail("zstd frame holds \(n) bytes, header implies \(expectedSize)") }
        out.removeSubrange(expectedSize...)
        return out
    }
}
