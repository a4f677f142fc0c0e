import ArgumentParser
import Foundation
import Models
import NN
import Training
import VQZ


/// `vqz train prior`: a PixelCNN or transformer over the level-1 tokens of the tokenizer.
struct TrainPriorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Train a prior over token grids (gated PixelCNN or causal transformer).",
        discussion: """
            Tokenizes every image under --data once with the tokenizer (at half and quarter \
            size by default; the grids are cached beside --checkpoint), trains on random 16x16 crops of the \
            level-1 grids, reports validation bits per token, checkpoints every few minutes and on \
            Ctrl-C, resumes with --resume, and writes the shipped weights to --output at the end. \
            The weights record the tokenizer they were trained for.
            """
    )

    @Option(help: "Model: pixelcnn or transformer.") var kind: PriorKind
    @Option(help: ArgumentHelp("Folder of training images (searched recursively).", valueName: "DIR"))
    var data: String
    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "DIR")) var val: String?

    @Option(help: "Total optimisation steps (the learning-rate schedule spans them).") var steps = 3000
    @Option(help: "Crops per batch.") var batch = 8
    @Option(help: "Crop side in tokens.") var crop = 16
    @Option(help: "Peak learning rate (default: 1e-3 PixelCNN, 5e-4 transformer).") var lr: Float?
    @Option(help: "Seed for initialisation and data order.") var seed: UInt64 = 1
    @Option(help: "PixelCNN channels or transformer width (default 128 / 256).") var width: Int?
    @Option(help: "Layers (default 6 PixelCNN / 4 transformer).") var layers: Int?
    @Option(help: "Transformer attention heads.") var heads = 4
    @OptionGroup var scaleOptions: ScaleOptions

    @Option(help: ArgumentHelp("Checkpoint file (weights, optimizer state, step, RNG).", valueName: "PATH"))
    var checkpoint: String?
    @Flag(help: "Continue from --checkpoint.") var resume = false
    @Option(help: ArgumentHelp("Where to write the shipped weights when training stops.", valueName: "PATH"))
    var output: String?
    @Option(help: "Model name recorded in the weights.") var name: String?

    @Option(help: "Validate every N steps.") var validateEvery = 250
    @Option(help: "Validation crops (non-overlapping 16x16 tiles of the validation grids).") var valCrops = 256
    @Option(help: "Seconds between checkpoints.") var checkpointSeconds: Double = 300
    @Option(help: "Threads (BLAS and ours); default all cores.") var threads: Int?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions

    var checkpointPath: String {
        checkpoint ?? ((ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.cache/vqz/prior-\(kind.rawValue).ckpt.safetensors")
    }

    var config: PriorConfig {
        PriorConfig(kind: kind, width: width, layers: layers, heads: heads, maxRows: crop, maxCols: crop)
    }

    func validate() throws {
        if batch < 1 || steps < 1 || validateEvery < 1 || crop < 2 || crop > 64 || valCrops < 1 {
            throw ValidationError("--batch, --steps, --validate-every, --val-crops must be positive, --crop 2...64")
        }
        if !PriorConfig(kind: kind, codebookSize: 1024, width: width, layers: layers, heads: heads, maxRows: crop, maxCols: crop).isValid {
            throw ValidationError("invalid model shape (--width, --layers, --heads)")
        }
        if resume && !FileManager.default.fileExists(atPath: checkpointPath) {
            throw ValidationError("--resume: no checkpoint at \(checkpointPath)")
        }
    }

    func run() throws {
        let console = verbosity.console
        if let threads { Threads.set(threads) }
        let tokenizer = try modelOptions.load()
        let codec = Codec(model: tokenizer)
        let cacheFolder = (checkpointPath as NSString).deletingLastPathComponent
        let progress = ProgressLine(console: console)
        func tokenize(_ folder: String) throws -> [TokenGridSample] {
            try PriorTrainingData.grids(folder: folder, codec: codec, cacheFolder: cacheFolder, scales: scaleOptions.factors,
                                        log: { progress.log("vqz: " + $0) },
                                        progress: { i, n in progress.update("tokenizing \(folder): \(i)/\(n) pictures") })
        }
        let train = try tokenize(data)
        let source = TokenCropSource(grids: train, size: crop)
        guard !source.isEmpty else { throw CLIError(.usage, "no token grid under \(data) is \(crop)x\(crop) tokens or larger") }
        var validation: [Int32] = []
        if let val {
            let grids = try tokenize(val)
            validation = TokenCropSource.tiles(of: grids, size: crop, limit: valCrops)
            let k = tokenizer.config.codebookSize
            let valTokens = grids.flatMap(\.tokens)
            progress.log(String(format: "vqz: validation: %d crops; unigram entropy of the validation tokens %.3f bits, log2(K) = %.3f bits",
                                validation.count / (crop * crop), unigramEntropy(valTokens, codebookSize: k), log2(Double(k))))
        }

        var config = self.config
        config.codebookSize = tokenizer.config.codebookSize
        if resume {
            // The checkpoint's shape wins, so a resume needs no repeated --width/--layers; its kind must match.
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: checkpointPath)))
            let meta = try SafeTensors.read(bytes).metadata
            guard meta["kind"] == Priors.checkpointKind, let json = meta["config"], let saved = try? PriorConfig(json: json) else {
                throw CLIError(.usage, "\(checkpointPath) is not a prior checkpoint")
            }
            guard saved.kind == kind else {
                throw CLIError(.usage, "\(checkpointPath) holds a \(saved.kind.rawValue) prior, not a \(kind.rawValue) one")
            }
            config = saved
        }
        let model = Priors.make(config, seed: seed)
        var options = PriorTrainingOptions(checkpointPath: checkpointPath)
        options.steps = steps
        options.batchSize = batch
        options.cropSize = crop
        options.learningRate = lr ?? (kind == .pixelcnn ? 1e-3 : 5e-4)
        options.seed = seed
        options.validateEvery = validateEvery
        options.checkpointSeconds = checkpointSeconds
        let trainer = PriorTrainer(model: model, options: options)
        trainer.metadata = TokenizerRecord.metadata(tokenizer)
        if resume {
            try requireSameTokenizer(trainer.resume(from: checkpointPath), path: checkpointPath, tokenizer: tokenizer)
            console.warn(nil, "resumed from \(checkpointPath) at step \(trainer.step)")
        }
        let tokens = train.reduce(0) { $0 + $1.tokens.count }
        console.warn(nil, "training a \(kind.rawValue) prior (\(model.store.trainableCount) parameters) on \(train.count) grids, \(tokens) tokens, for tokenizer \(tokenizer.tokens)")

        TrainingStop.install()
        try trainer.run(data: source, validation: validation,
                        shouldStop: { TrainingStop.requested },
                        progress: { p in
                            progress.update(String(format: "step %d/%d  %.3f bits/token  %.2f steps/s  eta %@",
                                                   p.step, p.totalSteps, p.bitsPerToken, p.stepsPerSecond, ProgressLine.duration(p.secondsLeft)))
                        },
                        validated: { step, bits in
                            progress.log(String(format: "validation at step %d: %.4f bits/token", step, bits))
                        })
        progress.finish()
        console.warn(nil, (TrainingStop.requested ? "stopped" : "finished") + " at step \(trainer.step); checkpoint saved to \(checkpointPath)")
        if let output {
            var meta = TokenizerRecord.metadata(tokenizer)
            meta["steps"] = String(trainer.step)
            meta["seed"] = String(seed)
            if !validation.isEmpty { meta["val_bits_per_token"] = String(format: "%.4f", trainer.validate(validation)) }
            let weights = Priors.exportWeights(model, name: name ?? "vqz-prior-\(kind.rawValue)", metadata: meta)
            try AtomicFile.write(weights, to: output, overwrite: true)
            console.warn(nil, "weights written to \(output)")
        }
        if TrainingStop.requested { throw ExitCode(ExitStatus.interrupted.rawValue) }
    }
}

extension PriorKind: ExpressibleByArgument {}
