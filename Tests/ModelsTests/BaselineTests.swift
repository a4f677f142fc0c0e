import Foundation
import XCTest
import Models
import NN

/// The VQ-VAE's baselines: the VAE's Gaussian latent (KL term and reparameterization) against
/// finite differences and its closed form, and the autoencoder / VAE training loop's determinism,
/// resume, and weights.
final class BaselineTests: XCTestCase {
    static let tiny = AutoencoderConfig(kind: .vae, channels: [4, 6], blocksPerLevel: 1, bottomBlocks: 1, codeDim: 3)

    func randomTensor(_ shape: [Int], _ rng: inout RNG, scale: Float = 1) -> Tensor {
        let t = Tensor(shape)
        for i in 0..<t.count { t.data[i] = rng.normal() * scale }
        return t
    }

    /// Relative error between an analytic gradient and central differences of `loss` on every
    /// float at `values` (the norm of the difference over the larger norm).
    func gradientError(values: UnsafeMutablePointer<Float>, analytic: [Float], eps: Float, loss: () -> Double) -> Double {
        var diff: Double = 0, normA: Double = 0, normN: Double = 0
        for i in 0..<analytic.count {
            let old = values[i]
            values[i] = old + eps
            let plus = loss()
            values[i] = old - eps
            let minus = loss()
            values[i] = old
            let numeric = (plus - minus) / (2 * Double(eps))
            diff += (Double(analytic[i]) - numeric) * (Double(analytic[i]) - numeric)
            normA += Double(analytic[i]) * Double(analytic[i])
            normN += numeric * numeric
        }
        return diff.squareRoot() / max(normA.squareRoot(), normN.squareRoot(), 1e-12)
    }

    /// L = sum(z * r) + w * KL with the noise held fixed: dL/dh from backward against central
    /// differences, for the reconstruction path alone, the KL alone, and both.
    func testGaussianLatentGradient() {
        for (label, weight, upstream) in [("reparameterization", Float(0), Float(1)), ("kl", 0.7, 0), ("both", 0.3, 1)] {
            var rng = RNG(seed: 21)
            let d = 5
            let layer = GaussianLatent(dim: d)
            layer.klWeight = weight
            let h = randomTensor([2, 3, 4, 2 * d], &rng, scale: 0.8)
            let z = layer.forward(h, rng: &rng)
            let r = randomTensor(z.shape, &rng)
            for i in 0..<r.count { r.data[i] *= upstream }
            let dh = layer.backward(r).array
            let loss = { () -> Double in
                let y = layer.forward(h)
                var s: Double = 0
                for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
                return s + Double(weight) * layer.kl
            }
            let err = gradientError(values: h.data, analytic: dh, eps: 1e-2, loss: loss)
            XCTAssertLessThan(err, 2e-3, "\(label): analytic and numeric gradients differ (relative error \(err))")
            XCTAssertGreaterThan(dh.map { abs($0) }.max() ?? 0, 1e-4, "\(label): zero gradient proves nothing")
        }
    }

    /// KL(N(mu, s^2) || N(0, 1)) = (mu^2 + s^2 - 1 - ln s^2) / 2 per element, summed; zero at the prior.
    func testKLClosedForm() {
        let layer = GaussianLatent(dim: 2)
        var rng = RNG(seed: 1)
        let h = Tensor([1, 1, 2, 4], [0, 0, 0, 0,   1.5, -0.5, log(0.25), log(4)])
        _ = layer.forward(h, rng: &rng)
        let expected = 0.5 * (1.5 * 1.5 + 0.25 - 1 - log(0.25)) + 0.5 * (0.25 + 4 - 1 - log(4.0))
        XCTAssertEqual(layer.kl, expected, accuracy: 1e-5)
        XCTAssertEqual(GaussianLatent.divergence(h, dim: 2), expected, accuracy: 1e-5)
    }

    /// z = mu + exp(lv / 2) * eps: over many draws its mean is mu and its deviation exp(lv / 2);
    /// infer returns mu; the same seed draws the same z.
    func testReparameterizationStatistics() {
        let (m, mu, lv): (Int, Float, Float) = (20_000, 0.8, log(0.09))
        let h = Tensor([m, 2])
        for i in 0..<m { (h.data[2 * i], h.data[2 * i + 1]) = (mu, lv) }
        let layer = GaussianLatent(dim: 1)
        var rng = RNG(seed: 4)
        let z = layer.forward(h, rng: &rng).array
        let mean = z.reduce(0, +) / Float(m)
        let sd = (z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(m)).squareRoot()
        XCTAssertEqual(mean, mu, accuracy: 0.01)
        XCTAssertEqual(sd, 0.3, accuracy: 0.01)
        XCTAssertEqual(layer.infer(h).array, [Float](repeating: mu, count: m))
        var again = RNG(seed: 4)
        XCTAssertEqual(GaussianLatent(dim: 1).forward(h, rng: &again).array, z)
    }

