import XCTest
import Models
import NN

/// The priors over token grids: causality, cached sampling against the full forward, determinism,
/// and learning a pattern.
final class PriorTests: XCTestCase {
    static let pixelConfig = PriorConfig(kind: .pixelcnn, codebookSize: 16, width: 8, layers: 3, kernel: 3)
    static let transformerConfig = PriorConfig(kind: .transformer, codebookSize: 16, width: 16, layers: 2, heads: 2, maxRows: 6, maxCols: 5)

    func randomGrid(_ n: Int, _ rng: inout RNG, k: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.int(below: k)) } }

    /// Changing token j changes the logits at positions > j only, and at some of them.
    func checkCausality(_ prior: any TokenPrior, h: Int, w: Int) {
        var rng = RNG(seed: 3)
        let k = prior.config.codebookSize
        let base = randomGrid(h * w, &rng, k: k)
        let a = prior.forward(base, batch: 1, height: h, width: w).array
        for j in [0, w / 2, w + 1, h * w / 2, h * w - 1] {
            var changed = base
            changed[j] = (changed[j] + 1 + Int32(rng.int(below: k - 1))) % Int32(k)
            let b = prior.forward(changed, batch: 1, height: h, width: w).array
            var later = 0
            for t in 0..<(h * w) {
                let differs = (0..<k).contains { abs(a[t * k + $0] - b[t * k + $0]) > 1e-6 }
                if t <= j { XCTAssertFalse(differs, "\(prior.config.kind): changing token \(j) changed the logits at \(t)") }
                if t > j && differs { later += 1 }
            }
            if j < h * w - 1 { XCTAssertGreaterThan(later, 0, "\(prior.config.kind): token \(j) influences nothing after it") }
        }
    }

    func testPixelCNNIsCausal() {
        let prior = GatedPixelCNN(config: Self.pixelConfig, seed: 1)
        randomizeWeights(prior.store)
        checkCausality(prior, h: 7, w: 6)
    }

    func testPixelCNNHasNoBlindSpot() {
        // The position above-right of a token (and the whole row above) must reach it: the
        // plain causal mask stack misses these.
        let prior = GatedPixelCNN(config: Self.pixelConfig, seed: 1)
        randomizeWeights(prior.store)
        var rng = RNG(seed: 4)
        let (h, w, k) = (6, 8, 16)
        let base = randomGrid(h * w, &rng, k: k)
        let a = prior.forward(base, batch: 1, height: h, width: w).array
        let target = 3 * w + 2
        for j in [2 * w + 3, 2 * w + 5, 1 * w + 4] {
            var changed = base
            changed[j] = (changed[j] + 5) % Int32(k)
            let b = prior.forward(changed, batch: 1, height: h, width: w).array
            XCTAssertTrue((0..<k).contains { abs(a[target * k + $0] - b[target * k + $0]) > 1e-6 }, "token \(j) does not reach \(target)")
        }
    }

    func testTransformerIsCausal() {
        let prior = TokenTransformer(config: Self.transformerConfig, seed: 1)
        checkCausality(prior, h: 6, w: 5)
    }

    func testTransformerCachedStepsEqualForward() {
        let prior = TokenTransformer(config: Self.transformerConfig, seed: 2)
        var rng = RNG(seed: 5)
        let (n, h, w, k) = (2, 5, 4, 16)
        let tokens = randomGrid(n * h * w, &rng, k: k)
        let full = prior.forward(tokens, batch: n, height: h, width: w).array
        let caches = prior.makeCaches(batch: n, capacity: h * w)
        for t in 0..<(h * w) {
            let previous = (0..<n).map { t == 0 ? prior.startToken : tokens[$0 * h * w + t - 1] }
            let logits = prior.step(previous: previous, position: t, width: w, caches: caches)
            for b in 0..<n {
                for c in 0..<k {
                    XCTAssertEqual(logits.data[b * k + c], full[(b * h * w + t) * k + c], accuracy: 1e-4, "position \(t)")
                }
            }
        }
    }

    func testPixelCNNBandEqualsWholeGrid() {
        // Sampling runs the network on the receptiveRows rows above a position only.
        let prior = GatedPixelCNN(config: Self.pixelConfig, seed: 3)
        randomizeWeights(prior.store)
        var rng = RNG(seed: 6)
        let (h, w, k) = (12, 5, 16)
        let tokens = randomGrid(h * w, &rng, k: k)
        let full = prior.forward(tokens, batch: 1, height: h, width: w).array
        let y = 10, y0 = y - prior.receptiveRows
        let band = Array(tokens[(y0 * w)..<((y + 1) * w)])
        let part = prior.forward(band, batch: 1, height: y - y0 + 1, width: w).array
        for x in 0..<w {
            for c in 0..<k {
                XCTAssertEqual(part[((y - y0) * w + x) * k + c], full[(y * w + x) * k + c], accuracy: 1e-4)
            }
        }
    }

    func testSamplingIsDeterministicForASeed() {
        for prior in [Priors.make(Self.pixelConfig, seed: 1), Priors.make(PriorConfig(kind: .transformer, codebookSize: 16, width: 16, layers: 1, heads: 2, maxRows: 4, maxCols: 4), seed: 1),
                      Priors.make(PriorConfig(kind: .masked, codebookSize: 16, width: 16, layers: 1, heads: 2, maxRows: 4, maxCols: 4), seed: 1)] {
            func draw(_ seed: UInt64, _ options: SamplingOptions) -> [Int32] {
                var tokens = [Int32](repeating: 0, count: 2 * 16)
                var rngs = [RNG(seed: seed), RNG(seed: seed &+ 1)]
                prior.sample(&tokens, batch: 2, height: 4, width: 4, resample: Array(repeating: true, count: 16), options: options, rngs: &rngs)
                return tokens
            }
            let options = SamplingOptions(temperature: 1.5, topK: 12, topP: 0.95)
            XCTAssertEqual(draw(7, options), draw(7, options))
            XCTAssertNotEqual(draw(7, options), draw(8, options))
            XCTAssertNotEqual(draw(7, options), draw(7, SamplingOptions(temperature: 1.5)))
        }
    }

    func testSamplingKeepsFixedTokens() {
        for config in [Self.pixelConfig, PriorConfig(kind: .masked, codebookSize: 16, width: 16, layers: 1, heads: 2, maxRows: 4, maxCols: 5)] {
            let prior = Priors.make(config, seed: 1)
            var rng = RNG(seed: 9)
            let original = randomGrid(20, &rng, k: 16)
            var tokens = original
            var rngs = [RNG(seed: 1)]
            let resample = (0..<20).map { $0 % 3 == 0 }
            prior.sample(&tokens, batch: 1, height: 4, width: 5, resample: resample, options: SamplingOptions(), rngs: &rngs)
            for t in 0..<20 where !resample[t] { XCTAssertEqual(tokens[t], original[t]) }
            XCTAssertTrue(tokens.allSatisfy { (0..<16).contains($0) }, "\(config.kind): every drawn token is a code")
        }
    }

    func testTopKAndTopPRestrictCandidates() {
        let logits: [Float] = [0, 3, 1, 2, 3, -1]
        logits.withUnsafeBufferPointer { p in
            let all = TokenSampler.candidates(p.baseAddress!, count: 6, options: SamplingOptions())
            XCTAssertEqual(all.tokens, [1, 4, 3, 2, 0, 5])          // ties keep the lower index first
            XCTAssertEqual(all.probabilities.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(TokenSampler.candidates(p.baseAddress!, count: 6, options: SamplingOptions(topK: 2)).tokens, [1, 4])
            let nucleus = TokenSampler.candidates(p.baseAddress!, count: 6, options: SamplingOptions(topP: 0.7))
            XCTAssertEqual(nucleus.tokens, [1, 4])                    // 0.37 + 0.37 >= 0.7
            XCTAssertEqual(TokenSampler.candidates(p.baseAddress!, count: 6, options: SamplingOptions(temperature: 0)).tokens, [1])
        }
    }

    /// A diagonal-stripe pattern with a random phase per grid: each token is predictable from its
    /// left neighbour, except the first. Trains `config` on 6x6 crops of it; returns the model and
    /// its validation bits per token before and after.
    func trainOnStripes(_ config: PriorConfig, steps: Int, lr: Float) throws -> (model: any TokenPrior, before: Double, after: Double) {
        let model = Priors.make(config, seed: 1)
        var options = PriorTrainer.defaults(checkpointPath: NSTemporaryDirectory() + "prior-test-\(UUID().uuidString).ckpt")
        options.steps = steps
        options.batchSize = 8
        options.learningRate = lr
        options.warmupSteps = 20
        let trainer = PriorTrainer(model: model, options: options, cropSize: 6)
        var rng = RNG(seed: 11)
        let grids = (0..<8).map { _ -> TokenGridSample in
            let phase = rng.int(below: 16)
            return TokenGridSample(width: 10, height: 10, tokens: (0..<100).map { Int32((phase + $0 % 10 + 3 * ($0 / 10)) % 16) })
        }
        let validation = TokenCropSource.tiles(of: grids, size: 6, limit: 8)
        let before = trainer.validate(validation)
        try trainer.run(data: TokenCropSource(grids: grids, size: 6))
        try? FileManager.default.removeItem(atPath: options.checkpointPath)
        return (model, before, trainer.validate(validation))
    }

    /// A trained prior must get far below log2(K) = 4 bits.
    func checkLearnsPattern(_ config: PriorConfig, steps: Int, lr: Float) throws {
        let (_, before, after) = try trainOnStripes(config, steps: steps, lr: lr)
        XCTAssertGreaterThan(before, 3.5, "\(config.kind) starts near log2(K)")
        XCTAssertLessThan(after, 0.5, "\(config.kind): \(before) -> \(after) bits per token")
    }

    func testTinyPixelCNNLearnsAPattern() throws {
        try checkLearnsPattern(PriorConfig(kind: .pixelcnn, codebookSize: 16, width: 16, layers: 2, kernel: 3), steps: 200, lr: 3e-3)
    }

    func testTinyTransformerLearnsAPattern() throws {
        try checkLearnsPattern(PriorConfig(kind: .transformer, codebookSize: 16, width: 32, layers: 2, heads: 2, maxRows: 6, maxCols: 6), steps: 300, lr: 3e-3)
    }

    /// Changing any token changes the masked prior's logits at every other position: it sees all sides.
    func testMaskedTransformerSeesEverySide() {
        let prior = Priors.make(PriorConfig(kind: .masked, codebookSize: 16, width: 16, layers: 1, heads: 2, maxRows: 4, maxCols: 5), seed: 2)
        var rng = RNG(seed: 4)
        let base = randomGrid(20, &rng, k: 16)
        let a = prior.forward(base, batch: 1, height: 4, width: 5).array
        var changed = base
        changed[19] = (changed[19] + 1) % 16          // the last position
        let b = prior.forward(changed, batch: 1, height: 4, width: 5).array
        for t in 0..<19 {
            XCTAssertTrue((0..<16).contains { abs(a[t * 16 + $0] - b[t * 16 + $0]) > 1e-6 }, "position \(t) does not see the last one")
        }
    }

    /// The masked prior learns the stripes (its bound falls far below log2(K) = 4 bits; 0.11 is
    /// perfect: 4 bits for the phase when nothing is visible, which is 1 draw in 36) and then fills a
    /// hole in them exactly at temperature 0, from every side, keeping every known token.
    func testTinyMaskedTransformerLearnsAndFillsAPattern() throws {
        let config = PriorConfig(kind: .masked, codebookSize: 16, width: 32, layers: 2, heads: 2, maxRows: 6, maxCols: 6)
        let (model, before, after) = try trainOnStripes(config, steps: 600, lr: 3e-3)
        XCTAssertGreaterThan(before, 3.5)
        XCTAssertLessThan(after, 1.5, "\(before) -> \(after) bits per token")
        let truth: [Int32] = (0..<36).map { (t: Int) -> Int32 in
            let value: Int = (5 + t % 6 + 3 * (t / 6)) % 16
            return Int32(value)
        }
        // A 2x3 hole in the middle, and the left column but its corners: only the right side tells the latter.
        let resample: [Bool] = (0..<36).map { t in
            let (row, col) = (t / 6, t % 6)
            return (col == 0 && row >= 1 && row <= 4) || (row >= 2 && row <= 3 && col >= 2 && col <= 4)
        }
        var tokens: [Int32] = (0..<36).map { t in resample[t] ? 0 : truth[t] }
        var rngs = [RNG(seed: 1)]
        model.sample(&tokens, batch: 1, height: 6, width: 6, resample: resample, options: SamplingOptions(temperature: 0, steps: 4), rngs: &rngs)
        XCTAssertEqual(tokens, truth, "\(before) -> \(after) bits per token")
    }

    func testWeightsRoundTripAndCheckpointResume() throws {
        let model = Priors.make(Self.transformerConfig, seed: 4)
        let bytes = Priors.exportWeights(model, name: "t", metadata: ["tokenizer_digest": "ab"])
        let (loaded, meta) = try Priors.load(weights: bytes)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(meta["tokenizer_digest"], "ab")
        XCTAssertThrowsError(try Priors.load(weights: SafeTensors.write([], metadata: ["kind": "vqz-tokenizer"]))) { e in
            XCTAssertEqual(e as? ModelError, .wrongKind(found: "vqz-tokenizer", expected: Priors.weightsKind))
        }
    }

    /// A trained model scores the same after export and load, and after a checkpoint round trip.
    func testTrainedModelScoresTheSameAfterLoading() throws {
        for config in [PriorConfig(kind: .pixelcnn, codebookSize: 16, width: 16, layers: 2),
                       PriorConfig(kind: .transformer, codebookSize: 16, width: 16, layers: 1, heads: 2, maxRows: 6, maxCols: 6),
                       PriorConfig(kind: .masked, codebookSize: 16, width: 16, layers: 1, heads: 2, maxRows: 6, maxCols: 6)] {
            let model = Priors.make(config, seed: 1)
            var options = PriorTrainer.defaults(checkpointPath: NSTemporaryDirectory() + "prior-load-\(UUID().uuidString).ckpt")
            options.steps = 40
            options.learningRate = 3e-3
            let trainer = PriorTrainer(model: model, options: options, cropSize: 6)
            var rng = RNG(seed: 2)
            let grids = (0..<4).map { _ in TokenGridSample(width: 8, height: 8, tokens: (0..<64).map { Int32(($0 / 3 + rng.int(below: 2)) % 16) }) }
            try trainer.run(data: TokenCropSource(grids: grids, size: 6))
            let crops = TokenCropSource.tiles(of: grids, size: 6, limit: 4)
            let trained = model.bitsPerToken(crops: crops, size: 6)
            let exported = try Priors.load(weights: Priors.exportWeights(model, name: "x")).prior.bitsPerToken(crops: crops, size: 6)
            let fromCheckpoint = try Priors.load(weights: [UInt8](Data(contentsOf: URL(fileURLWithPath: options.checkpointPath)))).prior
                .bitsPerToken(crops: crops, size: 6)
            try? FileManager.default.removeItem(atPath: options.checkpointPath)
            XCTAssertEqual(fromCheckpoint, trained, accuracy: 1e-5, "\(config.kind)")
            XCTAssertEqual(exported, trained, accuracy: 0.01, "\(config.kind) (float16 weights)")
        }
    }

    /// Random weights everywhere (masked ones stay zero): a freshly initialised model has zero
    /// biases and small layers that could hide a leak.
    func randomizeWeights(_ store: ParameterStore) {
        var rng = RNG(seed: 99)
        let masked = store.params.filter { $0.name.contains("conv") && ($0.name.hasPrefix("layer")) && $0.name.hasSuffix(".weight") }
        for p in store.params {
            let v = store.value(p)
            for i in 0..<p.count where !masked.contains(where: { $0.name == p.name }) || v[i] != 0 { v[i] = rng.normal() * 0.3 }
        }
    }
}
