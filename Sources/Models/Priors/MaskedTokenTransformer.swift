import Foundation
import NN

// Shape letters: N batch, T = H * W positions in raster order, D model width, K codebook size.

/// MaskGIT's bidirectional transformer over token grids (Chang et al. 2022):
///
///     input_t = tokemb(x_t or MASK) + rowemb(row(t)) + colemb(col(t))      MASK = index K
///     per block: z = z + attn(ln1(z));  z = z + fc2(gelu(fc1(ln2(z))))      (no causal mask)
///     logits = head(lnf(z))                                               [N, T, K]
///
/// Every position sees every other, so a hidden token is predicted from all its sides at once.
/// Trained to recover a random share of hidden positions (cosine schedule); sampled by iterative
/// parallel decoding: each step draws every hidden position, keeps the most confident draws and
/// hides the rest again, until none is hidden.
public final class MaskedTokenTransformer: TokenPrior {
    public let config: PriorConfig
    public let store: ParameterStore
    public var maxGrid: (rows: Int, cols: Int)? { (config.maxRows, config.maxCols) }

    let body: GridTransformer

    /// The input token of a hidden position.
    public var maskToken: Int32 { Int32(config.codebookSize) }
    /// MaskGIT's temperature of the Gumbel noise added to the confidences, annealed to zero over
    /// the steps: early steps keep a more random choice of positions, which keeps samples diverse.
    static let choiceTemperature: Float = 4.5

    public init(config: PriorConfig, seed: UInt64 = 0) {
        self.config = config.validated(as: .masked)
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        body = GridTransformer(store, config: config, causal: false, rng: &rng)
        store.seal()
    }

    public func forward(_ tokens: [Int32], batch n: Int, height h: Int, width w: Int) -> Tensor {
        precondition(h <= config.maxRows && w <= config.maxCols, "masked prior covers grids up to \(config.maxRows)x\(config.maxCols), got \(h)x\(w)")
        let t = h * w
        precondition(tokens.count == n * t, "masked prior: \(tokens.count) tokens for \(n) grids of \(h)x\(w)")
        let rows = (0..<(n * t)).map { Int32($0 % t / w) }, cols = (0..<(n * t)).map { Int32($0 % w) }
        return body.forward(tokens, rows: rows, cols: cols, batch: n, positions: t)
    }

    public func backward(_ dlogits: Tensor) { body.backward(dlogits) }

    /// Hides a share cos(pi/2 u) of each grid (u uniform, MaskGIT's schedule): half the grids at
    /// scattered positions, half as one rectangle (the shape of a hole to inpaint). Scores the
    /// hidden positions only.
    public func trainingLoss(_ tokens: [Int32], batch n: Int, height h: Int, width w: Int, rng: inout RNG) -> Float {
        let t = h * w
        var input = tokens, targets = [Int32](repeating: -1, count: n * t)
        for b in 0..<n {
            let count = max(1, Int((Float(t) * cos(Float.pi / 2 * rng.uniform())).rounded(.up)))
            let hidden = rng.uniform() < 0.5 ? Self.scattered(count, of: t, rng: &rng)
                                             : Self.rectangle(area: count, height: h, width: w, rng: &rng)
            for p in hidden {
                input[b * t + p] = maskToken
                targets[b * t + p] = tokens[b * t + p]
            }
        }
        let logits = forward(input, batch: n, height: h, width: w)
        let dlogits = Tensor(logits.shape)
        let loss = crossEntropyLoss(logits, targets, ignoreIndex: -1, dlogits: dlogits)
        backward(dlogits)
        return loss / Float(M_LN2)
    }

