import Foundation
import NN

/// The options every training run shares. Each trainer's `defaults` holds its own starting values.
public struct TrainingOptions: Sendable, Equatable {
    /// Optimisation steps: the learning-rate schedule spans them.
    public var steps: Int
    public var batchSize: Int
    /// Peak learning rate: warm-up, then cosine decay to a tenth of it.
    public var learningRate: Float
    public var warmupSteps: Int
    /// AdamW's decoupled weight decay (0: plain Adam).
    public var weightDecay: Float
    public var seed: UInt64
    public var checkpointPath: String
    public var checkpointSeconds: Double
    public var validateEvery: Int
    /// Stop (as Ctrl-C would) at this step, keeping the learning-rate schedule of `steps`: a fixed
    /// budget of a longer schedule, reproducible to the step.
    public var stopAt: Int?

    public init(checkpointPath: String, steps: Int, batchSize: Int, learningRate: Float, warmupSteps: Int,
                weightDecay: Float = 0.01, validateEvery: Int, seed: UInt64 = 1, checkpointSeconds: Double = 300,
                stopAt: Int? = nil) {
        self.checkpointPath = checkpointPath
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay
        self.validateEvery = validateEvery
        self.seed = seed
        self.checkpointSeconds = checkpointSeconds
        self.stopAt = stopAt
    }

    /// The step a run ends at: `stopAt` when it comes before `steps`.
    public var lastStep: Int { min(steps, stopAt ?? steps) }

    /// The learning rate of `step` on the schedule.
    public func learningRate(at step: Int) -> Float {
        cosineSchedule(step: step, total: steps, warmup: warmupSteps, peak: learningRate)
    }
}

/// Wall-clock seconds of training behind a checkpoint, every run that resumed it added up (time
/// spent validating included), so a campaign resumed across machines says how long it has run.
/// Shipped weights leave it out: they are named by their bytes, which the same command and seed
/// must reproduce on any run.
public enum TrainingClock {
    public static let key = "training_seconds"

    /// The seconds `metadata` records, 0 when it does not say.
    public static func seconds(in metadata: [String: String]) -> Double {
        metadata[key].flatMap(Double.init) ?? 0
    }
}

/// What a run reports after every step: where it is, how fast it goes, and the trainer's own
/// figures for the step (a loss, bits per token...).
public struct TrainingProgress<Figures> {
    public var step: Int
    public var totalSteps: Int
    public var figures: Figures
    public var stepsPerSecond: Double
    public var secondsLeft: Double
}

/// A model's trainer. It knows its model: how to draw a batch and take one step on it, what
/// validation measures, what a checkpoint records. The loop (`run`), the schedule, checkpoints on
/// a timer and at the end, and resuming are written once, here, for all of them.
public protocol Trainer: AnyObject {
    /// What batches are drawn from, and what validation reads.
    associatedtype TrainingData
    associatedtype ValidationData
    /// What one step reports, and what validation measures.
    associatedtype Figures
    associatedtype Validation

    /// The options, the optimizer, the step, the RNG and the run's metadata.
    var state: TrainingState { get }
    /// What a checkpoint records beside the tensors: the run's metadata, the `kind` and the
    /// model's `config` (`checkpointMetadata(kind:config:adding:)`).
    var checkpointMetadata: [String: String] { get }

    /// Draws a batch from `data` with `state.rng`, takes one optimisation step on it and
    /// returns its figures.
    func trainStep(on data: TrainingData) -> Figures
    func validate(_ data: ValidationData) -> Validation
    /// Throws unless a checkpoint with this metadata can continue into this trainer's model.
    func checkResumable(_ checkpoint: [String: String], path: String) throws
}

extension Trainer {
    public var step: Int { state.step }
    public var options: TrainingOptions { state.options }
    /// What the run adds to its checkpoints and exported weights (the tokenizer whose tokens it
    /// learns from, its lineage).
    public var metadata: [String: String] {
        get { state.metadata }
        set { state.metadata = newValue }
    }

    /// The run's metadata with the checkpoint's `kind`, the model's `config` and `adding`.
    public func checkpointMetadata(kind: String, config: String, adding more: [String: String] = [:]) -> [String: String] {
        metadata.merging(more.merging(["kind": kind, "config": config]) { _, own in own }) { _, own in own }
    }

    /// A checkpoint of another kind of model cannot be resumed.
    public func checkResumable(_ checkpoint: [String: String], path: String) throws {
        let expected = checkpointMetadata["kind"] ?? "?"
        guard checkpoint["kind"] == expected else { throw ModelError.wrongKind(found: checkpoint["kind"], expected: expected) }
    }

    /// Continues from a checkpoint written by `saveCheckpoint`; returns its metadata.
    @discardableResult
    public func resume(from path: String) throws -> [String: String] {
        let header = try SafeTensors.read([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))).metadata
        try checkResumable(header, path: path)
        return try state.resume(from: path)
    }

    /// What exported weights record: `metadata` but the clock, the steps trained and the seed.
    public var exportMetadata: [String: String] {
        metadata.filter { $0.key != TrainingClock.key }.merging(["steps": String(step), "seed": String(options.seed)]) { _, new in new }
    }

    public func saveCheckpoint() throws {
        try state.save(metadata: checkpointMetadata)
    }

    /// Trains until `options.lastStep` or until `shouldStop` says so (Ctrl-C), validating every
    /// `options.validateEvery` steps and at the last, saving a checkpoint every
    /// `options.checkpointSeconds` and when it returns.
    public func run(data: TrainingData, validation: ValidationData? = nil,
                    shouldStop: () -> Bool = { false },
                    progress: (TrainingProgress<Figures>) -> Void = { _ in },
                    validated: (Int, Validation) -> Void = { _, _ in }) throws {
        let first = step, t0 = Date(), last = options.lastStep
        let before = TrainingClock.seconds(in: metadata)
        func stamp() { metadata[TrainingClock.key] = String(Int((before + Date().timeIntervalSince(t0)).rounded())) }
        while step < last && !shouldStop() {
            let figures = trainStep(on: data)
            let rate = Double(step - first) / max(Date().timeIntervalSince(t0), 1e-9)
            progress(TrainingProgress(step: step, totalSteps: options.steps, figures: figures, stepsPerSecond: rate,
                                      secondsLeft: Double(last - step) / max(rate, 1e-9)))
            if let validation, step % options.validateEvery == 0 || step == last { validated(step, validate(validation)) }
            if state.saveIsDue { stamp(); try saveCheckpoint() }
        }
        stamp()
        try saveCheckpoint()
    }

    /// One optimizer update at the schedule's rate for this step, then the step count moves on.
    func update() {
        state.optimizer.update(learningRate: state.learningRate)
        state.step += 1
    }
}
