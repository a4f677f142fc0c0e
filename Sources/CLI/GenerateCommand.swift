import ArgumentParser
import Foundation
import Generation
import ImageIO
import Models
import Shapes
import StandardFormats
import TextToImage
import VQZ

/// `vqz generate`: unconditional images sampled from a prior and decoded by the tokenizer.
struct GenerateCommand: ParsableCommand, VerboseDescribed {
    static let verboseHelp = "Print the time taken, each picture's plan and the reranking scores."
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate images by sampling token grids from a prior (or a VAE's latent).",
        discussion: """
            Samples level-1 token grids from the prior and decodes them with the tokenizer; \
            with --prompt, from the text-to-image model given the prompt (docs/TEXT.md). \
            With --model VAE.safetensors (from 'vqz train tokenizer --kind vae') it decodes latents \
            drawn from the VAE's prior N(0, I) instead, their deviation scaled by --temperature. \
            With --count N, writes OUT-1.png ... OUT-N.png (the number goes before the extension), \
            or one contact sheet with --grid. With --prompt and --rerank, the N candidates are \
            scored by the contrastive reranker, against the plan each was painted from (a model \
            that draws layouts) or the prompt (--rerank-by prompt), and only the best is written \
            (with --grid, all of them on one sheet, best first). The output format follows OUT's \
            extension (PNG otherwise).
            """
    )

    @Option(name: .short, help: ArgumentHelp("Output image ('-' for standard output, one image only).", valueName: "out"))
    var output: String

    @Option(help: ArgumentHelp("Image size in pixels.", valueName: "wxh")) var size = "128x128"
    @Option(help: "Number of images.") var count = 1
    @Flag(help: "Write the images as one contact sheet.") var grid = false
    @Option(name: .customLong("top-p"), help: "Sample among the most likely tokens that make up probability P.") var topP: Float?
    @Flag(name: .shortAndLong, help: "Overwrite existing outputs; allow binary output to a terminal.") var force = false
    @Option(help: ArgumentHelp("Generate what the text says, with the text-to-image model ('' is unconditional).", valueName: "text"))
    var prompt: String?
    @Option(help: ArgumentHelp("Classifier-free guidance scale with --prompt (1 none, 0 unconditional, above 1 stronger; default \(TextGenerator.defaultGuidance)).", valueName: "s"))
    var guidance: Float?
    @Flag(help: "With --prompt: score the --count candidates with the reranker and keep the best.") var rerank = false

    @OptionGroup var text: TextGenerationOptions
    @OptionGroup var sampling: SamplingFlags
    @OptionGroup var priorOptions: PriorOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    var dimensions: PixelSize? { PixelSize(parsing: size, maxSide: 8192) }

