import Models
import VQZ

/// --text-weights of `generate` and `eval prompts`, the bundled text-to-image model without it
/// (TextGenerator checks it against the tokenizer).
func loadTextModel(_ path: String?) throws -> TextPriorModel {
    if let path { return try loadingModel(path) { try TextPriorModel(contentsOf: path) } }
    guard let bundled = try TextPriorModel.bundled() else {
        throw CLIError(.model, "no bundled text-to-image model in this build (train one with 'vqz train text', then give --text-weights)")
    }
    return bundled
}

/// --rerank-weights of `generate` and `eval prompts` (the bundled reranker without it), checked
/// against the tokenizer whose grids it will score.
func loadReranker(_ path: String?, codec: Codec) throws -> RerankerModel {
    let reranker: RerankerModel
    if let path {
        reranker = try loadingModel(path) { try RerankerModel(contentsOf: path) }
    } else {
        guard let bundled = try RerankerModel.bundled() else {
            throw CLIError(.model, "no bundled reranker in this build (train one with 'vqz train rerank', then give --rerank-weights)")
        }
        reranker = bundled
    }
    try reportingGenerationErrors { try reranker.check(codec.model) }
    return reranker
}
