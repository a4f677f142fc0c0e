import ArgumentParser
import Foundation
import Models
import NN
import Training
import VQZ

/// What a `vqz train` command starts from and shows in its help beside the options every
/// training command shares: its trainer's defaults, the default checkpoint file under ~/.cache/vqz
/// and model name (KIND where they depend on --kind), what a batch holds, the default peak rate.
struct TrainingDefaults {
    var options: Models.TrainingOptions
    var checkpointFile: String
    var modelName: String
    var batch: String
    var learningRate: String?
}

/// A `vqz train` command, which declares its defaults once.
protocol TrainingCommand {
    static var trainingDefaults: TrainingDefaults { get }
}

/// The options of every `vqz train` command: the schedule, checkpoints, resuming, the output.
struct SharedTrainingOptions<Command: TrainingCommand>: ParsableArguments {
    @Option(help: "Total optimisation steps (the learning-rate schedule spans them).")
    var steps: Int = Command.trainingDefaults.options.steps
    @Option(help: ArgumentHelp(Command.trainingDefaults.batch)) var batch: Int = Command.trainingDefaults.options.batchSize
    @Option(help: "Peak learning rate (warm-up, then cosine decay; default \(Command.trainingDefaults.learningRate ?? "\(Command.trainingDefaults.options.learningRate)")).") var lr: Float?
    @Option(help: "Warm-up steps of the learning-rate schedule.") var warmup: Int = Command.trainingDefaults.options.warmupSteps
    @Option(name: .customLong("stop-at"), help: ArgumentHelp("Stop at this step, as Ctrl-C would, keeping the schedule of --steps.", valueName: "step"))
    var stopAt: Int?
    @Option(help: "Seed for initialisation and data order.") var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Checkpoint file (weights, optimizer state, step, RNG); default ~/.cache/vqz/\(Command.trainingDefaults.checkpointFile).", valueName: "path"))
    var checkpoint: String?
    @Flag(help: "Continue from --checkpoint (its model shape wins).") var resume = false
    @Option(help: ArgumentHelp("Where to write the shipped weights when training stops.", valueName: "path"))
    var output: String?
    @Option(help: "Model name recorded in the weights (default \(Command.trainingDefaults.modelName)).") var name: String?

    @Option(help: "Validate every N steps.") var validateEvery: Int = Command.trainingDefaults.options.validateEvery
    @Option(help: "Seconds between checkpoints.") var checkpointSeconds: Double = 300
    @Option(help: "Threads (BLAS and ours); default all cores.") var threads: Int?

    func validate() throws {
        if batch < 1 || steps < 1 || validateEvery < 1 { throw ValidationError("--batch, --steps and --validate-every must be positive") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        if let stopAt, stopAt < 1 { throw ValidationError("--stop-at must be positive") }
        if !(checkpointSeconds > 0) { throw ValidationError("--checkpoint-seconds must be positive") }
    }

    /// Sets the threads BLAS and vqz's own loops use (before tokenizing the data, which uses them too).
    func useThreads() {
        if let threads { Threads.set(threads) }
    }

    /// --checkpoint, else `file` under ~/.cache/vqz.
    func checkpointPath(file: String = Command.trainingDefaults.checkpointFile) -> String { checkpoint ?? defaultCacheFolder + "/" + file }

    /// Throws when --resume has no checkpoint to continue.
    func requireCheckpoint(at path: String) throws {
        if resume && !FileManager.default.fileExists(atPath: path) { throw ValidationError("--resume: no checkpoint at \(path)") }
    }

    /// Ties `trainer`'s run to `tokenizer`'s tokens, counts the steps of the weights it starts from
    /// (`initial`, their metadata), and with --resume continues the checkpoint at `path`.
    func begin<T: Trainer>(_ trainer: T, tokenizer: TokenizerModel, initial: [String: String]? = nil, checkpoint path: String,
                           console: Console) throws {
        trainer.recordTokens(of: tokenizer)
        if let initial { trainer.continueLineage(of: initial) }
        if resume {
            try trainer.resume(from: path, tokenizer: tokenizer)
            console.warn(nil, "resumed from \(path) at step \(trainer.step)")
        }
    }

    /// The trainer's options from these flags; `learningRate` when --lr is not given.
    func options(checkpointPath: String, learningRate: Float = Command.trainingDefaults.options.learningRate) -> Models.TrainingOptions {
        var o = Command.trainingDefaults.options
        o.checkpointPath = checkpointPath
        o.steps = steps
        o.batchSize = batch
        o.learningRate = lr ?? learningRate
        o.warmupSteps = warmup
        o.stopAt = stopAt
        o.seed = seed
        o.validateEvery = validateEvery
        o.checkpointSeconds = checkpointSeconds
        return o
    }

    /// Runs `trainer` with a progress line, Ctrl-C or SIGTERM stopping it after a checkpoint, then
    /// writes the weights `export` makes (from the trainer's export metadata) to --output. Exits 130
    /// when stopped.
    func run<T: Trainer>(_ trainer: T, data: T.TrainingData, validation: T.ValidationData?, console: Console,
                         progress line: @escaping (TrainingProgress<T.Figures>) -> String,
                         validated report: @escaping (Int, T.Validation) -> String,
                         export: (_ name: String?, _ metadata: [String: String]) throws -> [UInt8]) throws {
        let progress = ProgressLine(console: console)
        TrainingStop.install()
        try trainer.run(data: data, validation: validation, shouldStop: { TrainingStop.requested },
                        progress: { p in
                            progress.update(line(p) + String(format: "  %.2f steps/s  eta %@", p.stepsPerSecond, ProgressLine.duration(p.secondsLeft)))
                        },
                        validated: { progress.log(report($0, $1)) })
        progress.finish()
        let hours = TrainingClock.seconds(in: trainer.metadata) / 3600
        console.warn(nil, (TrainingStop.requested ? "stopped" : "finished") + " at step \(trainer.step)"
                     + String(format: " after %.2f hours of training in all", hours) + "; checkpoint saved to \(trainer.options.checkpointPath)")
        if let output {
            try AtomicFile.write(try export(name, trainer.exportMetadata), to: output, overwrite: true)
            console.warn(nil, "weights written to \(output)")
        }
        if TrainingStop.requested { throw ExitCode(ExitStatus.interrupted.rawValue) }
    }
}

/// Where vqz keeps checkpoints and token caches unless told: ~/.cache/vqz.
let defaultCacheFolder = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.cache/vqz"

/// --scales, shared by the commands that tokenize a folder of pictures for a prior.
struct ScaleOptions: ParsableArguments {
    @Option(help: "Scales to tokenize the pictures at, comma-separated: 1 full size, 2 half, 4 quarter, 8.")
    var scales = "2,4"

    var factors: [Int] { scales.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        if factors.isEmpty || factors.count != scales.split(separator: ",").count || !factors.allSatisfy([1, 2, 4, 8].contains) {
            throw ValidationError("--scales takes factors from 1, 2, 4, 8 separated by commas")
        }
    }
}