    /// A clamped log-variance passes no gradient and keeps exp finite.
    func testLogVarianceClamp() {
        let layer = GaussianLatent(dim: 1)
        layer.klWeight = 1
        var rng = RNG(seed: 2)
        let h = Tensor([1, 2], [0.1, 80])
        let z = layer.forward(h, rng: &rng)
        XCTAssertTrue(z[0].isFinite && layer.kl.isFinite)
        let dh = layer.backward(Tensor([1, 1], [1]))
        XCTAssertEqual(dh[1], 0)
    }

    /// Random crops of a fixed random picture: a BatchSource for the trainer without files.
    struct NoiseSource: BatchSource {
        func batch(count: Int, size: Int, rng: inout RNG) -> Tensor {
            let t = Tensor([count, size, size, 3])
            let phase = rng.uniform() * 6
            for i in 0..<t.count { t.data[i] = 0.4 * sinf(Float(i % (size * 3)) * 0.05 + phase + Float(i / (size * size * 3))) }
            return t
        }
    }

    func options(_ path: String, steps: Int) -> TrainingOptions {
        var o = TokenizerTrainer.defaults(checkpointPath: path)
        o.steps = steps
        o.batchSize = 2
        o.warmupSteps = 1
        o.learningRate = 1e-3
        o.checkpointSeconds = 1e9
        return o
    }

    func weights(_ model: Autoencoder) -> [Float] { Array(UnsafeBufferPointer(start: model.store.values, count: model.store.count)) }

