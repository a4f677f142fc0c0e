/// Why an `Image` could not be written in a format.
public enum ImageEncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The format cannot hold this image (an empty image, too wide for the format...).
    case unsupported(String)
    /// An `EncodeOptions` value is out of range.
    case invalidOption(String)
    /// The C library failed; the text is its message.
    case failed(String)

    public var description: String {
        switch self {
        case .unsupported(let detail): return "cannot encode: \(detail)"
        case .invalidOption(let detail): return "invalid option: \(detail)"
        case .failed(let detail): return "encoding failed: \(detail)"
        }
    }
}
