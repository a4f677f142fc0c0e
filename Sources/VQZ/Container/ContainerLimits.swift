/// Bounds the reader checks before it allocates anything from a declared size.
/// The defaults accept every file vqz itself writes for images up to 2^28 pixels.
public struct ContainerLimits: Equatable, Sendable {
    /// Largest width * height (the alpha plane is one byte per pixel).
    public var maxPixels: Int
    /// Largest grid width * grid height * levels (each token takes 2 bytes once decoded).
    public var maxTokens: Int

    public init(maxPixels: Int = 1 << 28, maxTokens: Int = 1 << 26) {
        self.maxPixels = maxPixels
        self.maxTokens = maxTokens
    }

    public static let `default` = ContainerLimits()
}
