/// Why bytes could not be turned into an `Image`. Every decoder throws only these.
public enum ImageDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data ends before the image does.
    case truncated
    /// The data breaks the format's rules; the text says where (often the C library's own message).
    case corrupt(String)
    /// The header declares more pixels than `DecodeLimits.maxPixels`; refused before allocating.
    case tooLarge(width: Int, height: Int, limit: Int)
    /// A valid file using a feature this reader does not handle.
    case unsupported(String)

    public var description: String {
        switch self {
        case .truncated: return "truncated data: the file ends before the image does"
        case .corrupt(let detail): return "corrupt data: \(detail)"
        case .tooLarge(let width, let height, let limit):
            return "image too large: \(width)x\(height) pixels is over the limit of \(limit) pixels"
        case .unsupported(let detail): return "unsupported: \(detail)"
        }
    }
}
