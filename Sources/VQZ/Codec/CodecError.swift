/// What the codec itself refuses (container and image errors have their own types).
public enum CodecError: Error, Equatable, CustomStringConvertible {
    case cannotReadModel(String)
    case levelOutOfRange(Int, available: Int)
    case emptyImage
    case tokensOutOfRange(level: Int, codebookSize: Int)
    /// The file's token grid is not the one the model makes of the image size.
    case gridMismatch(grid: String, image: String, expected: String)
    /// `--entropy prior` asked for, but this build bundles no entropy prior.
    case noEntropyPrior
    /// The entropy prior models another tokenizer's tokens.
    case entropyPriorTokenizerMismatch(prior: ModelFingerprint, trainedFor: ModelFingerprint, tokenizer: ModelFingerprint)
    /// The entropy prior has fewer levels or another codebook size than the tokens.
    case entropyPriorShape(levels: Int, codebookSize: Int, priorLevels: Int, priorCodebookSize: Int)

    public var description: String {
        switch self {
        case .cannotReadModel(let path): return "cannot read model file \(path)"
        case .levelOutOfRange(let l, let n): return "quality level \(l) is out of range (this model has levels 1...\(n))"
        case .emptyImage: return "image has no pixels"
        case .tokensOutOfRange(let level, let k): return "level \(level) holds tokens outside the model's codebook of \(k)"
        case let .gridMismatch(grid, image, expected):
            return "token grid \(grid) does not match the \(image) image (its model makes a \(expected) grid)"
        case .noEntropyPrior: return "this vqz has no bundled entropy prior (use --entropy zstd, or --entropy-prior PATH)"
        case let .entropyPriorTokenizerMismatch(prior, trainedFor, tokenizer):
            return "entropy prior \(prior) models the tokens of \(trainedFor), not of \(tokenizer)"
        case let .entropyPriorShape(levels, k, priorLevels, priorK):
            return "entropy prior codes \(priorLevels) levels of K = \(priorK), not \(levels) levels of K = \(k)"
        }
    }
}
