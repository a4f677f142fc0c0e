/// Bounds the reader checks before it allocates anything from a declared size.
/// The defaults accept every file vqz itself writes for images up to 2^28 pixels.
public struct ContainerLimits: Equatable, Sendable {
    /// Largest width * height (the alpha plane is one byte per pixel).
    public var maxPixels: Int
    /// Largest grid width * grid height * levels (each token takes 2 bytes once decoded).
    public var maxTokens: Int
    /// Largest decompressed ICC profile, EXIF block or XMP packet: 16 MiB holds the largest
    /// profile a JPEG can carry (255 segments of 65519 bytes) and anything libpng reads.
    public var maxMetadataBytes: Int

    public init(maxPixels: Int = 1 << 28, maxTokens: Int = 1 << 26, maxMetadataBytes: Int = 1 << 24) {
        self.maxPixels = maxPixels
        self.maxTokens = maxTokens
        self.maxMetadataBytes = maxMetadataBytes
    }

    public static let `default` = ContainerLimits()
}
