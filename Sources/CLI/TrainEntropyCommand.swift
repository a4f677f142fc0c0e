import ArgumentParser
import Foundation
import Models
import NN
import Training
import VQZ

/// `vqz train entropy`: the context prior that `vqz compress --entropy prior` codes tokens with.
struct TrainEntropyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entropy",
        abstract: "Train the context prior that codes tokens for --entropy prior.",
        discussion: """
            Tokenizes every image under --data once at every level (at half and quarter size by \
            default; validation images at full size; cached beside \
            --checkpoint), trains on random positions of the whole grids, reports each level's \
            validation bits per token against the unigram entropy, checkpoints every few minutes \
            and on Ctrl-C, resumes with --resume, and writes the shipped weights to --output. \
            The weights record the tokenizer they were trained for.
            """
    )

    @Option(help: ArgumentHelp("Folder of training images (searched recursively).", valueName: "DIR"))
    var data: String
    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "DIR")) var val: String?

    @Option(help: "Total optimisation steps (the learning-rate schedule spans them).") var steps = 4000
    @Option(help: "Stop at this step, within the schedule of --steps (a reproducible shorter run).") var stopAt: Int?
    @Option(help: "Positions per batch (every level is trained on them).") var batch = 512
    @Option(help: "Peak learning rate.") var lr: Float = 2e-3
    @Option(help: "Seed for initialisation and data order.") var seed: UInt64 = 1
    @Option(help: "Width of each context slot's embedding.") var embed = 16
    @Option(help: "Width of the hidden layer.") var hidden = 192
    @Flag(name: .customLong("copy-gate"), inversion: .prefixedNo,
          help: "Score copying each causal neighbour's token (learned per slot from the hidden layer).")
    var copyGate = true
    @OptionGroup var scaleOptions: ScaleOptions

    @Option(help: ArgumentHelp("Checkpoint file (weights, optimizer state, step, RNG).", valueName: "PATH"))
    var checkpoint: String?
    @Flag(help: "Continue from --checkpoint.") var resume = false
    @Option(help: ArgumentHelp("Where to write the shipped weights when training stops.", valueName: "PATH"))
    var output: String?
    @Option(help: "Model name recorded in the weights.") var name = "vqz-context"

    @Option(help: "Validate every N steps.") var validateEvery = 500
    @Option(help: "Seconds between checkpoints.") var checkpointSeconds: Double = 300
    @Option(help: "Threads (BLAS and ours); default all cores.") var threads: Int?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions

    var checkpointPath: String { checkpoint ?? defaultTokenCache + "/prior-context.ckpt.safetensors" }

    func validate() throws {
        if let stopAt, stopAt < 1 { throw ValidationError("--stop-at must be positive") }
        if batch < 1 || steps < 1 || validateEvery < 1 { throw ValidationError("--batch, --steps and --validate-every must be positive") }
        if !ContextPriorConfig(embedDim: embed, hidden: hidden).isValid { throw ValidationError("invalid model shape (--embed, --hidden)") }
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
        // Validation pictures are coded as they are: full size.
        func tokenize(_ folder: String, scales: [Int]) throws -> [LeveledTokenGrid] {
            try EntropyTrainingData.grids(folder: folder, codec: codec, cacheFolder: cacheFolder, scales: scales,
                                          log: { progress.log("vqz: " + $0) },
                                          progress: { i, n in progress.update("tokenizing \(folder): \(i)/\(n) pictures") })
        }
        let train = try tokenize(data, scales: scaleOptions.factors)
        guard !train.isEmpty else { throw CLIError(.usage, "no image under \(data)") }
        let validation = try val.map { try tokenize($0, scales: [1]) } ?? []
        let k = tokenizer.config.codebookSize
        if !validation.isEmpty {
            let unigram = (0..<tokenizer.levels).map { l in
                String(format: "%.3f", unigramEntropy(validation.flatMap { $0.levels[l] }, codebookSize: k))
            }
            progress.log("vqz: validation: \(validation.count) grids; unigram entropy per level \(unigram.joined(separator: " / ")) bits, log2(K) = \(Int(log2(Double(k))))")
        }

        var config = ContextPriorConfig(codebookSize: k, levels: tokenizer.levels, embedDim: embed, hidden: hidden, copyGate: copyGate)
        if resume {
            // The checkpoint's shape wins, so a resume needs no repeated shape flags.
            let meta = try SafeTensors.read([UInt8](Data(contentsOf: URL(fileURLWithPath: checkpointPath)))).metadata
            guard meta["kind"] == ContextPrior.checkpointKind, let json = meta["config"],
                  let saved = try? ContextPriorConfig(json: json) else {
                throw CLIError(.usage, "\(checkpointPath) is not a context prior checkpoint")
            }
            config = saved
        }
        let model = ContextPrior(config: config, seed: seed)
        var options = ContextPriorTrainingOptions(checkpointPath: checkpointPath)
        options.steps = steps
        options.batchSize = batch
        options.learningRate = lr
        options.seed = seed
        options.validateEvery = validateEvery
        options.checkpointSeconds = checkpointSeconds
        let trainer = ContextPriorTrainer(model: model, options: options)
        trainer.metadata = TokenizerRecord.metadata(tokenizer)
        if resume {
            try requireSameTokenizer(trainer.resume(from: checkpointPath), path: checkpointPath, tokenizer: tokenizer)
            console.warn(nil, "resumed from \(checkpointPath) at step \(trainer.step)")
        }
        let tokens = train.reduce(0) { $0 + $1.width * $1.height }
        console.warn(nil, "training a context prior (\(model.parameterCount) parameters) on \(train.count) grids, \(tokens) positions x \(config.levels) levels, for tokenizer \(tokenizer.tokens)")

        func levels(_ bits: [Double]) -> String { bits.map { String(format: "%.3f", $0) }.joined(separator: " / ") }
        TrainingStop.install()
        try trainer.run(grids: train, validation: validation,
                        shouldStop: { TrainingStop.requested || trainer.step >= (stopAt ?? steps) },
                        progress: { p in
                            progress.update(String(format: "step %d/%d  %@ bits/token  %.2f steps/s  eta %@", p.step, p.totalSteps,
                                                   levels(p.bitsPerToken.map(Double.init)), p.stepsPerSecond, ProgressLine.duration(p.secondsLeft)))
                        },
                        validated: { step, bits in progress.log("validation at step \(step): \(levels(bits)) bits/token") })
        progress.finish()
        console.warn(nil, (TrainingStop.requested ? "stopped" : "finished") + " at step \(trainer.step); checkpoint saved to \(checkpointPath)")
        if let output {
            var meta = TokenizerRecord.metadata(tokenizer)
            meta["steps"] = String(trainer.step)
            meta["seed"] = String(seed)
            if !validation.isEmpty { meta["val_bits_per_token"] = levels(model.bitsPerToken(validation)) }
            try AtomicFile.write(model.exportWeights(name: name, metadata: meta), to: output, overwrite: true)
            console.warn(nil, "weights written to \(output)")
        }
        if TrainingStop.requested { throw ExitCode(ExitStatus.interrupted.rawValue) }
    }
}
