import Foundation
import NN

/// Options of `vqz train prior --kind context`.
public struct ContextPriorTrainingOptions: Sendable {
    public var steps = 4000
    /// Positions drawn per step; every level is trained on the same positions.
    public var batchSize = 512
    public var learningRate: Float = 2e-3
    public var warmupSteps = 100
    public var weightDecay: Float = 0.01
    public var seed: UInt64 = 1
    public var checkpointPath: String
    public var checkpointSeconds: Double = 300
    public var validateEvery = 500

    public init(checkpointPath: String) { self.checkpointPath = checkpointPath }
}

public struct ContextPriorProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var bitsPerToken: [Float]    // per level, training batch
    public var stepsPerSecond: Double
    public var secondsLeft: Double
}

/// Trains a context prior by cross-entropy on random positions of whole-picture token grids.
/// No crops: a position's context is read from the full grid, edges included, exactly as the
/// coder will see it.
public final class ContextPriorTrainer {
    public let model: ContextPrior
    public let options: ContextPriorTrainingOptions
    public let state: TrainingState
    public var optimizer: Adam { state.optimizer }
    /// Saved in every checkpoint (the tokenizer the tokens came from).
    public var metadata: [String: String] = [:]
    public var step: Int { state.step }

    public init(model: ContextPrior, options: ContextPriorTrainingOptions) {
        self.model = model
        self.options = options
        state = TrainingState(store: model.store, learningRate: options.learningRate, weightDecay: options.weightDecay,
                              seed: options.seed &+ 0xc0de,
                              checkpointPath: options.checkpointPath, checkpointSeconds: options.checkpointSeconds)
    }

    @discardableResult
    public func resume(from path: String) throws -> [String: String] {
        try state.resume(from: path)
    }

    public func saveCheckpoint() throws {
        try state.save(kind: ContextPrior.checkpointKind, config: model.config.json, metadata: metadata)
    }

    /// One optimisation step on `positions` (grid index, flat position) of `grids`; returns
    /// each level's bits per token on them.
    @discardableResult
    public func trainStep(_ grids: [LeveledTokenGrid], positions: [(grid: Int, position: Int)]) -> [Float] {
        model.store.zeroGrads()
        let k = model.config.codebookSize
        var bits: [Float] = []
        for l in 0..<model.config.levels {
            var contexts: [Int32] = [], targets: [Int32] = []
            contexts.reserveCapacity(positions.count * ContextTemplate.slots(level: l))
            for (g, p) in positions {
                let grid = grids[g]
                contexts += ContextTemplate.contexts(level: l, levels: grid.levels, width: grid.width, height: grid.height,
                                                     positions: [p], codebookSize: k)
                targets.append(grid.levels[l][p])
            }
            let logits = model.forward(level: l, contexts: contexts, rows: positions.count)
            let dlogits = Tensor(logits.shape)
            let loss = crossEntropyLoss(logits, targets, dlogits: dlogits)
            // Every level's mean enters the total loss with weight 1.
            model.backward(level: l, dlogits)
            bits.append(loss / Float(M_LN2))
        }
        let lr = cosineSchedule(step: step, total: options.steps, warmup: options.warmupSteps, peak: options.learningRate)
        optimizer.update(learningRate: lr)
        state.step += 1
        return bits
    }

    /// Runs until `options.steps` or until `shouldStop` says so; checkpoints on a timer and at the end.
    public func run(grids: [LeveledTokenGrid], validation: [LeveledTokenGrid] = [],
                    shouldStop: () -> Bool = { false },
                    progress: (ContextPriorProgress) -> Void = { _ in },
                    validated: (Int, [Double]) -> Void = { _, _ in }) throws {
        precondition(!grids.isEmpty, "context prior training needs token grids")
        var cumulative: [Int] = []
        var total = 0
        for g in grids { total += g.width * g.height; cumulative.append(total) }
        let first = step, t0 = Date()
        while step < options.steps && !shouldStop() {
            // Positions uniform over all tokens of all grids.
            var positions: [(grid: Int, position: Int)] = []
            for _ in 0..<options.batchSize {
                let u = state.rng.int(below: total)
                var lo = 0, hi = cumulative.count - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
                }
                positions.append((lo, u - (lo == 0 ? 0 : cumulative[lo - 1])))
            }
            let bits = trainStep(grids, positions: positions)
            let rate = Double(step - first) / max(Date().timeIntervalSince(t0), 1e-9)
            progress(ContextPriorProgress(step: step, totalSteps: options.steps, bitsPerToken: bits, stepsPerSecond: rate,
                                          secondsLeft: Double(options.steps - step) / max(rate, 1e-9)))
            if !validation.isEmpty && (step % options.validateEvery == 0 || step == options.steps) {
                validated(step, model.bitsPerToken(validation))
            }
            if state.saveIsDue { try saveCheckpoint() }
        }
        try saveCheckpoint()
    }
}

extension ContextPrior {
    /// Mean bits per token of each level over every position of `grids` (the training forward,
    /// in batches of 2048 positions).
    public func bitsPerToken(_ grids: [LeveledTokenGrid]) -> [Double] {
        var sums = [Double](repeating: 0, count: config.levels)
        var count = 0
        for grid in grids {
            let n = grid.width * grid.height
            count += n
            for l in 0..<min(config.levels, grid.levels.count) {
                var start = 0
                while start < n {
                    let positions = Array(start..<min(n, start + 2048))
                    let contexts = ContextTemplate.contexts(level: l, levels: grid.levels, width: grid.width, height: grid.height,
                                                            positions: positions, codebookSize: config.codebookSize)
                    let logits = forward(level: l, contexts: contexts, rows: positions.count)
                    let targets = positions.map { grid.levels[l][$0] }
                    sums[l] += Double(crossEntropyLoss(logits, targets)) * Double(positions.count) / log(2.0)
                    start += positions.count
                }
            }
        }
        return sums.map { $0 / Double(max(count, 1)) }
    }
}
