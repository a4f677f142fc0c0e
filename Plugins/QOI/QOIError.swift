import CVQZPlugin

/// Why a QOI file could not be decoded or an image encoded. Each case maps to one status
/// code of the plugin ABI (docs/PLUGINS.md), and its description is the one-line message.
public enum QOIError: Error, Equatable, CustomStringConvertible {
    /// The data ends before the image does.
    case truncated
    /// The data breaks the QOI rules; the text says where.
    case corrupt(String)
    /// The header declares more pixels than the caller allows; refused before allocating.
    case tooLarge(width: Int, height: Int)
    /// An image QOI cannot hold (empty, too large for the format).
    case unsupported(String)

    public var description: String {
        switch self {
        case .truncated: return "truncated QOI data: the file ends before the image does"
        case .corrupt(let detail): return "QOI: \(detail)"
        case .tooLarge(let width, let height): return "QOI image of \(width)x\(height) pixels is over the limit"
        case .unsupported(let detail): return "QOI: \(detail)"
        }
    }

    /// The ABI status code for this error.
    var status: Int32 {
        switch self {
        case .truncated: return VQZ_STATUS_TRUNCATED
        case .corrupt: return VQZ_STATUS_CORRUPT
        case .tooLarge: return VQZ_STATUS_TOO_LARGE
        case .unsupported: return VQZ_STATUS_UNSUPPORTED
        }
    }
}
