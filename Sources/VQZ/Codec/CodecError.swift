/// What the codec itself refuses (container and image errors have their own types).
public enum CodecError: Error, Equatable, CustomStringConvertible {
    case cannotReadModel(String)
    case levelOutOfRange(Int, available: Int)
    case emptyImage
    case tokensOutOfRange(level: Int, codebookSize: Int)

    public var description: String {
        switch self {
        case .cannotReadModel(let path): return "cannot read model file \(path)"
        case .levelOutOfRange(let l, let n): return "quality level \(l) is out of range (this model has levels 1...\(n))"
        case .emptyImage: return "image has no pixels"
        case .tokensOutOfRange(let level, let k): return "level \(level) holds tokens outside the model's codebook of \(k)"
        }
    }
}
