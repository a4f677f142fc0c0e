import ArgumentParser
import Foundation
import Models
import NN
import Training
import VQZ

/// `vqz train ...`: the training commands that make vqz's models.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train vqz's models on a folder of images.",
        subcommands: [TrainTokenizerCommand.self, TrainPriorCommand.self, TrainEntropyCommand.self, TrainTextCommand.self, TrainRerankCommand.self]
    )
}

struct TrainTokenizerCommand: ParsableCommand, TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train the VQ-VAE tokenizer (encoder, residual codebooks, decoder) or a baseline.",
        discussion: """
            Trains on random crops (with flips, at full, half and quarter scale) of every image \
            under --data, checkpoints to --checkpoint every few minutes and on Ctrl-C, resumes \
            with --resume, and writes the shipped weights (float16) to --output at the end. \
            --kind ae and --kind vae train the VQ-VAE's baselines on the same encoder and decoder: \
            a plain autoencoder and a VAE (KL term weighted by --beta); their weights reconstruct \
            with 'vqz reconstruct' and, for the VAE, sample with 'vqz generate --model'.
            """
    )
    static let trainingDefaults = TrainingDefaults(options: TokenizerTrainer.defaults(checkpointPath: ""), checkpointFile: "tokenizer[-ae|-vae].ckpt.safetensors",
                                                   modelName: "vqz-tokenizer", batch: "Crops per batch.")

    @Option(help: ArgumentHelp("Folder of training images (searched recursively).", valueName: "dir"))
    var data: String

    @Option(help: ArgumentHelp("vq: the VQ-VAE tokenizer; ae: a plain autoencoder; vae: a VAE (baselines, not codecs).", valueName: "vq|ae|vae"))
    var kind: TokenizerKind = .vq

    @Option(help: "VAE: weight of the KL term (nats per pixel channel) against the pixel MSE.")
    var beta: Float = 0.005

    @Option(help: ArgumentHelp("Folder of validation images (center crops are scored).", valueName: "dir"))
    var val: String?

    @Option(help: "Side of the central square of each validation image that is scored (the whole image where it is smaller).")
    var valSide = 256

    @Option(help: "Crop side in pixels (a multiple of the downsampling factor).") var crop = 64

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from shipped weights (e.g. the bundled tokenizer's file) with a fresh optimizer; their shape wins over --channels and the others.", valueName: "weights"))
    var initWeights: String?

    @Flag(name: .customLong("continue-schedule"), help: "With --init: take up the schedule of --steps at the step the weights record (a campaign whose checkpoint is lost); the fresh optimizer warms up again over --warmup steps.")
    var continueSchedule = false

    @Flag(name: .customLong("decoder-only"), help: "Train only the decoder of the --init (or resumed) tokenizer: its tokens, and the priors trained on them, stay valid.")
    var decoderOnly = false

    @Option(help: "Channels per resolution, full resolution first (f = 2^(count-1)).")
    var channels = "32,64,128,128"
    @Option(help: "Codebook size per level.") var codebookSize = 1024
    @Option(help: "Code vector dimension.") var codeDim = 32
    @Option(help: "Residual quantizer levels.") var levels = 4
    @Option(help: "Residual blocks per resolution above the bottom.") var blocksPerLevel = 1
    @Option(help: "Residual blocks at the bottom resolution.") var bottomBlocks = 2
    @Option(help: ArgumentHelp("Side of the pixel blocks folded into channels before the first convolution (1: none; f = s x 2^(channels-1)).", valueName: "s"))
    var pixelShuffle = 1

    @OptionGroup var training: SharedTrainingOptions<Self>
    @OptionGroup var verbosity: VerbosityOptions<Self>

    /// One default checkpoint per kind, so a baseline's run never resumes another kind's.
    var checkpoint: String {
        training.checkpointPath(file: "tokenizer" + (kind == .vq ? "" : "-\(kind.rawValue)") + ".ckpt.safetensors")
    }

    var config: TokenizerConfig {
        get throws {
            let c = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let config = TokenizerConfig(channels: c, blocksPerLevel: blocksPerLevel, bottomBlocks: bottomBlocks, codeDim: codeDim,
                                         codebookSize: codebookSize, levels: levels, pixelShuffle: pixelShuffle)
            guard c.count == channels.split(separator: ",").count, config.isValid else {
                throw ValidationError("invalid model shape (--channels \(channels), --codebook-size, --code-dim, --levels, --blocks-per-level, --bottom-blocks, --pixel-shuffle)")
            }
            return config
        }
    }

    func validate() throws {
        let f = try config.downsampling
        if crop < f || crop % f != 0 { throw ValidationError("--crop must be a positive multiple of \(f)") }
        if valSide < f { throw ValidationError("--val-side must be at least \(f)") }
        if training.resume && initWeights != nil { throw ValidationError("--resume and --init cannot be combined") }
        if continueSchedule && initWeights == nil { throw ValidationError("--continue-schedule takes up the schedule of the --init weights") }
        if kind != .vq && pixelShuffle != 1 { throw ValidationError("--pixel-shuffle shapes a VQ tokenizer; the baselines keep the first one") }
        if kind != .vq && initWeights != nil { throw ValidationError("--init continues a VQ tokenizer; it does not combine with --kind \(kind.rawValue)") }
        if decoderOnly && (kind != .vq || (initWeights == nil && !training.resume)) {
            throw ValidationError("--decoder-only retrains the decoder of a VQ tokenizer given by --init (or --resume)")
        }
        if !(beta >= 0 && beta.isFinite) { throw ValidationError("--beta must be a non-negative number") }
        try training.requireCheckpoint(at: checkpoint)
    }

    func run() throws {
        let console = verbosity.console
        training.useThreads()
        let train = try TrainingImages.load(folder: data)
        for s in train.skipped { console.warn(s.path, "skipped: \(s.reason)") }
        // CropSource draws from pictures of at least 64 pixels a side (and the crop's size).
        let side = max(64, crop)
        guard train.pictures.contains(where: { $0.width >= side && $0.height >= side }) else {
            throw CLIError(.usage, "\(data): no training picture is at least \(side)x\(side) pixels")
        }
        let config = try self.config
        var validation: [Tensor]?
        if let val {
            let v = try TrainingImages.load(folder: val)
            let crops = TrainingImages.centerCrops(v.pictures, side: valSide, multiple: config.downsampling).map { $0.tensor() }
            validation = crops.isEmpty ? nil : crops
        }
        let start = try TokenizerStart(kind: kind, config: config, seed: training.seed, beta: beta, initWeights: initWeights,
                                       decoderOnly: decoderOnly, resuming: training.resume ? checkpoint : nil)
        if let initWeights { console.warn(nil, "starting from the weights in \(initWeights)") }
        let trainer = TokenizerTrainer(model: start.model, options: training.options(checkpointPath: checkpoint), cropSize: crop)
        if training.resume {
            try trainer.resume(from: checkpoint)
            console.warn(nil, "resumed from \(checkpoint) at step \(trainer.step)")
        }
        if continueSchedule {
            guard let steps = start.initialSteps else {
                throw CLIError(.usage, "--continue-schedule: \(initWeights ?? "the --init weights") do not record their steps")
            }
            trainer.state.continueSchedule(at: steps)
            console.warn(nil, "continuing the schedule at step \(steps) with a fresh optimizer")
        }
        console.warn(nil, "training on \(train.pictures.count) images, \(start.parameterCount) parameters, \(validation?.count ?? 0) validation crops of up to \(valSide)x\(valSide)")
        try training.run(trainer, data: CropSource(pictures: train.pictures), validation: validation, console: console,
                         progress: { p in
                             let f = p.figures
                             let terms = switch kind {
                             case .vq: String(format: "commit %.5f  psnr %.2f dB (%d levels)  restarts %@", f.commitment, f.psnr,
                                              f.levels, f.restarted.map(String.init).joined(separator: "/"))
                             case .ae: String(format: "psnr %.2f dB", f.psnr)
                             case .vae: String(format: "kl %.4f bpp  psnr %.2f dB", f.klBitsPerPixel, f.psnr)
                             }
                             return String(format: "step %d/%d  loss %.5f  %@", p.step, p.totalSteps, f.loss, terms)
                         },
                         validated: { step, v in
                             let psnr = "validation at step \(step): psnr " + v.psnr.map { String(format: "%.2f", $0) }.joined(separator: " / ") + " dB"
                             if let kl = v.klBitsPerPixel { return psnr + String(format: ", kl %.4f bits per pixel", kl) }
                             if v.codesUsed.isEmpty { return psnr }
                             return psnr + ", codes used " + v.codesUsed.map(String.init).joined(separator: " / ")
                                 + ", perplexity " + v.perplexity.map { String(format: "%.0f", $0) }.joined(separator: " / ")
                         },
                         export: { name, metadata in
                             start.exportWeights(name: name ?? Self.trainingDefaults.modelName, metadata: kind == .vae ? metadata.merging(["beta": String(beta)]) { $1 } : metadata)
                         })
    }
}

extension TokenizerKind: ExpressibleByArgument {}
