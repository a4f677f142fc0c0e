import Foundation
import NN

/// Trains a context prior by cross-entropy on random positions of whole-picture token grids
/// (`batchSize` positions a step, every level trained on the same ones). No crops: a position's
/// context is read from the full grid, edges included, exactly as the coder will see it.
public final class ContextPriorTrainer: Trainer {
    public let model: ContextPrior
    public let state: TrainingState

    /// `vqz train entropy`'s defaults.
    public static func defaults(checkpointPath: String) -> TrainingOptions {
        TrainingOptions(checkpointPath: checkpointPath, steps: 4000, batchSize: 512, learningRate: 2e-3, warmupSteps: 100, validateEvery: 500)
    }

    public init(model: ContextPrior, options: TrainingOptions) {
        self.model = model
        state = TrainingState(store: model.store, options: options, seedOffset: 0xc0de)
    }

    public var checkpointMetadata: [String: String] { checkpointMetadata(kind: ContextPrior.checkpointKind, config: model.config.json) }

    /// Positions drawn uniformly over all tokens of all grids; returns each level's bits per token on them.
    public func trainStep(on grids: [LeveledTokenGrid]) -> [Float] {
        precondition(!grids.isEmpty, "context prior training needs token grids")
        var cumulative: [Int] = []
        var total = 0
        for g in grids { total += g.width * g.height; cumulative.append(total) }
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
        return trainStep(grids, positions: positions)
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
        update()
        return bits
    }

    /// Each level's mean bits per token over every position of `grids`.
    public func validate(_ grids: [LeveledTokenGrid]) -> [Double] { model.bitsPerToken(grids) }
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
