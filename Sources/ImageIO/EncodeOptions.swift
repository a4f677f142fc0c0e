/// Settings for `ImageFormat.encode`; each format reads the ones that concern it.
public struct EncodeOptions: Equatable, Sendable {
    /// JPEG quality, 1 (smallest) to 100 (best).
    public var quality: Int
    /// PNG zlib compression level, 0 (none, fastest) to 9 (smallest). 4: on a decoded 768x512
    /// photo, 3.7% larger than zlib's default 6 in a third of the time (docs/SPEED.md).
    public var compressionLevel: Int

    public init(quality: Int = 90, compressionLevel: Int = 4) {
        self.quality = quality
        self.compressionLevel = compressionLevel
    }
}
