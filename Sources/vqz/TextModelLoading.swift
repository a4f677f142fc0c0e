import Models
import VQZ

/// --text-weights or --rerank-weights (and a trainer's --init): the file at `path`, or the bundled
/// model without one, checked against the tokenizer whose tokens it reads.
func loadCaptionModel<M: CaptionModel>(_ path: String?, codec: Codec,
                                       noBundled: String = "this build has no bundled \(M.bundledName) weights") throws -> M {
    let model: M
    if let path {
        model = try loadingModel(path) { try M(contentsOf: path) }
    } else if let bundled = try M.bundled() {
        model = bundled
    } else {
        throw CLIError(.model, noBundled)
    }
    try reportingGenerationErrors { try model.check(codec.model) }
    return model
}

func loadTextModel(_ path: String?, codec: Codec) throws -> TextPriorModel {
    try loadCaptionModel(path, codec: codec,
                         noBundled: "no bundled text-to-image model in this build (train one with 'vqz train text', then give --text-weights)")
}

func loadReranker(_ path: String?, codec: Codec) throws -> RerankerModel {
    try loadCaptionModel(path, codec: codec,
                         noBundled: "no bundled reranker in this build (train one with 'vqz train rerank', then give --rerank-weights)")
}