    func checkpointPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("vqz-baseline-\(UUID().uuidString).safetensors").path
    }

    /// The same seed trains the same weights; 2 steps, a checkpoint and a resume for 2 more land
    /// exactly where 4 uninterrupted steps do (data order and noise come from the checkpointed RNG).
    func testTrainingIsDeterministicAndResumes() throws {
        for kind in AutoencoderKind.allCases {
            var config = Self.tiny
            config.kind = kind
            let path = checkpointPath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let straight = Autoencoder(config: config, seed: 3)
            try TokenizerTrainer(model: straight, options: options(path, steps: 4), cropSize: 8).run(data: NoiseSource())
            let twin = Autoencoder(config: config, seed: 3)
            try TokenizerTrainer(model: twin, options: options(path, steps: 4), cropSize: 8).run(data: NoiseSource())
            XCTAssertEqual(weights(straight), weights(twin), "\(kind): same seed, different weights")

            let first = Autoencoder(config: config, seed: 3)
            try TokenizerTrainer(model: first, options: options(path, steps: 2), cropSize: 8).run(data: NoiseSource())
            let resumed = Autoencoder(config: config, seed: 99)
            let trainer = TokenizerTrainer(model: resumed, options: options(path, steps: 4), cropSize: 8)
            try trainer.resume(from: path)
            XCTAssertEqual(trainer.step, 2)
            try trainer.run(data: NoiseSource())
            XCTAssertEqual(weights(resumed), weights(straight), "\(kind): resumed run differs from the uninterrupted one")
        }
    }

    /// --decoder-only: the encoder and codebooks come out bit for bit as they went in (so the
    /// tokens, and every prior trained on them, stay valid), the decoder moves, and the exported
    /// weights name the tokens' lineage.
    func testDecoderOnlyTrainingKeepsTheTokens() throws {
        let path = checkpointPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = TokenizerConfig(channels: [4, 6], bottomBlocks: 1, codeDim: 3, codebookSize: 8, levels: 2)
        let start = VQTokenizer(config: config, seed: 4)
        try TokenizerTrainer(model: start, options: options(path, steps: 3), cropSize: 8).run(data: NoiseSource())
        let tuned = try VQTokenizer.load(weights: start.exportWeights(name: "base")).model
        tuned.quantizer.adoptLoadedCodebooks()
        let lineage = TokenLineage(name: "base", digestHex: String(repeating: "ab", count: 16))
        tuned.frozenTokens = lineage
        func values(_ model: VQTokenizer, _ prefix: String) -> [Float] {
            model.store.params.filter { $0.name.hasPrefix(prefix) && !$0.name.contains(".ema_") }.flatMap {
                Array(UnsafeBufferPointer(start: model.store.value($0), count: $0.count))
            }
        }
        let (encoder, codebooks, decoder) = (values(tuned, "encoder."), values(tuned, "quantizer.codebook"), values(tuned, "decoder."))
        try TokenizerTrainer(model: tuned, options: options(path, steps: 5), cropSize: 8).run(data: NoiseSource())
        XCTAssertEqual(values(tuned, "encoder."), encoder)
        XCTAssertEqual(values(tuned, "quantizer.codebook"), codebooks)
        XCTAssertNotEqual(values(tuned, "decoder."), decoder)
        let exported = try VQTokenizer.load(weights: tuned.exportWeights(name: "base")).metadata
        XCTAssertEqual(TokenLineage(metadata: exported), lineage)
        XCTAssertEqual(TokenLineage(metadata: try SafeTensors.read([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))).metadata), lineage)
    }

    /// A checkpoint of one kind is refused by a trainer of another.
    func testResumeRefusesAnotherKind() throws {
        let path = checkpointPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TokenizerTrainer(model: Autoencoder(config: Self.tiny, seed: 1), options: options(path, steps: 1), cropSize: 8).run(data: NoiseSource())
        var ae = Self.tiny
        ae.kind = .ae
        XCTAssertThrowsError(try TokenizerTrainer(model: Autoencoder(config: ae), options: options(path, steps: 2), cropSize: 8).resume(from: path)) {
            guard case ModelError.badConfig = $0 else { return XCTFail("expected a config mismatch, got \($0)") }
        }
        let vq = VQTokenizer(config: TokenizerConfig(channels: [4, 6], bottomBlocks: 1, codeDim: 3, codebookSize: 8, levels: 1))
        XCTAssertThrowsError(try TokenizerTrainer(model: vq, options: options(path, steps: 2), cropSize: 8).resume(from: path)) {
            XCTAssertEqual($0 as? ModelError, .wrongKind(found: Autoencoder.checkpointKind, expected: "vqz-tokenizer-checkpoint"))
        }
    }

    /// The VAE's loss goes down on a fixed batch, and its KL stays finite and positive.
    func testVAELearns() {
        let model = Autoencoder(config: AutoencoderConfig(kind: .vae, channels: [8, 16], bottomBlocks: 1, codeDim: 4), seed: 2)
        model.beta = 1e-3
        let adam = Adam(model.store, learningRate: 3e-3)
        var rng = RNG(seed: 5)
        let x = NoiseSource().batch(count: 4, size: 16, rng: &rng)
        var first: Float = 0, last: Float = 0, kl: Float = 0
        for step in 0..<120 {
            model.store.zeroGrads()
            let f = model.lossAndGradients(x, rng: &rng)
            if step == 0 { first = f.loss }
            (last, kl) = (f.loss, f.klBitsPerPixel)
            adam.update()
        }
        XCTAssertLessThan(last, 0.3 * first, "VAE reconstruction loss went from \(first) to \(last)")
        XCTAssertTrue(kl > 0 && kl.isFinite, "KL \(kl) bits per pixel")
    }

    /// Exported weights load back as the same kind and shape and reconstruct as before, within
    /// float16 rounding; their metadata names the kind; a tokenizer file is refused.
    func testWeightsRoundTrip() throws {
        for kind in AutoencoderKind.allCases {
            var config = Self.tiny
            config.kind = kind
            let model = Autoencoder(config: config, seed: 8)
            let bytes = model.exportWeights(name: "tiny-\(kind)", metadata: ["steps": "0"])
            let (loaded, meta) = try Autoencoder.load(weights: bytes)
            XCTAssertEqual(loaded.config, config)
            XCTAssertEqual(meta["model_kind"], kind.rawValue)
            XCTAssertEqual(meta["name"], "tiny-\(kind)")
            XCTAssertEqual(Autoencoder.fileKind(of: bytes), Autoencoder.weightsKind)
            XCTAssertEqual(bytes, Autoencoder(config: config, seed: 8).exportWeights(name: "tiny-\(kind)", metadata: ["steps": "0"]),
                           "weights files are not byte-for-byte reproducible")
            var rng = RNG(seed: 1)
            let x = randomTensor([1, 8, 8, 3], &rng, scale: 0.3)
            let a = model.decode(model.encode(x)).array, b = loaded.decode(loaded.encode(x)).array
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 2e-3)
        }
        let tokenizer = VQTokenizer(config: TokenizerConfig(channels: [4, 6], bottomBlocks: 1, codeDim: 3, codebookSize: 8, levels: 1))
        XCTAssertThrowsError(try Autoencoder.load(weights: tokenizer.exportWeights(name: "vq"))) {
            XCTAssertEqual($0 as? ModelError, .wrongKind(found: VQTokenizer.weightsKind, expected: Autoencoder.weightsKind))
        }
    }

    /// The baselines share the VQ-VAE's networks: the same parameter names and shapes, except the
    /// VAE's encoder output, which is twice as wide (mean and log-variance).
    func testSameNetworksAsTheTokenizer() {
        let t = TokenizerConfig(channels: [4, 6, 8], bottomBlocks: 1, codeDim: 3, codebookSize: 8, levels: 2)
        let vq = VQTokenizer(config: t)
        let shapes = Dictionary(uniqueKeysWithValues: vq.store.params.filter { !$0.name.hasPrefix("quantizer") }.map { ($0.name, $0.shape) })
        for kind in AutoencoderKind.allCases {
            let model = Autoencoder(config: AutoencoderConfig(kind: kind, sameNetworksAs: t))
            let own = Dictionary(uniqueKeysWithValues: model.store.params.map { ($0.name, $0.shape) })
            XCTAssertEqual(Set(own.keys), Set(shapes.keys))
            for (name, shape) in own where !name.hasPrefix("encoder.out") { XCTAssertEqual(shape, shapes[name], name) }
            XCTAssertEqual(own["encoder.out.weight"]?.last, (kind == .vae ? 2 : 1) * shapes["encoder.out.weight"]!.last!)
        }
    }
}
