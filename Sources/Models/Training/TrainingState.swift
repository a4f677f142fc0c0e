import Foundation
import NN

/// What a training loop carries from step to step and keeps in its checkpoints: the optimizer's
/// moments, the step and the RNG. One type for every trainer, so that saving on a timer, at the
/// end and on Ctrl-C, and resuming exactly where a save left off, are written once.
public final class TrainingState {
    public let store: ParameterStore
    public let optimizer: Adam
    public var step = 0
    public var rng: RNG
    public let checkpointPath: String
    public let checkpointSeconds: Double
    private var lastSave = Date()

    /// AdamW over `store` (gradient norm clipped at 1), the token models' optimizer, and an RNG
    /// from `seed` for data order and noise.
    public init(store: ParameterStore, learningRate: Float, weightDecay: Float, seed: UInt64,
                checkpointPath: String, checkpointSeconds: Double) {
        self.store = store
        optimizer = Adam(store, learningRate: learningRate, weightDecay: weightDecay, clipNorm: 1)
        rng = RNG(seed: seed)
        self.checkpointPath = checkpointPath
        self.checkpointSeconds = checkpointSeconds
    }

    /// Continues from a checkpoint written by `save`; returns its metadata.
    public func resume(from path: String) throws -> [String: String] {
        let ck = try Checkpoint.load(from: path, store: store, optimizer: optimizer)
        step = ck.step
        rng = RNG(words: ck.rngWords)
        return ck.metadata
    }

    /// Saves a checkpoint whose metadata names its `kind` and model `config` (what `resume`'s
    /// callers check) beside `metadata`.
    public func save(kind: String, config: String, metadata: [String: String]) throws {
        var meta = metadata
        meta["kind"] = kind
        meta["config"] = config
        try Checkpoint.save(to: checkpointPath, store: store, optimizer: optimizer, step: step, rng: rng, metadata: meta)
        lastSave = Date()
    }

    /// Whether `checkpointSeconds` have passed since the last save.
    public var saveIsDue: Bool { Date().timeIntervalSince(lastSave) >= checkpointSeconds }
}
