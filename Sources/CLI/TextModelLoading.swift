import ArgumentParser
import Models
import TextToImage
import VQZ

/// --text-weights or --rerank-weights (and a trainer's --init): the file at `path`, or the bundled
/// model without one, checked against the tokenizer whose tokens it reads.
func loadCaptionModel<M: CaptionModel>(_ path: String?, codec: Codec,
                                       noBundled: String = "this build has no bundled \(M.bundledName) weights") throws -> M {
    let model: M = try readCaptionModel(path, noBundled: noBundled)
    try reportingGenerationErrors { try model.check(codec.model) }
    return model
}

/// The file at `path`, or the bundled model without one; not yet checked against a tokenizer.
func readCaptionModel<M: CaptionModel>(_ path: String?, noBundled: String) throws -> M {
    if let path { return try loadingModel(path) { try M(contentsOf: path) } }
    guard let bundled = try M.bundled() else { throw CLIError(.model, noBundled) }
    return bundled
}

/// --text-weights (or the bundled text model) with the codec of its tokens: --model, else the
/// bundled tokenizer that makes them.
func loadTextModel(_ path: String?, modelOptions: ModelOptions) throws -> (TextPriorModel, Codec) {
    let model: TextPriorModel = try readCaptionModel(
        path, noBundled: "no bundled text-to-image model in this build (train one with 'vqz train text', then give --text-weights)")
    let codec = Codec(model: try modelOptions.load(makingTokens: model.tokenizer, default: .shapes))
    try reportingGenerationErrors { try model.check(codec.model) }
    return (model, codec)
}

func loadReranker(_ path: String?, codec: Codec) throws -> RerankerModel {
    try loadCaptionModel(path, codec: codec,
                         noBundled: "no bundled reranker in this build (train one with 'vqz train rerank', then give --rerank-weights)")
}

/// --plans as given, else the generator's default; more than one is refused for a model that draws no layouts.
func planCount(_ requested: Int?, generator: TextGenerator) throws -> Int {
    if (requested ?? 1) > 1 && !generator.prior.network.config.hasLayout {
        throw CLIError(.usage, "--plans: the text model draws no layouts (vqz train text --layout)")
    }
    return requested ?? generator.defaultPlanCount
}

/// The --plan-guidance a command uses: as told (refused for a model that draws no layouts), else the
/// default for a model that draws layouts, else none (the picture's scale).
func planGuidanceScale(_ requested: Float?, generator: TextGenerator) throws -> Float? {
    guard generator.prior.network.config.hasLayout else {
        if requested != nil { throw CLIError(.usage, "--plan-guidance: the text model draws no layouts (vqz train text --layout)") }
        return nil
    }
    return requested ?? TextGenerator.defaultPlanGuidance
}

/// The --part-guidance a command uses: as told (refused for a model not trained with map parts),
/// else 0, no part branches: composing the parts scored lower at every scale ('vqz eval prompts --part-guidance', docs/TEXT.md).
func partGuidanceScale(_ requested: Float?, generator: TextGenerator) throws -> Float {
    if requested != nil && generator.prior.network.config.mapParts.isEmpty {
        throw CLIError(.usage, "--part-guidance: the text model was not trained with map parts (vqz train text --map-parts)")
    }
    return requested ?? 0
}

/// The --rerank-by a command uses: as told ('plan' refused for a model that draws no layouts or a
/// reranker that embeds no pictures), else the standard basis for the two.
func rerankBasis(_ requested: RerankBasis?, generator: TextGenerator, reranker: RerankerModel) throws -> RerankBasis {
    if requested == .plan && !generator.prior.network.config.hasLayout {
        throw CLIError(.usage, "--rerank-by plan: the text model draws no layouts (vqz train text --layout)")
    }
    if requested == .plan && reranker.network == nil {
        throw CLIError(.usage, "--rerank-by plan: a caption reader does not compare pictures (use a contrastive reranker, or --rerank-by prompt)")
    }
    return requested ?? .standard(for: generator, reranker: reranker)
}

extension RerankBasis: ExpressibleByArgument {
    /// What the candidates were ranked by, as `-v` and the eval header say it.
    var rankedBy: String { self == .plan ? "agreement with their plans" : "the prompt" }
}

/// Refuses a guidance scale (--guidance, --plan-guidance, --part-guidance) outside 0...100.
func requireGuidanceScale(_ scale: Float?, option: String) throws {
    if let scale, !(scale.isFinite && (0...100).contains(scale)) { throw ValidationError("\(option) must be in 0...100") }
}
