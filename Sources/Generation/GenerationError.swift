/// What generation and inpainting refuse.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// The prior was trained on another tokenizer's tokens: they would mean nothing to it.
    case priorTokenizerMismatch(prior: String, tokenizer: String)
    case codebookMismatch(prior: Int, tokenizer: Int)
    /// The reranker was trained on another tokenizer's grids: its scores would mean nothing.
    case rerankerTokenizerMismatch(reranker: String, tokenizer: String)
    case gridTooLarge(rows: Int, cols: Int, maxRows: Int, maxCols: Int)
    case badSize(String)
    case emptyHole
    case holeCoversImage
    case maskSizeMismatch(mask: String, image: String)
    case noBundledPrior(PriorKindName)

    public typealias PriorKindName = String

    public var description: String {
        switch self {
        case .priorTokenizerMismatch(let p, let t):
            return "the prior was trained for the tokens of tokenizer \(p), not of \(t) (train a prior for this tokenizer with 'vqz train prior --model ...')"
        case .rerankerTokenizerMismatch(let r, let t):
            return "the reranker was trained for the tokens of tokenizer \(r), not of \(t) (train one for this tokenizer with 'vqz train rerank --model ...')"
        case .codebookMismatch(let p, let t): return "the prior models \(p) codes but the tokenizer has \(t)"
        case .gridTooLarge(let r, let c, let mr, let mc):
            return "a \(c)x\(r) token grid is larger than the transformer prior's \(mc)x\(mr) context (use --prior pixelcnn)"
        case .badSize(let why): return why
        case .emptyHole: return "the hole covers no pixel of the image"
        case .holeCoversImage: return "the hole covers the whole image: there is nothing to inpaint from (use 'vqz generate')"
        case .maskSizeMismatch(let m, let i): return "mask is \(m) but the image is \(i)"
        case .noBundledPrior(let kind): return "no bundled \(kind) prior in this build (give --prior-weights)"
        }
    }
}
