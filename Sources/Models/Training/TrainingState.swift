import Foundation
import NN

/// What a training run carries from step to step and keeps in its checkpoints: its options, the
/// optimizer's moments, the step and the RNG, and the metadata the run records. One type for
/// every trainer, so that saving on a timer, at the end and on Ctrl-C, and resuming exactly where
/// a save left off, are written once.
public final class TrainingState {
    public let options: TrainingOptions
    public let store: ParameterStore
    public let optimizer: Adam
    public var step = 0
    public var rng: RNG
    /// What the run adds to its checkpoints and exported weights (the tokenizer whose tokens it
    /// learns from, its lineage).
    public var metadata: [String: String] = [:]
    /// The step at which a fresh optimizer took over a schedule part-way (`continueSchedule(at:)`).
    private var rewarmedAt: Int?
    private var lastSave = Date()

    /// AdamW over `store` (gradient norm clipped at 1) at the options' rate and weight decay,
    /// moving the parameters `trains` picks; the RNG (data order, noise) starts from the options'
    /// seed plus `seedOffset`, each model's own, so two models trained with one seed draw apart.
    public init(store: ParameterStore, options: TrainingOptions, seedOffset: UInt64, trains: (Param) -> Bool = { _ in true }) {
        self.options = options
        self.store = store
        optimizer = Adam(store, learningRate: options.learningRate, weightDecay: options.weightDecay, clipNorm: 1, trains: trains)
        rng = RNG(seed: options.seed &+ seedOffset)
    }

    /// Continues from a checkpoint written by `save`; returns its metadata.
    public func resume(from path: String) throws -> [String: String] {
        let ck = try Checkpoint.load(from: path, store: store, optimizer: optimizer)
        step = ck.step
        rng = RNG(words: ck.rngWords)
        metadata[TrainingClock.key] = ck.metadata[TrainingClock.key]
        return ck.metadata
    }

    /// Takes up the options' schedule at `step` with this state's fresh optimizer, as when a
    /// campaign's checkpoint is lost and only its shipped weights remain. Adam's moments start
    /// empty, so the rate ramps up again over the warm-up from there rather than jumping to the
    /// schedule's; a checkpoint resumed later has filled moments and takes the schedule's rate.
    public func continueSchedule(at step: Int) {
        self.step = step
        rewarmedAt = step
    }

    /// The rate for the current step: the schedule's, ramped after `continueSchedule(at:)`.
    public var learningRate: Float {
        let scheduled = options.learningRate(at: step)
        guard let rewarmedAt, options.warmupSteps > 0 else { return scheduled }
        return scheduled * min(1, Float(step - rewarmedAt + 1) / Float(options.warmupSteps))
    }

    /// Saves a checkpoint to the options' path with `metadata` (the run's, its kind and model config).
    public func save(metadata: [String: String]) throws {
        try Checkpoint.save(to: options.checkpointPath, store: store, optimizer: optimizer, step: step, rng: rng, metadata: metadata)
        lastSave = Date()
    }

    /// Whether the options' seconds between checkpoints have passed since the last save (or the start).
    public var saveIsDue: Bool { Date().timeIntervalSince(lastSave) >= options.checkpointSeconds }
}
