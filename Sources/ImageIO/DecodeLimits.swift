/// Bounds a decoder checks against the header's declared size before allocating, so that
/// a small file cannot make the process allocate gigabytes (a decompression bomb).
public struct DecodeLimits: Equatable, Sendable {
    /// The most pixels (width * height) an image may have; 2^28 by default (16384 x 16384),
    /// about 1 GiB as 8-bit RGBA.
    public var maxPixels: Int

    public init(maxPixels: Int = 1 << 28) {
        self.maxPixels = maxPixels
    }

    /// Throws `.tooLarge` unless width * height fits the pixel budget, and
    /// width * height * channels * bytesPerSample fits an Int. Returns that byte count.
    @discardableResult
    public func check(width: Int, height: Int, channels: Int, bytesPerSample: Int = 1) throws -> Int {
        let tooLarge = ImageDecodingError.tooLarge(width: width, height: height, limit: maxPixels)
        let (pixels, pixelOverflow) = width.multipliedReportingOverflow(by: height)
        guard !pixelOverflow, pixels <= maxPixels else { throw tooLarge }
        let (samples, sampleOverflow) = pixels.multipliedReportingOverflow(by: channels)
        let (bytes, byteOverflow) = samples.multipliedReportingOverflow(by: bytesPerSample)
        guard !sampleOverflow, !byteOverflow else { throw tooLarge }
        return bytes
    }
}
