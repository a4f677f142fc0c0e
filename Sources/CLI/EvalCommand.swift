import ArgumentParser
import Evaluation
import Foundation
import Generation
import ImageIO
import Models
import NN
import StandardFormats
import Training
import VQZ

/// `vqz eval ...`: the measurements behind docs/MODELS.md and docs/BENCHMARKS.md (Priors).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure the models: bits per token, sampling speed, inpainting, entropy coding, the scene judge, prompts, the tokenizer, the quality scale.",
        subcommands: [EvalPriorCommand.self, EvalInpaintCommand.self, EvalEntropyCommand.self, EvalJudgeCommand.self,
                      EvalPromptsCommand.self, EvalTokenizerCommand.self, EvalScaleCommand.self]
    )
}

/// --prior, --prior-weights and --model: the prior an evaluation measures and the tokenizer whose
/// tokens it models.
struct EvaluatedPriorOptions: ParsableArguments {
    @OptionGroup var priorOptions: PriorOptions
    @OptionGroup var modelOptions: ModelOptions

    /// The tokenizer's codec and the prior, refused (exit status 3) when the prior models another
    /// tokenizer's tokens.
    func load(default kind: PriorKind = .transformer) throws -> (codec: Codec, prior: PriorModel) {
        let codec = Codec(model: try modelOptions.load())
        let prior = try reportingGenerationErrors { try priorOptions.load(default: kind) }
        try reportingGenerationErrors { try prior.check(codec.model) }
        return (codec, prior)
    }
}

struct EvalPriorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Validation bits per token against the unigram entropy and log2(K); sampling speed.",
        discussion: """
            Tokenizes the images under --data (half and quarter size, as 'vqz train prior' does; \
            cached in --cache), scores non-overlapping 16x16 crops of their level-1 grids, and \
            times sampling a 16x16 grid (one grid, then a batch of 4).
            """
    )

    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "dir")) var data: String
    @Option(help: ArgumentHelp("Folder for token caches (where 'vqz train prior' keeps them); default ~/.cache/vqz.", valueName: "dir"))
    var cache: String?
    @Option(help: "Validation crops at most.") var valCrops = 256
    @OptionGroup var scaleOptions: ScaleOptions
    @OptionGroup var models: EvaluatedPriorOptions

    func run() throws {
        let (codec, prior) = try models.load()
        let grids = try PriorTrainingData.grids(folder: data, codec: codec, cacheFolder: cache ?? defaultCacheFolder, scales: scaleOptions.factors)
        let crops = TokenCropSource.tiles(of: grids, size: 16, limit: valCrops)
        let k = codec.model.config.codebookSize
        let net = prior.network
        let t0 = Date()
        let bits = net.bitsPerToken(crops: crops, size: 16)
        let scoring = Date().timeIntervalSince(t0)
        print(String(format: "prior:               %@ (%d parameters)", prior.kind.rawValue, net.store.trainableCount))
        print(String(format: "validation crops:    %d of 16x16 tokens (%d tokens)", crops.count / 256, crops.count))
        print(String(format: "bits per token:      %.4f", bits))
        print(String(format: "unigram entropy:     %.4f (of these tokens' own histogram)", unigramEntropy(crops, codebookSize: k)))
        print(String(format: "log2(K):             %.4f", log2(Double(k))))
        print(String(format: "scoring:             %.0f tokens/s (teacher-forced, batches of 8)", Double(crops.count) / scoring))
        for batch in [1, 4] {
            var tokens = [Int32](repeating: 0, count: batch * 256)
            var rngs = (0..<batch).map { RNG(seed: UInt64($0)) }
            let s0 = Date()
            net.sample(&tokens, batch: batch, height: 16, width: 16, resample: Array(repeating: true, count: 256),
                       options: SamplingOptions(), rngs: &rngs)
            let dt = Date().timeIntervalSince(s0)
            print(String(format: "sampling %d grid(s):  %.2f s for 16x16 tokens each, %.0f tokens/s", batch, dt, Double(batch * 256) / dt))
        }
    }
}

struct EvalInpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Inpainting PSNR and MS-SSIM: the prior's fills beside a diffusion fill.",
        discussion: """
            Cuts a square hole (--hole pixels) at the centre of each image under --data, fills it \
            by diffusion and with the prior (the transformer and PixelCNN in raster order and with \
            all-sides context; the masked prior once) and compares each with the original: PSNR \
            over the hole's pixels, MS-SSIM over the 176x176 square centred on the hole (the \
            smallest with 5 scales). --save DIR writes each case side by side, original first. \
            scripts/inpaint-eval adds OpenCV's fills, more hole shapes and SSIMULACRA2.
            """
    )

    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "dir")) var data: String
    @Option(help: "Hole side in pixels.") var hole = 48
    @Option(help: "Images to use at most (sorted by name).") var limit = 10
    @Option(help: ArgumentHelp("Write side-by-side pictures of each case here.", valueName: "dir")) var save: String?
    @Option(help: "Rescoring sweeps (all-sides).") var sweeps = 1
    @Option(help: "Candidates per token (all-sides).") var candidates = 16
    @Option(help: "Fills drawn per hole, the best-fitting kept (default 4 masked, 1 otherwise).") var draws: Int?
    @OptionGroup var sampling: SamplingFlags
    @OptionGroup var models: EvaluatedPriorOptions

    func validate() throws {
        if let draws, !(1...64).contains(draws) { throw ValidationError("--draws must be in 1...64") }
    }

    func run() throws {
        let (codec, prior) = try models.load(default: .masked)
        let inpainter = try reportingGenerationErrors { try Inpainter(codec: codec, prior: prior) }
        var evaluation = InpaintingEvaluation(inpainter: inpainter)
        evaluation.hole = hole
        evaluation.options.seed = sampling.seed
        evaluation.options.sampling = SamplingOptions(temperature: sampling.temperature, topK: sampling.topK ?? InpaintOptions.defaultTopK,
                                                      steps: sampling.steps)
        evaluation.options.draws = draws
        evaluation.options.sweeps = sweeps
        evaluation.options.candidates = candidates
        let images = try TrainingImages.load(folder: data)
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }
        let methods = evaluation.methods
        var results: [InpaintingEvaluation.Result] = []
        print("image                      " + methods.map { $0.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0) }.joined())
        for (picture, path) in zip(images.pictures, images.paths).prefix(limit) {
            guard let r = try reportingGenerationErrors({ try evaluation.evaluate(picture) }) else { continue }
            results.append(r)
            print((path as NSString).lastPathComponent.padding(toLength: 27, withPad: " ", startingAt: 0)
                  + methods.indices.map { String(format: "%6.2f dB %6.4f       ", r.psnr[$0], r.msssim[$0]) }.joined())
            if let save {
                let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension + "-inpaint.png"
                try AtomicFile.write(try FormatRegistry.standard.encode(r.sheet, as: "png"), to: (save as NSString).appendingPathComponent(name), overwrite: true)
            }
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        print(String(format: "mean over %d images, %dx%d hole, %@ prior:", results.count, hole, hole, prior.kind.rawValue))
        for (m, method) in methods.enumerated() {
            print(String(format: "  %-10@ PSNR %6.2f dB   MS-SSIM %.4f   %.2f s per image", method.rawValue, mean(results.map { $0.psnr[m] }),
                         mean(results.map { $0.msssim[m] }), mean(results.map { $0.seconds[m] })))
        }
    }
}
