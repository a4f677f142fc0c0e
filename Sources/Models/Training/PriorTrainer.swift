import Foundation
import NN

/// One token grid (level-1 tokens of one picture at one scale), row-major.
public struct TokenGridSample: Sendable, Equatable {
    public var width: Int, height: Int
    public var tokens: [Int32]      // [height, width]

    public init(width: Int, height: Int, tokens: [Int32]) {
        precondition(tokens.count == width * height, "TokenGridSample: \(tokens.count) tokens for \(width)x\(height)")
        self.width = width
        self.height = height
        self.tokens = tokens
    }
}

/// Random square crops of token grids. No flips: a token's meaning is not mirror-symmetric
/// (the mirrored patch has another code, if any), so a flipped grid is not a grid the tokenizer makes.
public struct TokenCropSource: Sendable {
    public let grids: [TokenGridSample]
    private let cumulative: [Double]

    /// Grids smaller than `size` on a side are left out; throws nothing, but `isEmpty` tells.
    public init(grids all: [TokenGridSample], size: Int) {
        grids = all.filter { $0.width >= size && $0.height >= size }
        var acc = 0.0
        // Drawn in proportion to the crops a grid offers.
        cumulative = grids.map { acc += Double(($0.width - size + 1) * ($0.height - size + 1)); return acc }
    }

    public var isEmpty: Bool { grids.isEmpty }

    /// count crops [count, size, size].
    public func batch(count: Int, size: Int, rng: inout RNG) -> [Int32] {
        var out = [Int32](repeating: 0, count: count * size * size)
        for n in 0..<count {
            let u = Double(rng.uniform()) * cumulative.last!
            let g = grids[cumulative.firstIndex { $0 > u } ?? grids.count - 1]
            let x0 = rng.int(below: g.width - size + 1), y0 = rng.int(below: g.height - size + 1)
            for y in 0..<size {
                for x in 0..<size { out[(n * size + y) * size + x] = g.tokens[(y0 + y) * g.width + x0 + x] }
            }
        }
        return out
    }

    /// Non-overlapping crops in raster order over every grid, at most `limit` spread evenly:
    /// the fixed validation set.
    public static func tiles(of grids: [TokenGridSample], size: Int, limit: Int) -> [Int32] {
        var all: [[Int32]] = []
        for g in grids {
            for ty in 0..<(g.height / size) {
                for tx in 0..<(g.width / size) {
                    var crop = [Int32](repeating: 0, count: size * size)
                    for y in 0..<size { for x in 0..<size { crop[y * size + x] = g.tokens[(ty * size + y) * g.width + tx * size + x] } }
                    all.append(crop)
                }
            }
        }
        if all.count > limit {
            let stride = Double(all.count) / Double(limit)
            all = (0..<limit).map { all[Int(Double($0) * stride)] }
        }
        return all.flatMap { $0 }
    }
}

/// Trains a prior by its objective (next-token or hidden-token cross-entropy) on random `cropSize` x `cropSize` crops of token grids.
public final class PriorTrainer: Trainer {
    public let model: any TokenPrior
    public let cropSize: Int
    public let state: TrainingState

    /// `vqz train prior`'s defaults.
    public static func defaults(checkpointPath: String) -> TrainingOptions {
        TrainingOptions(checkpointPath: checkpointPath, steps: 3000, batchSize: 8, learningRate: 1e-3, warmupSteps: 100, validateEvery: 250)
    }

    public init(model: any TokenPrior, options: TrainingOptions, cropSize: Int = 16) {
        self.model = model
        self.cropSize = cropSize
        state = TrainingState(store: model.store, options: options, seedOffset: 0x9e10)
    }

    public var checkpointMetadata: [String: String] { checkpointMetadata(kind: Priors.checkpointKind, config: model.config.json) }

    /// Returns the batch's bits per token.
    public func trainStep(on data: TokenCropSource) -> Float {
        trainStep(data.batch(count: options.batchSize, size: cropSize, rng: &state.rng), batch: options.batchSize, size: cropSize)
    }

    /// One optimisation step on crops [N, S, S]; returns the batch's bits per scored token.
    @discardableResult
    public func trainStep(_ tokens: [Int32], batch n: Int, size s: Int) -> Float {
        model.store.zeroGrads()
        let bits = model.trainingLoss(tokens, batch: n, height: s, width: s, rng: &state.rng)
        update()
        return bits
    }

    /// Mean bits per token over crops [M, S, S] (S = the crop size).
    public func validate(_ crops: [Int32]) -> Double {
        model.bitsPerToken(crops: crops, size: cropSize)
    }
}

extension TokenPrior {
    /// Mean bits per token over crops [M, S, S], in batches of 8.
    public func bitsPerToken(crops: [Int32], size s: Int) -> Double {
        let per = s * s, m = crops.count / per
        var total = 0.0
        var b0 = 0
        while b0 < m {
            let b1 = min(m, b0 + 8)
            total += bitsPerToken(Array(crops[(b0 * per)..<(b1 * per)]), batch: b1 - b0, height: s, width: s) * Double(b1 - b0)
            b0 = b1
        }
        return total / Double(max(m, 1))
    }
}

/// Bits per token of the best context-free model of `tokens`: the entropy of their own histogram.
public func unigramEntropy(_ tokens: [Int32], codebookSize k: Int) -> Double {
    var hist = [Int](repeating: 0, count: k)
    for t in tokens { hist[Int(t)] += 1 }
    let n = Double(tokens.count)
    return hist.reduce(0.0) { acc, c in c == 0 ? acc : acc - Double(c) / n * log2(Double(c) / n) }
}
