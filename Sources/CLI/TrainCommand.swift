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


struct TrainTokenizerCommand: ParsableCommand {
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

    @Option(help: ArgumentHelp("Folder of training images (searched recursively).", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("vq: the VQ-VAE tokenizer; ae: a plain autoencoder; vae: a VAE (baselines, not codecs).", valueName: "vq|ae|vae"))
    var kind: TokenizerKind = .vq

    @Option(help: "VAE: weight of the KL term (nats per pixel channel) against the pixel MSE.")
    var beta: Float = 0.005

    @Option(help: ArgumentHelp("Folder of validation images (center crops are scored).", valueName: "DIR"))
    var val: String?

    @Option(help: "Total optimisation steps (the learning-rate schedule spans them).")
    var steps = 20_000

    @Option(help: "Crops per batch.") var batch = 16
    @Option(help: "Crop side in pixels (a multiple of the downsampling factor).") var crop = 64
    @Option(help: "Peak learning rate (Adam, warm-up then cosine decay).") var lr: Float = 3e-4
    @Option(help: "Warm-up steps of the learning-rate schedule.") var warmup = 200
    @Option(name: .customLong("stop-at"), help: ArgumentHelp("Stop at this step, as Ctrl-C would, keeping the schedule of --steps.", valueName: "STEP"))
    var stopAt: Int?
    @Option(help: "Seed for initialisation and data order.") var seed: UInt64 = 1

    @Option(name: .customLong("checkpoint"), help: ArgumentHelp("Checkpoint file (weights, optimizer state, step, RNG); default ~/.cache/vqz/tokenizer[-ae|-vae].ckpt.safetensors.", valueName: "PATH"))
    var checkpointPath: String?

    @Flag(help: "Continue from --checkpoint.") var resume = false

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from shipped weights (e.g. the bundled tokenizer's file) with a fresh optimizer; their shape wins over --channels and the others.", valueName: "WEIGHTS"))
    var initWeights: String?

    @Flag(name: .customLong("decoder-only"), help: "Train only the decoder of the --init (or resumed) tokenizer: its tokens, and the priors trained on them, stay valid.")
    var decoderOnly = false

    @Option(help: ArgumentHelp("Where to write the shipped weights when training stops.", valueName: "PATH"))
    var output: String?

    @Option(help: "Model name recorded in the weights and in every .vqz made with them.")
    var name = "vqz-tokenizer"

    @Option(help: "Channels per resolution, full resolution first (f = 2^(count-1)).")
    var channels = "32,64,128,128"
    @Option(help: "Codebook size per level.") var codebookSize = 1024
    @Option(help: "Code vector dimension.") var codeDim = 32
    @Option(help: "Residual quantizer levels.") var levels = 4
    @Option(help: "Residual blocks per resolution above the bottom.") var blocksPerLevel = 1
    @Option(help: "Residual blocks at the bottom resolution.") var bottomBlocks = 2
    @Option(help: ArgumentHelp("Side of the pixel blocks folded into channels before the first convolution (1: none; f = S x 2^(channels-1)).", valueName: "S"))
    var pixelShuffle = 1

    @Option(help: "Validate every N steps.") var validateEvery = 500
    @Option(help: "Seconds between checkpoints.") var checkpointSeconds: Double = 300
    @Option(help: "Threads (BLAS and ours); default all cores.") var threads: Int?

    @OptionGroup var verbosity: VerbosityOptions

    /// One default checkpoint per kind, so a baseline's run never resumes another kind's.
    var checkpoint: String {
        if let checkpointPath { return checkpointPath }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return home + "/.cache/vqz/tokenizer" + (kind == .vq ? "" : "-\(kind.rawValue)") + ".ckpt.safetensors"
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
        if batch < 1 || steps < 1 || validateEvery < 1 { throw ValidationError("--batch, --steps and --validate-every must be positive") }
        if resume && initWeights != nil { throw ValidationError("--resume and --init cannot be combined") }
        if kind != .vq && pixelShuffle != 1 { throw ValidationError("--pixel-shuffle shapes a VQ tokenizer; the baselines keep the first one") }
        if kind != .vq && initWeights != nil { throw ValidationError("--init continues a VQ tokenizer; it does not combine with --kind \(kind.rawValue)") }
        if decoderOnly && (kind != .vq || (initWeights == nil && !resume)) {
            throw ValidationError("--decoder-only retrains the decoder of a VQ tokenizer given by --init (or --resume)")
        }
        if !(beta >= 0 && beta.isFinite) { throw ValidationError("--beta must be a non-negative number") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        if let stopAt, stopAt < 1 { throw ValidationError("--stop-at must be positive") }
        if resume && !FileManager.default.fileExists(atPath: checkpoint) {
            throw ValidationError("--resume: no checkpoint at \(checkpoint)")
        }
    }

    func run() throws {
        let console = verbosity.console
        if let threads { Threads.set(threads) }
        let train = try TrainingImages.load(folder: data)
        for s in train.skipped { console.warn(s.path, "skipped: \(s.reason)") }
        // CropSource draws from pictures of at least 64 pixels a side (and the crop's size).
        let side = max(64, crop)
        guard train.pictures.contains(where: { $0.width >= side && $0.height >= side }) else {
            throw CLIError(.usage, "\(data): no training picture is at least \(side)x\(side) pixels")
        }
        let config = try self.config
        var validation: [Tensor] = []
        if let val {
            let v = try TrainingImages.load(folder: val)
            validation = TrainingImages.centerCrops(v.pictures, side: 256, multiple: config.downsampling).map { $0.tensor() }
        }
        let model: any TrainableTokenizer
        let exportWeights: (String, [String: String]) -> [UInt8]
        let parameterCount: Int
        if let baseline = kind.baseline {
            let autoencoder = Autoencoder(config: AutoencoderConfig(kind: baseline, sameNetworksAs: config), seed: seed)
            autoencoder.beta = beta
            (model, parameterCount) = (autoencoder, autoencoder.parameterCount)
            exportWeights = { autoencoder.exportWeights(name: $0, metadata: $1) }
        } else if let initWeights {
            guard let data = FileManager.default.contents(atPath: initWeights) else { throw CodecError.cannotReadModel(initWeights) }
            let tokenizer = try VQTokenizer.load(weights: [UInt8](data)).model
            tokenizer.quantizer.adoptLoadedCodebooks()
            if decoderOnly { tokenizer.frozenTokens = try TokenizerModel(weights: [UInt8](data), fallbackName: "init").tokenLineage }
            (model, parameterCount) = (tokenizer, tokenizer.parameterCount)
            exportWeights = { tokenizer.exportWeights(name: $0, metadata: $1) }
            console.warn(nil, "starting from the weights in \(initWeights)")
        } else {
            let tokenizer = VQTokenizer(config: config, seed: seed)
            if resume { tokenizer.frozenTokens = try frozenTokens(inCheckpoint: checkpoint) }
            (model, parameterCount) = (tokenizer, tokenizer.parameterCount)
            exportWeights = { tokenizer.exportWeights(name: $0, metadata: $1) }
        }
        var options = TokenizerTrainingOptions(checkpointPath: checkpoint)
        options.steps = steps
        options.batchSize = batch
        options.cropSize = crop
        options.learningRate = lr
        options.warmupSteps = warmup
        options.stopAt = stopAt
        options.seed = seed
        options.validateEvery = validateEvery
        options.checkpointSeconds = checkpointSeconds
        let trainer = TokenizerTrainer(model: model, options: options)
        if resume {
            try trainer.resume(from: checkpoint)
            console.warn(nil, "resumed from \(checkpoint) at step \(trainer.step)")
        }
        console.warn(nil, "training on \(train.pictures.count) images, \(parameterCount) parameters, \(validation.count) validation crops")

        TrainingStop.install()
        let progress = ProgressLine(console: console)
        try trainer.run(data: CropSource(pictures: train.pictures), validation: validation,
                        shouldStop: { TrainingStop.requested },
                        progress: { p in
                            let terms: String
                            switch kind {
                            case .vq: terms = String(format: "commit %.5f  psnr %.2f dB (%d levels)  restarts %@", p.commitment, p.psnr,
                                                     p.levelsUsed, p.restarted.map(String.init).joined(separator: "/"))
                            case .ae: terms = String(format: "psnr %.2f dB", p.psnr)
                            case .vae: terms = String(format: "kl %.4f bpp  psnr %.2f dB", p.klBitsPerPixel, p.psnr)
                            }
                            progress.update(String(format: "step %d/%d  loss %.5f  %@  %.2f steps/s  eta %@",
                                                   p.step, p.totalSteps, p.loss, terms, p.stepsPerSecond,
                                                   ProgressLine.duration(p.secondsLeft)))
                        },
                        validated: { step, v in
                            let psnr = "validation at step \(step): psnr " + v.psnr.map { String(format: "%.2f", $0) }.joined(separator: " / ") + " dB"
                            if let kl = v.klBitsPerPixel {
                                progress.log(psnr + String(format: ", kl %.4f bits per pixel", kl))
                            } else if v.codesUsed.isEmpty {
                                progress.log(psnr)
                            } else {
                                progress.log(psnr + ", codes used " + v.codesUsed.map(String.init).joined(separator: " / ")
                                             + ", perplexity " + v.perplexity.map { String(format: "%.0f", $0) }.joined(separator: " / "))
                            }
                        })
        progress.finish()
        console.warn(nil, (TrainingStop.requested ? "stopped" : "finished") + " at step \(trainer.step); checkpoint saved to \(checkpoint)")
        if let output {
            var metadata = ["steps": String(trainer.step), "seed": String(seed)]
            if kind == .vae { metadata["beta"] = String(beta) }
            let weights = exportWeights(name, metadata)
            try AtomicFile.write(weights, to: output, overwrite: true)
            console.warn(nil, "weights written to \(output)")
        }
        if TrainingStop.requested { throw ExitCode(ExitStatus.interrupted.rawValue) }
    }
}

extension TrainTokenizerCommand {
    /// The token lineage a checkpoint was trained under, checked against --decoder-only.
    func frozenTokens(inCheckpoint path: String) throws -> TokenLineage? {
        let meta = try SafeTensors.read([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))).metadata
        let lineage = TokenLineage(metadata: meta)
        if decoderOnly && lineage == nil { throw CLIError(.usage, "\(path) is not the checkpoint of a --decoder-only run") }
        if !decoderOnly && lineage != nil { throw CLIError(.usage, "\(path) is the checkpoint of a --decoder-only run; resume it with --decoder-only") }
        return lineage
    }
}

/// What `vqz train tokenizer --kind` trains.
enum TokenizerKind: String, ExpressibleByArgument, CaseIterable {
    case vq, ae, vae

    var baseline: AutoencoderKind? { AutoencoderKind(rawValue: rawValue) }
}
