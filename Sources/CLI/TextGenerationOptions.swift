import ArgumentParser
import Models
import TextToImage
import VQZ

/// The text-to-image options `vqz generate --prompt` and `vqz eval prompts` share: the model, its
/// plans and guidance, the reranker.
struct TextGenerationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Text-to-image weights (.safetensors from 'vqz train text'; the bundled model without it).", valueName: "path"))
    var textWeights: String?
    @Option(help: "With a model that draws layouts: draw N layouts per picture and paint the one the reranker scores highest on its clean rendering (default \(TextGenerator.defaultPlans); 1: the first drawn).")
    var plans: Int?
    @Option(help: ArgumentHelp("With a model that draws layouts: the guidance scale of the layout (default \(TextGenerator.defaultPlanGuidance)).", valueName: "s"))
    var planGuidance: Float?
    @Option(help: ArgumentHelp("With a model trained with map parts: the guidance scale of each part (the shapes' kinds, their colours; default 0, none).", valueName: "s"))
    var partGuidance: Float?
    @Option(help: ArgumentHelp("Reranker weights (.safetensors from 'vqz train rerank'; the bundled reranker without it).", valueName: "path"))
    var rerankWeights: String?
    @Option(help: "What reranked candidates are held against: the plan each was painted from ('plan', the default for a model that draws layouts) or the prompt ('prompt').")
    var rerankBy: RerankBasis?

    func validate() throws {
        if let plans, !(1...256).contains(plans) { throw ValidationError("--plans must be in 1...256") }
        try requireGuidanceScale(planGuidance, option: "--plan-guidance")
        try requireGuidanceScale(partGuidance, option: "--part-guidance")
    }

    /// A text model ready to generate, with what these options make of it.
    struct Setup {
        var model: TextPriorModel
        var generator: TextGenerator
        var plans: Int
        var planGuidance: Float?
        var partGuidance: Float
        /// Loaded to rank candidates or to choose among plans.
        var reranker: RerankerModel?
        /// What candidates are ranked against, when `ranking`.
        var basis: RerankBasis?

        /// How the generator chooses among `plans` layouts for `prompt`.
        func layoutChoice(_ prompt: String) -> TextGenerator.LayoutChoice? {
            reranker.flatMap { generator.layoutChoice(plans: plans, reranker: $0, prompt: prompt) }
        }
    }

    /// The model (--text-weights or the bundled one, with the codec of its tokens), the plans and
    /// scales as told or by default, and the reranker when `ranking` candidates or choosing among plans.
    func setUp(modelOptions: ModelOptions, ranking: Bool) throws -> Setup {
        let (model, codec) = try loadTextModel(textWeights, modelOptions: modelOptions)
        let generator = try reportingGenerationErrors { try TextGenerator(codec: codec, prior: model) }
        let plans = try planCount(self.plans, generator: generator)
        let reranker = try ranking || plans > 1 ? loadReranker(rerankWeights, codec: codec) : nil
        return Setup(model: model, generator: generator, plans: plans,
                     planGuidance: try planGuidanceScale(planGuidance, generator: generator),
                     partGuidance: try partGuidanceScale(partGuidance, generator: generator), reranker: reranker,
                     basis: try ranking ? reranker.map { try rerankBasis(rerankBy, generator: generator, reranker: $0) } : nil)
    }
}
