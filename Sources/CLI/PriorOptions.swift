import ArgumentParser
import Generation
import Models
import VQZ

/// --prior and --prior-weights, shared by generate and inpaint; the bundled prior otherwise.
struct PriorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Prior: transformer (raster order, grids up to 16x16 tokens), masked (all sides at once, MaskGIT; the default for inpainting) or pixelcnn (any size).", valueName: "kind"))
    var prior: PriorKind?

    @Option(help: ArgumentHelp("Prior weights (.safetensors from 'vqz train prior') instead of the bundled one.", valueName: "path"))
    var priorWeights: String?

    /// The prior of --prior-weights, else the bundled one of --prior, else of `kind` (the command's choice).
    func load(default kind: PriorKind = .transformer) throws -> PriorModel {
        if let priorWeights { return try loadingModel(priorWeights) { try PriorModel(contentsOf: priorWeights) } }
        return try PriorModel.bundled(prior ?? kind)
    }
}

/// The exit status of generation errors: a prior for another tokenizer is a model error (3),
/// the rest are usage errors (1).
func reportingGenerationErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as GenerationError {
        switch e {
        case .priorTokenizerMismatch, .rerankerTokenizerMismatch, .codebookMismatch, .noBundledPrior: throw CLIError(.model, e.description)
        default: throw CLIError(.usage, e.description)
        }
    }
}

/// Sampling flags shared by generate and inpaint.
struct SamplingFlags: ParsableArguments {
    @Option(help: "Seed: the same seed and options give the same output.") var seed: UInt64 = 1
    @Option(help: "Sampling temperature (0 picks the most likely tokens).") var temperature: Float = 1
    @Option(name: .customLong("top-k"), help: "Sample among the K most likely tokens only.") var topK: Int?
    @Option(help: "Parallel decoding steps of the masked prior.") var steps = 8

    func validate() throws {
        if !(temperature >= 0 && temperature <= 10) { throw ValidationError("--temperature must be in 0...10") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be positive") }
        if !(1...256).contains(steps) { throw ValidationError("--steps must be in 1...256") }
    }
}
