import Foundation
import NN

/// One step's figures, from `TrainableTokenizer.lossAndGradients`.
public struct TokenizerStepFigures: Sendable {
    public var loss: Float            // reconstruction MSE on [-0.5, 0.5] pixels
    public var commitment: Float = 0  // VQ-VAE: the commitment loss (0 for the baselines)
    public var klBitsPerPixel: Float = 0  // VAE: the KL term in bits per pixel (0 for the others)
    public var levels: Int = 1        // quality levels drawn for this batch
    public var restarted: [Int] = []  // dead codes restarted this step, per level

    /// PSNR of this batch, at the levels drawn for it.
    public var psnr: Float { Float(10 * log10(1 / Double(max(loss, 1e-12)))) }
}

/// Validation figures per quality level (one level for the autoencoder and the VAE).
public struct TokenizerValidation: Sendable, Codable {
    public var psnr: [Double]             // dB, RGB, per level prefix 1...L
    public var codesUsed: [Int]           // distinct codes seen per level (empty for the baselines)
    public var perplexity: [Double]       // exp(entropy) of the code histogram per level
    public var klBitsPerPixel: Double? = nil  // VAE: mean KL of the posteriors, bits per pixel
}

/// What `TokenizerTrainer` trains: the VQ-VAE or one of its baselines (Autoencoder). The trainer
/// owns the loop, the data, the optimizer, the schedule and the checkpoints; the model owns its loss.
public protocol TrainableTokenizer: AnyObject {
    var store: ParameterStore { get }
    /// What a checkpoint records (`kind`, `config`); `resume` refuses a checkpoint whose differ.
    var checkpointMetadata: [String: String] { get }
    /// Forward and backward on a batch [N, H, W, 3]; gradients are added into `store`.
    func lossAndGradients(_ x: Tensor, rng: inout RNG) -> TokenizerStepFigures
    /// Which trainable parameters the optimizer moves (all, unless only the decoder trains).
    func trains(_ param: Param) -> Bool
    /// Work after the optimizer step (the VQ-VAE's EMA codebooks); dead codes restarted per level.
    func afterUpdate(rng: inout RNG) -> [Int]
    /// Figures on held-out images [1, H, W, 3].
    func validate(_ images: [Tensor]) -> TokenizerValidation
}

/// Trains a VQTokenizer (MSE reconstruction, commitment loss, EMA codebooks with dead-code
/// restarts, and quantizer dropout: each step draws how many levels to use, so every prefix of
/// levels decodes well) or a baseline Autoencoder, with Adam, warm-up and cosine decay, on random
/// crops of `cropSize` pixels.
public final class TokenizerTrainer: Trainer {
    public let model: any TrainableTokenizer
    public let cropSize: Int
    public let state: TrainingState

    /// `vqz train tokenizer`'s defaults (plain Adam: no weight decay).
    public static func defaults(checkpointPath: String) -> TrainingOptions {
        TrainingOptions(checkpointPath: checkpointPath, steps: 20_000, batchSize: 16, learningRate: 3e-4, warmupSteps: 200, weightDecay: 0, validateEvery: 500)
    }

    public init(model: any TrainableTokenizer, options: TrainingOptions, cropSize: Int = 64) {
        self.model = model
        self.cropSize = cropSize
        state = TrainingState(store: model.store, options: options, seedOffset: 0x5eed, trains: model.trains)
    }

    public var checkpointMetadata: [String: String] { metadata.merging(model.checkpointMetadata) { _, own in own } }

    /// A checkpoint of another kind, or of another shape, cannot be resumed.
    public func checkResumable(_ checkpoint: [String: String], path: String) throws {
        let expected = model.checkpointMetadata
        guard checkpoint["kind"] == expected["kind"] else {
            throw ModelError.wrongKind(found: checkpoint["kind"], expected: expected["kind"] ?? "?")
        }
        guard sameJSON(checkpoint["config"], expected["config"]) else {
            throw ModelError.badConfig("checkpoint \(path) is of another shape (\(checkpoint["config"] ?? "none")) than \(expected["config"] ?? "?")")
        }
    }

    public func trainStep(on data: any BatchSource) -> TokenizerStepFigures {
        trainStep(data.batch(count: options.batchSize, size: cropSize, rng: &state.rng))
    }

    /// One optimisation step on one batch [N, H, W, 3]; returns its figures.
    public func trainStep(_ x: Tensor) -> TokenizerStepFigures {
        model.store.zeroGrads()
        var figures = model.lossAndGradients(x, rng: &state.rng)
        state.optimizer.update(learningRate: state.learningRate)
        figures.restarted = model.afterUpdate(rng: &state.rng)
        state.step += 1
        return figures
    }

    /// PSNR per level prefix, code usage and perplexity on held-out images [1, H, W, 3].
    public func validate(_ images: [Tensor]) -> TokenizerValidation {
        model.validate(images)
    }
}

