import Foundation
import NN

/// Options of `vqz train tokenizer`.
public struct TokenizerTrainingOptions: Sendable {
    public var steps = 20_000
    public var batchSize = 16
    public var cropSize = 64
    public var learningRate: Float = 3e-4
    public var warmupSteps = 200
    public var seed: UInt64 = 1
    public var checkpointPath: String
    public var checkpointSeconds: Double = 300
    public var validateEvery = 500
    /// Stop (as Ctrl-C would) at this step, keeping the learning-rate schedule of `steps`: a fixed
    /// budget of a longer schedule, reproducible to the step.
    public var stopAt: Int? = nil

    public init(checkpointPath: String) { self.checkpointPath = checkpointPath }
}

/// What the trainer reports as it goes.
public struct TokenizerProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Float          // reconstruction MSE on [-0.5, 0.5] pixels
    public var commitment: Float    // VQ-VAE: the commitment loss (0 for the baselines)
    public var klBitsPerPixel: Float  // VAE: the KL term in bits per pixel (0 for the others)
    public var psnr: Float          // of this batch, at the levels drawn for it
    public var levelsUsed: Int
    public var restarted: [Int]     // dead codes restarted this step, per level
    public var stepsPerSecond: Double
    public var secondsLeft: Double
}

/// Validation figures per quality level (one level for the autoencoder and the VAE).
public struct TokenizerValidation: Sendable, Codable {
    public var psnr: [Double]             // dB, RGB, per level prefix 1...L
    public var codesUsed: [Int]           // distinct codes seen per level (empty for the baselines)
    public var perplexity: [Double]       // exp(entropy) of the code histogram per level
    public var klBitsPerPixel: Double? = nil  // VAE: mean KL of the posteriors, bits per pixel
}

/// One step's figures, from `TrainableTokenizer.lossAndGradients`.
public struct TokenizerStepFigures: Sendable {
    public var loss: Float            // reconstruction MSE
    public var commitment: Float = 0
    public var klBitsPerPixel: Float = 0
    public var levels: Int = 1
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
/// levels decodes well) or a baseline Autoencoder, with Adam, warm-up and cosine decay.
public final class TokenizerTrainer {
    public let model: any TrainableTokenizer
    public let options: TokenizerTrainingOptions
    public let optimizer: Adam
    public private(set) var step = 0
    public private(set) var rng: RNG
    private let startedAt = Date()
    private var lastCheckpoint = Date()

    public init(model: any TrainableTokenizer, options: TokenizerTrainingOptions) {
        self.model = model
        self.options = options
        optimizer = Adam(model.store, learningRate: options.learningRate, clipNorm: 1, trains: model.trains)
        rng = RNG(seed: options.seed &+ 0x5eed)
    }

    /// Continues from a checkpoint written by `saveCheckpoint` for the same kind and shape of model.
    public func resume(from path: String) throws {
        let header = try SafeTensors.read([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))).metadata
        let expected = model.checkpointMetadata
        guard header["kind"] == expected["kind"] else {
            throw ModelError.wrongKind(found: header["kind"], expected: expected["kind"] ?? "?")
        }
        guard sameJSON(header["config"], expected["config"]) else {
            throw ModelError.badConfig("checkpoint \(path) is of another shape (\(header["config"] ?? "none")) than \(expected["config"] ?? "?")")
        }
        let ck = try Checkpoint.load(from: path, store: model.store, optimizer: optimizer)
        step = ck.step
        rng = RNG(words: ck.rngWords)
    }

    public func saveCheckpoint() throws {
        try Checkpoint.save(to: options.checkpointPath, store: model.store, optimizer: optimizer, step: step, rng: rng,
                            metadata: model.checkpointMetadata)
        lastCheckpoint = Date()
    }

    /// One optimisation step on one batch; returns its figures.
    public func trainStep(_ x: Tensor) -> (figures: TokenizerStepFigures, restarted: [Int]) {
        model.store.zeroGrads()
        let figures = model.lossAndGradients(x, rng: &rng)
        let lr = cosineSchedule(step: step, total: options.steps, warmup: options.warmupSteps, peak: options.learningRate)
        optimizer.update(learningRate: lr)
        let restarted = model.afterUpdate(rng: &rng)
        step += 1
        return (figures, restarted)
    }

    /// Runs until `options.steps` or until `shouldStop` says so; checkpoints on a timer and at the end.
    public func run(data: BatchSource, validation: [Tensor] = [],
                    shouldStop: () -> Bool = { false },
                    progress: (TokenizerProgress) -> Void = { _ in },
                    validated: (Int, TokenizerValidation) -> Void = { _, _ in }) throws {
        let first = step
        let t0 = Date()
        let last = min(options.steps, options.stopAt ?? options.steps)
        while step < last && !shouldStop() {
            let x = data.batch(count: options.batchSize, size: options.cropSize, rng: &rng)
            let (r, restarted) = trainStep(x)
            let elapsed = Date().timeIntervalSince(t0)
            let rate = Double(step - first) / max(elapsed, 1e-9)
            progress(TokenizerProgress(step: step, totalSteps: options.steps, loss: r.loss, commitment: r.commitment,
                                       klBitsPerPixel: r.klBitsPerPixel,
                                       psnr: Float(10 * log10(1 / Double(max(r.loss, 1e-12)))), levelsUsed: r.levels,
                                       restarted: restarted, stepsPerSecond: rate,
                                       secondsLeft: Double(last - step) / max(rate, 1e-9)))
            if !validation.isEmpty && (step % options.validateEvery == 0 || step == last) {
                validated(step, validate(validation))
            }
            if Date().timeIntervalSince(lastCheckpoint) >= options.checkpointSeconds { try saveCheckpoint() }
        }
        try saveCheckpoint()
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
