import XCTest
import Models
import NN

/// The entropy coder's context prior: the copy gate's gradients against finite differences, the
/// fixed-order scorer against the training forward, and the copy gate learning what it is for.
final class ContextPriorTests: XCTestCase {
    static let config = ContextPriorConfig(codebookSize: 12, levels: 2, embedDim: 3, hidden: 10, copyGate: true)

    /// A grid whose tokens repeat their left neighbour most of the time, level 2 tied to level 1.
    func repetitiveGrid(width w: Int, height h: Int, k: Int, seed: UInt64) -> LeveledTokenGrid {
        var rng = RNG(seed: seed)
        var level0: [Int32] = [], level1: [Int32] = []
        var current: Int32 = 0
        for _ in 0..<(w * h) {
            if rng.int(below: 4) == 0 { current = Int32(rng.int(below: k)) }
            level0.append(current)
            level1.append((current * 5 + Int32(rng.int(below: 2))) % Int32(k))
        }
        return LeveledTokenGrid(width: w, height: h, levels: [level0, level1])
    }

    func contexts(_ grid: LeveledTokenGrid, level l: Int, k: Int) -> (contexts: [Int32], targets: [Int32]) {
        let positions = Array(0..<(grid.width * grid.height))
        let c = ContextTemplate.contexts(level: l, levels: grid.levels, width: grid.width, height: grid.height,
                                         positions: positions, codebookSize: k)
        return (c, positions.map { grid.levels[l][$0] })
    }

    func testCopyGateGradientsMatchFiniteDifferences() throws {
        let prior = ContextPrior(config: Self.config, seed: 2)
        var rng = RNG(seed: 5)
        for p in prior.store.params { for i in 0..<p.count { prior.store.value(p)[i] = rng.normal() * 0.4 } }
        // Hidden units well inside ReLU's active side: no kink for the differences to straddle
        // (ReLU's own gradient is checked in NNTests).
        for p in prior.store.params where p.name.hasSuffix("hidden.bias") {
            for i in 0..<p.count { prior.store.value(p)[i] = 4 }
        }
        let grid = repetitiveGrid(width: 5, height: 4, k: 12, seed: 1)
        for l in 0..<2 {
            let (ctx, targets) = contexts(grid, level: l, k: 12)
            let loss = { () -> Double in
                Double(crossEntropyLoss(prior.forward(level: l, contexts: ctx, rows: targets.count), targets))
            }
            prior.store.zeroGrads()
            let logits = prior.forward(level: l, contexts: ctx, rows: targets.count)
            let dlogits = Tensor(logits.shape)
            _ = crossEntropyLoss(logits, targets, dlogits: dlogits)
            prior.backward(level: l, dlogits)
            for name in ["level\(l).copy.weight", "level\(l).copy.bias", "level\(l).hidden.weight", "level\(l).slots.weight"] {
                let p = try XCTUnwrap(prior.store.params.first { $0.name == name }, name)
                let analytic = Array(UnsafeBufferPointer(start: prior.store.grad(p), count: p.count))
                var diff = 0.0, norm = 0.0
                for i in 0..<p.count {
                    let v = prior.store.value(p), old = v[i]
                    v[i] = old + 1e-2
                    let plus = loss()
                    v[i] = old - 1e-2
                    let minus = loss()
                    v[i] = old
                    let numeric = (plus - minus) / 2e-2
                    diff += (Double(analytic[i]) - numeric) * (Double(analytic[i]) - numeric)
                    norm = max(norm, Double(analytic[i]) * Double(analytic[i]), numeric * numeric)
                }
                XCTAssertGreaterThan(norm, 1e-10, "\(name): zero gradient proves nothing")
                XCTAssertLessThan(diff.squareRoot() / norm.squareRoot(), 0.05, "\(name): analytic and numeric gradients differ")
            }
        }
    }

    func testScorerGivesTheTrainingForwardsLogits() {
        let prior = ContextPrior(config: Self.config, seed: 3)
        var rng = RNG(seed: 6)
        for p in prior.store.params { for i in 0..<p.count { prior.store.value(p)[i] = rng.normal() * 0.4 } }
        let scorer = prior.scorer()
        let grid = repetitiveGrid(width: 7, height: 6, k: 12, seed: 2)
        for l in 0..<2 {
            let (ctx, targets) = contexts(grid, level: l, k: 12)
            let reference = prior.forward(level: l, contexts: ctx, rows: targets.count).array
            var fixed = [Float](repeating: 0, count: reference.count)
            fixed.withUnsafeMutableBufferPointer { scorer.logits(level: l, contexts: ctx, rows: targets.count, into: $0.baseAddress!) }
            let worst = zip(reference, fixed).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-4, "level \(l): scorer and forward differ by \(worst)")
        }
    }

    /// On grids of runs, training with the copy gate ends lower than without it: copying the left
    /// neighbour is one weight for every token, not one per token.
    func testCopyGateHelpsOnRepetitiveGrids() throws {
        func trainedBits(copyGate: Bool) throws -> Double {
            let config = ContextPriorConfig(codebookSize: 64, levels: 1, embedDim: 4, hidden: 16, copyGate: copyGate)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("ctx-\(UUID().uuidString).safetensors").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            var options = ContextPriorTrainer.defaults(checkpointPath: path)
            options.steps = 150
            options.batchSize = 256
            options.warmupSteps = 10
            let trainer = ContextPriorTrainer(model: ContextPrior(config: config, seed: 1), options: options)
            let train = (0..<4).map { repetitiveGrid(width: 24, height: 16, k: 64, seed: UInt64(10 + $0)) }
            try trainer.run(data: train)
            return trainer.model.bitsPerToken([repetitiveGrid(width: 24, height: 16, k: 64, seed: 99)])[0]
        }
        let with = try trainedBits(copyGate: true), without = try trainedBits(copyGate: false)
        XCTAssertLessThan(with, without - 0.2, "copy gate \(with) bits/token, without \(without)")
    }

    func testFilesWithoutTheCopyGateFieldLoadWithoutIt() throws {
        let old = #"{"codebookSize":1024,"levels":4,"embedDim":16,"hidden":192}"#
        XCTAssertFalse(try ContextPriorConfig(json: old).copyGate)
        XCTAssertTrue(try ContextPriorConfig(json: ContextPriorConfig().json).copyGate)
    }
}