extension VQTokenizer: TrainableTokenizer {
    public var checkpointMetadata: [String: String] {
        ["kind": "vqz-tokenizer-checkpoint", "config": config.json].merging(frozenTokens?.metadata ?? [:]) { a, _ in a }
    }

    public func trains(_ param: Param) -> Bool { frozenTokens == nil || param.name.hasPrefix("decoder.") }

    /// Draws how many levels this step uses (quantizer dropout), then MSE through the
    /// straight-through quantizer plus the commitment term. With frozen tokens only the decoder
    /// learns: the encoder and codebooks run as at inference, and nothing flows back into them.
    public func lossAndGradients(_ x: Tensor, rng: inout RNG) -> TokenizerStepFigures {
        let levels = 1 + rng.int(below: config.levels)
        if frozenTokens != nil {
            let (h, w) = (x.shape[1] / config.downsampling, x.shape[2] / config.downsampling)
            let zq = quantizer.decode(encode(x, levels: levels), shape: [x.shape[0], h, w, config.codeDim])
            let y = decoder.forward(zq)
            let dy = Tensor(y.shape)
            let loss = mseLoss(y, x, dpred: dy)
            _ = decoder.backward(dy)
            return TokenizerStepFigures(loss: loss, levels: levels)
        }
        let z = encoder.forward(x)
        let zq = quantizer.forward(z, levels: levels, rng: &rng)
        let y = decoder.forward(zq)
        let dy = Tensor(y.shape)
        let loss = mseLoss(y, x, dpred: dy)
        let dzq = decoder.backward(dy)
        let dz = quantizer.backward(dzq)
        _ = encoder.backward(dz)
        return TokenizerStepFigures(loss: loss, commitment: quantizer.commitmentLoss, levels: levels)
    }

    public func afterUpdate(rng: inout RNG) -> [Int] {
        frozenTokens == nil ? quantizer.updateCodebooks(rng: &rng) : [Int](repeating: 0, count: config.levels)
    }
}

extension VQTokenizer {
    /// PSNR (RGB, 8-bit rounding) of reconstructions at each level prefix, plus code usage.
    public func validate(_ images: [Tensor]) -> TokenizerValidation {
        let L = config.levels, K = config.codebookSize, f = config.downsampling
        var sqErr = [Double](repeating: 0, count: L)
        var samples = 0
        var histograms = [[Int]](repeating: [Int](repeating: 0, count: K), count: L)
        for x in images {
            let (h, w) = (x.shape[1], x.shape[2])
            let tokens = encode(x, levels: L)
            for l in 0..<L { for t in tokens[l] { histograms[l][Int(t)] += 1 } }
            for l in 0..<L {
                let y = decode(Array(tokens[0...l]), batch: 1, gridHeight: h / f, gridWidth: w / f)
                sqErr[l] += squaredError8Bit(x, y)
            }
            samples += x.count
        }
        let psnr = sqErr.map { psnr8Bit(squaredError: $0, samples: samples) }
        let used = histograms.map { $0.filter { $0 > 0 }.count }
        let perplexity = histograms.map { hist -> Double in
            let total = Double(hist.reduce(0, +))
            let entropy = hist.reduce(0.0) { acc, c in c == 0 ? acc : acc - Double(c) / total * log(Double(c) / total) }
            return exp(entropy)
        }
        return TokenizerValidation(psnr: psnr, codesUsed: used, perplexity: perplexity)
    }
}

/// Whether two JSON texts hold the same value (key order aside).
func sameJSON(_ a: String?, _ b: String?) -> Bool {
    guard let a, let b, let x = try? JSONSerialization.jsonObject(with: Data(a.utf8)),
          let y = try? JSONSerialization.jsonObject(with: Data(b.utf8)) else { return a == b }
    return (x as? NSObject)?.isEqual(y) ?? false
}

/// Sum of squared differences of two images in [-0.5, 0.5] after rounding both to 8 bits, as a
/// PNG of the reconstruction would hold it.
func squaredError8Bit(_ x: Tensor, _ y: Tensor) -> Double {
    var s: Double = 0
    for i in 0..<x.count {
        let a = (Double(x.data[i]) + 0.5) * 255, b = ((Double(y.data[i]) + 0.5) * 255).rounded()
        let d = a.rounded() - min(max(b, 0), 255)
        s += d * d
    }
    return s
}

/// PSNR in dB of a mean squared error on 8-bit samples.
func psnr8Bit(squaredError: Double, samples: Int) -> Double {
    10 * log10(255 * 255 / max(squaredError / Double(max(samples, 1)), 1e-12))
}

extension TokenizerConfig {

    public init(json: String) throws {
        self = try JSONDecoder().decode(TokenizerConfig.self, from: Data(json.utf8))
    }
}
