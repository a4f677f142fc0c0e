import NN

// Shape letters: N batch of grids, H x W grid of tokens in raster order (T = H * W positions), K codebook size.

/// A model of token grids that redraws any set of positions given the others. The autoregressive
/// priors (GatedPixelCNN, TokenTransformer) factor p(x) = prod_t p(x_t | x_<t) in raster order; the
/// masked-token prior (MaskedTokenTransformer) predicts hidden positions from every side at once.
/// Training, sampling, generation and inpainting are written once against this protocol.
public protocol TokenPrior: AnyObject {
    var config: PriorConfig { get }
    var store: ParameterStore { get }
    /// The largest grid one forward covers (nil: any size).
    var maxGrid: (rows: Int, cols: Int)? { get }

    /// tokens [N, H, W] -> logits [N, H*W, K]. Autoregressive priors: row t scores position t given
    /// the positions before it. The masked prior: row t scores position t given every position not
    /// hidden by its mask token.
    func forward(_ tokens: [Int32], batch: Int, height: Int, width: Int) -> Tensor
    /// Adds the parameters' gradients into the store, given dlogits [N, H*W, K] of the last forward.
    func backward(_ dlogits: Tensor)
    /// One training step's loss on grids [N, H, W], its gradients added into the store, in bits per
    /// scored token. The autoregressive priors score every position; the masked prior hides a
    /// random share of each grid and scores those (drawing the share from `rng`).
    func trainingLoss(_ tokens: [Int32], batch: Int, height: Int, width: Int, rng: inout RNG) -> Float
    /// Mean negative log-likelihood of grids [N, H, W] in bits per token: exact for the
    /// autoregressive priors, an upper bound (the order-agnostic one) for the masked prior.
    func bitsPerToken(_ tokens: [Int32], batch: Int, height: Int, width: Int) -> Double
    /// Draws every position where `resample[t]` holds, in each of the N grids (tokens [N, H, W]),
    /// conditioning on the kept positions (autoregressive priors: on all positions before it,
    /// kept and drawn). Grid b draws from rngs[b].
    func sample(_ tokens: inout [Int32], batch: Int, height: Int, width: Int, resample: [Bool],
                options: SamplingOptions, rngs: inout [RNG])
}

extension TokenPrior {
    /// Next-token cross-entropy over every position: the autoregressive priors' objective.
    public func trainingLoss(_ tokens: [Int32], batch: Int, height: Int, width: Int, rng: inout RNG) -> Float {
        let logits = forward(tokens, batch: batch, height: height, width: width)
        let dlogits = Tensor(logits.shape)
        let loss = crossEntropyLoss(logits, tokens, dlogits: dlogits)
        backward(dlogits)
        return loss / Float(log(2.0))
    }

    public func bitsPerToken(_ tokens: [Int32], batch: Int, height: Int, width: Int) -> Double {
        let logits = forward(tokens, batch: batch, height: height, width: width)
        return Double(crossEntropyLoss(logits, tokens)) / log(2.0)
    }

    public func fits(rows: Int, cols: Int) -> Bool {
        guard let m = maxGrid else { return true }
        return rows <= m.rows && cols <= m.cols
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// How a token is drawn from the model's distribution.
public struct SamplingOptions: Sendable, Equatable {
    /// Logits are divided by this; 0 picks the most likely token.
    public var temperature: Float
    /// Keep only the K most likely tokens (nil: all).
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability reaches P (nil: all).
    public var topP: Float?
    /// The masked prior's parallel decoding steps (the autoregressive priors draw one position
    /// per step): fewer is faster, more lets later tokens see more of the earlier ones.
    public var steps: Int

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, steps: Int = 8) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.steps = steps
    }
}

/// Temperature, top-k and top-p sampling from one row of logits.
public enum TokenSampler {
    /// The tokens ordered by logit, highest first; ties keep the lower index first, so the
    /// order (and every draw from it) is the same on every run.
    static func ranked(_ logits: UnsafePointer<Float>, count k: Int) -> [Int32] {
        var order = (0..<Int32(k)).map { $0 }
        order.sort { a, b in logits[Int(a)] != logits[Int(b)] ? logits[Int(a)] > logits[Int(b)] : a < b }
        return order
    }

    /// The candidates sampling may return and their probabilities (renormalised, summing to 1),
    /// most likely first.
    public static func candidates(_ logits: UnsafePointer<Float>, count k: Int,
                                  options: SamplingOptions) -> (tokens: [Int32], probabilities: [Float]) {
        let order = ranked(logits, count: k)
        if options.temperature <= 0 { return ([order[0]], [1]) }
        let keep = min(k, max(1, options.topK ?? k))
        let invT = 1 / options.temperature, top = logits[Int(order[0])]
        var probs = [Float](repeating: 0, count: keep)
        var sum: Float = 0
        for i in 0..<keep {
            probs[i] = expf((logits[Int(order[i])] - top) * invT)
            sum += probs[i]
        }
        for i in 0..<keep { probs[i] /= sum }
        var n = keep
        if let p = options.topP, p < 1 {
            var acc: Float = 0
            n = 0
            while n < keep {
                acc += probs[n]
                n += 1
                if acc >= p { break }
            }
            let mass = probs[0..<n].reduce(0, +)
            for i in 0..<n { probs[i] /= mass }
        }
        return (Array(order[0..<n]), Array(probs[0..<n]))
    }

    /// log softmax(logits)[index], in nats, shifted by the maximum so that exp never overflows.
    public static func logProbability(_ logits: UnsafePointer<Float>, count k: Int, of index: Int) -> Float {
        var mx = -Float.infinity
        for c in 0..<k { mx = max(mx, logits[c]) }
        var sum: Float = 0
        for c in 0..<k { sum += expf(logits[c] - mx) }
        return logits[index] - mx - logf(sum)
    }

    /// One token drawn from logits [K] under `options`.
    public static func draw(_ logits: UnsafePointer<Float>, count k: Int, options: SamplingOptions, rng: inout RNG) -> Int32 {
        let (tokens, probs) = candidates(logits, count: k, options: options)
        return tokens[pick(probs, rng: &rng)]
    }

    /// An index into `probabilities` (which sum to 1), drawn with one uniform number.
    public static func pick(_ probabilities: [Float], rng: inout RNG) -> Int {
        let u = rng.uniform()
        var acc: Float = 0
        for (i, p) in probabilities.enumerated() {
            acc += p
            if u < acc { return i }
        }
        // Rounding left the sum a hair below u: the last token with any mass.
        return probabilities.lastIndex { $0 > 0 } ?? 0
    }
}