    func validate() throws {
        guard dimensions != nil else {
            throw ValidationError("--size must be WxH with sides 1...8192, e.g. 128x128")
        }
        if !(1...256).contains(count) { throw ValidationError("--count must be in 1...256") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if output == "-" && count > 1 && !grid && !rerank { throw ValidationError("several images cannot go to standard output (use --grid or a file name)") }
        try requireGuidanceScale(guidance, option: "--guidance")
        if prompt == nil && (text.textWeights != nil || guidance != nil || rerank) { throw ValidationError("--guidance, --text-weights and --rerank go with --prompt") }
        if text.rerankBy != nil && !rerank { throw ValidationError("--rerank-by goes with --rerank") }
        if text.rerankWeights != nil && !rerank && text.plans == nil { throw ValidationError("--rerank-weights goes with --rerank or --plans") }
        if prompt == nil && text.plans != nil { throw ValidationError("--plans goes with --prompt") }
        if prompt == nil && text.planGuidance != nil { throw ValidationError("--plan-guidance goes with --prompt") }
        if prompt == nil && text.partGuidance != nil { throw ValidationError("--part-guidance goes with --prompt") }
    }

    /// OUT, or OUT with -1, -2 ... before the extension.
    func paths() -> [String] {
        if count == 1 || grid || rerank { return [output] }
        let url = output as NSString
        let ext = url.pathExtension, base = ext.isEmpty ? output : url.deletingPathExtension
        return (1...count).map { ext.isEmpty ? "\(base)-\($0)" : "\(base)-\($0).\(ext)" }
    }

    func run() throws {
        let console = verbosity.console
        let targets = paths()
        try SingleOutput.check(output == "-" ? ["-"] : targets, force: force)
        let (w, h) = (dimensions!.width, dimensions!.height)
        if let vae = try modelOptions.loadBaseline() {
            try write(try sampleVAE(vae, width: w, height: h, console: console), to: targets, console: console)
            return
        }
        if let prompt {
            return try write(try generate(prompt: prompt, console: console), to: targets, console: console)
        }
        let prior = try reportingGenerationErrors { try priorOptions.load() }
        let codec = Codec(model: try modelOptions.load(makingTokens: prior.tokenizer, default: .photos))
        let generator = try reportingGenerationErrors { try Generator(codec: codec, prior: prior) }
        let options = SamplingOptions(temperature: sampling.temperature, topK: sampling.topK, topP: topP, steps: sampling.steps)
        let t0 = Date()
        let images = try reportingGenerationErrors {
            try generator.generate(width: w, height: h, count: count, seed: sampling.seed, options: options)
        }
        console.note(String(format: "sampled %d image(s) of %dx%d with the %@ prior in %.2f s", count, w, h,
                            prior.kind.rawValue, Date().timeIntervalSince(t0)))
        try write(images, to: targets, console: console)
    }

    /// --prompt: the text-to-image model's pictures, with a warning naming the words it does not know.
    func generate(prompt: String, console: Console) throws -> [Image] {
        let guidance = self.guidance ?? TextGenerator.defaultGuidance
        let setup = try text.setUp(modelOptions: modelOptions, ranking: rerank)
        let (model, generator, plans, planGuidance, partGuidance) = (setup.model, setup.generator, setup.plans, setup.planGuidance, setup.partGuidance)
        let choice = setup.layoutChoice(prompt)
        let (w, h) = (dimensions!.width, dimensions!.height)
        guard (w, h) == generator.imageSize else {
            throw CLIError(.usage, "the text-to-image model makes \(generator.imageSize.width)x\(generator.imageSize.height) pictures, not \(w)x\(h) (--size)")
        }
        let encoded = model.text.encode(prompt)
        if !encoded.unknown.isEmpty {
            let known = encoded.ids.contains { $0 != TextTokenizer.padding }
            console.warn(nil, "the text model does not know " + encoded.unknown.map { "'\($0)'" }.joined(separator: ", ")
                         + (known ? "; left out of the prompt" : "; nothing of the prompt is known, so the picture is unconditional"))
        }
        if encoded.truncated > 0 { console.warn(nil, "the prompt is cut after \(model.text.length) words") }
        let options = SamplingOptions(temperature: sampling.temperature, topK: sampling.topK, topP: topP, steps: sampling.steps)
        let t0 = Date()
        let result = try reportingGenerationErrors {
            try generator.generate(prompt: prompt, count: count, seed: sampling.seed, guidance: guidance, planGuidance: planGuidance,
                                   partGuidance: partGuidance, options: options, layoutChoice: choice)
        }
        let scales = String(format: "guidance %.2f", guidance)
            + (partGuidance != 0 ? String(format: ", map parts at %.2f", partGuidance) : "")
            + (planGuidance.map { String(format: ", %d layouts per picture at guidance %.2f", plans, $0) } ?? "")
        console.note(String(format: "sampled %d image(s) of %dx%d from the prompt in %.2f s", count, w, h, Date().timeIntervalSince(t0))
                     + " (\(scales))")
        for (i, layout) in result.layouts.enumerated() where !layout.isEmpty { console.note("layout \(i + 1): " + SceneLayout.describe(layout)) }
        guard let reranker = setup.reranker, let basis = setup.basis else { return result.images }
        let unknown = reranker.text.encode(prompt).unknown
        if !unknown.isEmpty { console.warn(nil, "the reranker does not know " + unknown.map { "'\($0)'" }.joined(separator: ", ") + "; left out of its scores") }
        let (ranked, scores) = try reportingGenerationErrors { try generator.ranked(result, by: reranker, prompt: prompt, against: basis) }
        console.note("reranked \(count) candidate(s) by \(basis.rankedBy); scores, best first: " + scores.map { String(format: "%.3f", $0) }.joined(separator: " "))
        return grid ? ranked.images : [ranked.images[0]]
    }

    /// Samples of a VAE's prior; the token priors' options do not apply.
    func sampleVAE(_ vae: BaselineModel, width w: Int, height h: Int, console: Console) throws -> [Image] {
        if sampling.topK != nil || topP != nil { throw CLIError(.usage, "--top-k and --top-p choose among tokens: a VAE's latent has none") }
        let t0 = Date()
        let images: [Image]
        do {
            images = try vae.sample(width: w, height: h, count: count, seed: sampling.seed, temperature: sampling.temperature)
        } catch let e as BaselineError { throw CLIError(.usage, e.description) }
        console.note(String(format: "sampled %d image(s) of %dx%d from the VAE's prior N(0, I) in %.2f s", count, w, h,
                            Date().timeIntervalSince(t0)))
        return images
    }

    func write(_ images: [Image], to targets: [String], console: Console) throws {
        let outputs = grid ? [Generator.contactSheet(images)] : images
        for (image, path) in zip(outputs, targets) { try SingleOutput.write(image, to: path, force: force, console: console) }
    }
}
