/// Settings for `ImageFormat.encode`; each format reads the ones that concern it.
public struct EncodeOptions: Equatable, Sendable {
    /// JPEG quality, 1 (smallest) to 100 (best).
    public var quality: Int
    /// PNG zlib compression level, 0 (none, fastest) to 9 (smallest).
    public var compressionLevel: Int

    public init(quality: Int = 90, compressionLevel: Int = 6) {
        self.quality = quality
        self.compressionLevel = compressionLevel
    }
}
