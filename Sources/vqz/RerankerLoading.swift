import Models
import VQZ

/// --rerank-weights of `generate` and `eval prompts`, checked against the tokenizer whose grids
/// it will score. There is no bundled reranker yet, so no path is a model error.
func loadReranker(_ path: String?, codec: Codec) throws -> RerankerModel {
    guard let path else {
        throw CLIError(.model, "no bundled reranker in this build (train one with 'vqz train rerank', then give --rerank-weights)")
    }
    let reranker = try loadingModel(path) { try RerankerModel(contentsOf: path) }
    try reportingGenerationErrors { try reranker.check(codec.model) }
    return reranker
}
