import ArgumentParser
import Foundation
import Models
import NN
import Training
import VQZ

/// `vqz train entropy`: the context prior that `vqz compress --entropy prior` codes tokens with.
struct TrainEntropyCommand: ParsableCommand, TrainingCommand {
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
    static let trainingDefaults = TrainingDefaults(options: ContextPriorTrainer.defaults(checkpointPath: ""), checkpointFile: "prior-context.ckpt.safetensors",
                                                   modelName: "vqz-context", batch: "Positions per batch (every level is trained on them).")

    @Option(help: ArgumentHelp("Folder of training images (searched recursively).", valueName: "dir"))
    var data: String
    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "dir")) var val: String?

    @Option(help: "Width of each context slot's embedding.") var embed = 16
    @Option(help: "Width of the hidden layer.") var hidden = 192
    @Flag(name: .customLong("copy-gate"), inversion: .prefixedNo,
          help: "Score copying each causal neighbour's token (learned per slot from the hidden layer).")
    var copyGate = true
    @OptionGroup var scaleOptions: ScaleOptions

    @OptionGroup var training: SharedTrainingOptions<Self>
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    var checkpointPath: String { training.checkpointPath() }

    func validate() throws {
        if !ContextPriorConfig(embedDim: embed, hidden: hidden).isValid { throw ValidationError("invalid model shape (--embed, --hidden)") }
        try training.requireCheckpoint(at: checkpointPath)
    }

    func run() throws {
        let console = verbosity.console
        training.useThreads()
        let tokenizer = try modelOptions.load()
        let progress = ProgressLine(console: console)
        let caches = TokenCaches(codec: Codec(model: tokenizer), folder: (checkpointPath as NSString).deletingLastPathComponent, progress: progress)
        let train = try caches.allLevels(data, scales: scaleOptions.factors)
        guard !train.isEmpty else { throw CLIError(.usage, "no image under \(data)") }
        // Validation pictures are coded as they are: full size.
        let validation = try val.map { try caches.allLevels($0, scales: [1]) } ?? []
        let k = tokenizer.config.codebookSize
        if !validation.isEmpty {
            let unigram = (0..<tokenizer.levels).map { l in
                String(format: "%.3f", unigramEntropy(validation.flatMap { $0.levels[l] }, codebookSize: k))
            }
            progress.log("vqz: validation: \(validation.count) grids; unigram entropy per level \(unigram.joined(separator: " / ")) bits, log2(K) = \(Int(log2(Double(k))))")
        }

        var config = ContextPriorConfig(codebookSize: k, levels: tokenizer.levels, embedDim: embed, hidden: hidden, copyGate: copyGate)
        if training.resume {
            // The checkpoint's shape wins, so a resume needs no repeated shape flags.
            let meta = try checkpointMetadata(at: checkpointPath)
            guard meta["kind"] == ContextPrior.checkpointKind, let json = meta["config"],
                  let saved = try? ContextPriorConfig(json: json) else {
                throw TrainingSetupError.notACheckpoint(checkpointPath, of: "a context prior")
            }
            config = saved
        }
        let model = ContextPrior(config: config, seed: training.seed)
        let trainer = ContextPriorTrainer(model: model, options: training.options(checkpointPath: checkpointPath))
        try training.begin(trainer, tokenizer: tokenizer, checkpoint: checkpointPath, console: console)
        let tokens = train.reduce(0) { $0 + $1.width * $1.height }
        console.warn(nil, "training a context prior (\(model.parameterCount) parameters) on \(train.count) grids, \(tokens) positions x \(config.levels) levels, for tokenizer \(tokenizer.tokens)")

        func levels(_ bits: [Double]) -> String { bits.map { String(format: "%.3f", $0) }.joined(separator: " / ") }
        try training.run(trainer, data: train, validation: validation.isEmpty ? nil : validation, console: console,
                         progress: { p in String(format: "step %d/%d  %@ bits/token", p.step, p.totalSteps, levels(p.figures.map(Double.init))) },
                         validated: { step, bits in "validation at step \(step): \(levels(bits)) bits/token" },
                         export: { name, metadata in
                             var meta = metadata
                             if !validation.isEmpty { meta["val_bits_per_token"] = levels(model.bitsPerToken(validation)) }
                             return model.exportWeights(name: name ?? Self.trainingDefaults.modelName, metadata: meta)
                         })
    }
}