    /// The order-agnostic bound (Uria et al. 2014; Hoogeboom et al. 2022): for m uniform in 1...T
    /// and m positions hidden at random, the mean cross-entropy of the hidden positions bounds
    /// -log2 p(x) / T from above in expectation. Each grid draws its own m and positions from a
    /// fixed seed, so the same grids always score the same.
    public func bitsPerToken(_ tokens: [Int32], batch n: Int, height h: Int, width w: Int) -> Double {
        let t = h * w
        var rng = RNG(seed: 0x6d61736b)
        var input = tokens, targets = [Int32](repeating: -1, count: n * t), weights = [Float](repeating: 0, count: n * t)
        for b in 0..<n {
            let hidden = Self.scattered(1 + rng.int(below: t), of: t, rng: &rng)
            for p in hidden {
                input[b * t + p] = maskToken
                targets[b * t + p] = tokens[b * t + p]
                weights[b * t + p] = 1 / Float(hidden.count)     // each grid weighs the same
            }
        }
        let logits = forward(input, batch: n, height: h, width: w)
        return Double(crossEntropyLoss(logits, targets, ignoreIndex: -1, weights: weights)) / M_LN2
    }

    /// Iterative parallel decoding: all resampled positions start hidden; after step s of S,
    /// floor(M cos(pi/2 s/S)) of the M stay hidden. Each step draws a token for every hidden
    /// position (temperature, top-k, top-p), and keeps those whose probability, plus Gumbel noise
    /// annealed to zero, is highest.
    public func sample(_ tokens: inout [Int32], batch n: Int, height h: Int, width w: Int, resample: [Bool],
                       options: SamplingOptions, rngs: inout [RNG]) {
        precondition(tokens.count == n * h * w && resample.count == h * w && rngs.count == n, "sample: inconsistent sizes")
        let t = h * w, k = config.codebookSize
        let positions = (0..<t).filter { resample[$0] }
        let m = positions.count
        guard m > 0 else { return }
        for b in 0..<n { for p in positions { tokens[b * t + p] = maskToken } }
        var hidden = [[Int]](repeating: positions, count: n)
        let steps = max(1, min(options.steps, m))
        for s in 1...steps {
            let progress = Float(s) / Float(steps)
            let stillHidden = s == steps ? 0 : Int((Float(m) * cos(Float.pi / 2 * progress)).rounded(.down))
            let logits = forward(tokens, batch: n, height: h, width: w)
            let noise = options.temperature > 0 ? Self.choiceTemperature * (1 - progress) : 0
            for b in 0..<n {
                var drawn: [(position: Int, token: Int32, confidence: Float)] = []
                for p in hidden[b] {
                    let row = logits.data + (b * t + p) * k
                    let token = TokenSampler.draw(row, count: k, options: options, rng: &rngs[b])
                    var confidence = TokenSampler.logProbability(row, count: k, of: Int(token))
                    if noise > 0 { confidence += noise * gumbel(&rngs[b]) }
                    drawn.append((p, token, confidence))
                }
                // Most confident first; ties by position, so every run keeps the same ones.
                drawn.sort { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.position < $1.position }
                let keep = max(0, drawn.count - stillHidden)
                for d in drawn[..<keep] { tokens[b * t + d.position] = d.token }
                hidden[b] = drawn[keep...].map(\.position)
            }
        }
    }

    /// `count` distinct positions of 0..<t, drawn uniformly (a partial Fisher-Yates shuffle).
    static func scattered(_ count: Int, of t: Int, rng: inout RNG) -> [Int] {
        var order = Array(0..<t)
        for i in 0..<min(count, t) { order.swapAt(i, i + rng.int(below: t - i)) }
        return Array(order[..<min(count, t)])
    }

    /// The positions of a random rectangle of about `area` positions inside an h x w grid.
    static func rectangle(area: Int, height h: Int, width w: Int, rng: inout RNG) -> [Int] {
        let minWidth = min(w, max(1, (area + h - 1) / h)), maxWidth = min(w, area)
        let rw = minWidth + rng.int(below: maxWidth - minWidth + 1)
        let rh = min(h, max(1, (area + rw / 2) / rw))
        let x0 = rng.int(below: w - rw + 1), y0 = rng.int(below: h - rh + 1)
        return (y0..<(y0 + rh)).flatMap { y in (x0..<(x0 + rw)).map { y * w + $0 } }
    }

    private func gumbel(_ rng: inout RNG) -> Float {
        let u = min(max(rng.uniform(), 1e-7), 1 - 1e-7)
        return -log(-log(u))
    }
}
