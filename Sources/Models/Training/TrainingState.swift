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

    public init(store: ParameterStore, optimizer: Adam, rng: RNG, checkpointPath: String, checkpointSeconds: Double) {
        self.store = store
        self.optimizer = optimizer
        self.rng = rng
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

    public func save(metadata: [String: String]) throws {
        try Checkpoint.save(to: checkpointPath, store: store, optimizer: optimizer, step: step, rng: rng, metadata: metadata)
        lastSave = Date()
    }

    /// Whether `checkpointSeconds` have passed since the last save.
    public var saveIsDue: Bool { Date().timeIntervalSince(lastSave) >= checkpointSeconds }
}
