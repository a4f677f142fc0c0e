import ArgumentParser
import Foundation
import Models
import NN
import Training
import VQZ

/// `vqz train prior`: a PixelCNN or transformer over the level-1 tokens of the tokenizer.
struct TrainPriorCommand: ParsableCommand, TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Train a prior over token grids (gated PixelCNN, causal or masked transformer).",
        discussion: """
            Tokenizes every image under --data once with the tokenizer (at half and quarter \
            size by default; the grids are cached beside --checkpoint), trains on random 16x16 crops of the \
            level-1 grids, reports validation bits per token (for the masked prior, the \
            order-agnostic upper bound), checkpoints every few minutes and on \
            Ctrl-C, resumes with --resume, and writes the shipped weights to --output at the end. \
            The weights record the tokenizer they were trained for.
            """
    )
    static let trainingDefaults = TrainingDefaults(options: PriorTrainer.defaults(checkpointPath: ""), checkpointFile: "prior-KIND.ckpt.safetensors",
                                                   modelName: "vqz-prior-KIND", batch: "Crops per batch.", learningRate: "1e-3 PixelCNN, 5e-4 transformer")

    @Option(help: "Model: pixelcnn, transformer (raster order) or masked (all sides, MaskGIT).") var kind: PriorKind
    @Option(help: ArgumentHelp("Folder of training images (searched recursively).", valueName: "dir"))
    var data: String
    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "dir")) var val: String?

    @Option(help: "Crop side in tokens.") var crop = 16
    @Option(help: "PixelCNN channels or transformer width (default 128 / 256).") var width: Int?
    @Option(help: "Layers (default 6 PixelCNN / 4 transformer).") var layers: Int?
    @Option(help: "Transformer attention heads.") var heads = 4
    @Flag(help: "Also tokenize every picture mirrored left to right (twice the grids).") var mirror = false
    @Option(help: "Validation crops (non-overlapping 16x16 tiles of the validation grids).") var valCrops = 256
    @OptionGroup var scaleOptions: ScaleOptions

    @OptionGroup var training: SharedTrainingOptions<Self>
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    var checkpointPath: String { training.checkpointPath(file: "prior-\(kind.rawValue).ckpt.safetensors") }

    func validate() throws {
        if crop < 2 || crop > 64 || valCrops < 1 { throw ValidationError("--val-crops must be positive, --crop 2...64") }
        if !PriorConfig(kind: kind, codebookSize: 1024, width: width, layers: layers, heads: heads, maxRows: crop, maxCols: crop).isValid {
            throw ValidationError("invalid model shape (--width, --layers, --heads)")
        }
        try training.requireCheckpoint(at: checkpointPath)
    }

    func run() throws {
        let console = verbosity.console
        training.useThreads()
        let tokenizer = try modelOptions.load()
        let progress = ProgressLine(console: console)
        let caches = TokenCaches(codec: Codec(model: tokenizer), folder: (checkpointPath as NSString).deletingLastPathComponent, progress: progress)
        let train = try caches.levelOne(data, scales: scaleOptions.factors, mirrored: mirror)
        let source = TokenCropSource(grids: train, size: crop)
        guard !source.isEmpty else { throw CLIError(.usage, "no token grid under \(data) is \(crop)x\(crop) tokens or larger") }
        var validation: [Int32]?
        if let val {
            let grids = try caches.levelOne(val, scales: scaleOptions.factors)
            let crops = TokenCropSource.tiles(of: grids, size: crop, limit: valCrops)
            let k = tokenizer.config.codebookSize
            progress.log(String(format: "vqz: validation: %d crops; unigram entropy of the validation tokens %.3f bits, log2(K) = %.3f bits",
                                crops.count / (crop * crop), unigramEntropy(grids.flatMap(\.tokens), codebookSize: k), log2(Double(k))))
            validation = crops.isEmpty ? nil : crops
        }

        var config = PriorConfig(kind: kind, width: width, layers: layers, heads: heads, maxRows: crop, maxCols: crop)
        config.codebookSize = tokenizer.config.codebookSize
        if training.resume {
            // The checkpoint's shape wins, so a resume needs no repeated --width/--layers; its kind must match.
            let meta = try checkpointMetadata(at: checkpointPath)
            guard meta["kind"] == Priors.checkpointKind, let json = meta["config"], let saved = try? PriorConfig(json: json) else {
                throw TrainingSetupError.notACheckpoint(checkpointPath, of: "a prior")
            }
            guard saved.kind == kind else {
                throw TrainingSetupError.otherPriorKind(checkpoint: checkpointPath, holds: saved.kind.rawValue, wanted: kind.rawValue)
            }
            config = saved
        }
        let model = Priors.make(config, seed: training.seed)
        let trainer = PriorTrainer(model: model, options: training.options(checkpointPath: checkpointPath, learningRate: kind == .pixelcnn ? 1e-3 : 5e-4),
                                   cropSize: crop)
        try training.begin(trainer, tokenizer: tokenizer, checkpoint: checkpointPath, console: console)
        let tokens = train.reduce(0) { $0 + $1.tokens.count }
        console.warn(nil, "training a \(kind.rawValue) prior (\(model.store.trainableCount) parameters) on \(train.count) grids, \(tokens) tokens, for tokenizer \(tokenizer.tokens)")
        try training.run(trainer, data: source, validation: validation, console: console,
                         progress: { p in String(format: "step %d/%d  %.3f bits/token", p.step, p.totalSteps, p.figures) },
                         validated: { step, bits in String(format: "validation at step %d: %.4f bits/token", step, bits) },
                         export: { name, metadata in
                             var meta = metadata
                             if let validation { meta["val_bits_per_token"] = String(format: "%.4f", trainer.validate(validation)) }
                             return Priors.exportWeights(model, name: name ?? "vqz-prior-\(kind.rawValue)", metadata: meta)
                         })
    }
}

extension PriorKind: ExpressibleByArgument {}
