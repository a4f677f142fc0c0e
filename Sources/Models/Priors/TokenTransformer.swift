import NN

// Shape letters: N batch, T = H * W positions in raster order, D model width, K codebook size.

/// A GPT-style causal transformer over raster-ordered tokens (DALL-E's image prior):
///
///     input_t = tokemb(x_{t-1}) + rowemb(row(t)) + colemb(col(t))   x_{-1} = START (index K)
///     per block: z = z + attn(ln1(z));  z = z + fc2(gelu(fc1(ln2(z))))   (pre-LN)
///     logits = head(lnf(z))                                          [N, T, K]
///
/// Position t's input holds the token before it and the 2-D position it predicts, so the
/// model knows where in the grid it is. The context is maxRows * maxCols positions.
public final class TokenTransformer: TokenPrior {
    public let config: PriorConfig
    public let store: ParameterStore
    public var maxGrid: (rows: Int, cols: Int)? { (config.maxRows, config.maxCols) }

    let body: GridTransformer

    public var startToken: Int32 { Int32(config.codebookSize) }

    public init(config: PriorConfig, seed: UInt64 = 0) {
        self.config = config.validated(as: .transformer)
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        body = GridTransformer(store, config: config, causal: true, rng: &rng)
        store.seal()
    }

    /// The input tokens and positions of grids [N, H, W]: each sequence shifted right by one behind START.
    private func inputs(_ tokens: [Int32], batch n: Int, height h: Int, width w: Int) -> (tok: [Int32], row: [Int32], col: [Int32]) {
        let t = h * w
        var tok = [Int32](repeating: 0, count: n * t), row = tok, col = tok
        for b in 0..<n {
            for i in 0..<t {
                tok[b * t + i] = i == 0 ? startToken : tokens[b * t + i - 1]
                row[b * t + i] = Int32(i / w)
                col[b * t + i] = Int32(i % w)
            }
        }
        return (tok, row, col)
    }

    public func forward(_ tokens: [Int32], batch n: Int, height h: Int, width w: Int) -> Tensor {
        precondition(h <= config.maxRows && w <= config.maxCols, "transformer prior covers grids up to \(config.maxRows)x\(config.maxCols), got \(h)x\(w)")
        let (tok, row, col) = inputs(tokens, batch: n, height: h, width: w)
        return body.forward(tok, rows: row, cols: col, batch: n, positions: h * w)       // [N, T, K]
    }

    public func backward(_ dlogits: Tensor) { body.backward(dlogits) }

    /// The logits [N, K] of position t, feeding the token before it (START at t = 0) through the caches.
    public func step(previous: [Int32], position t: Int, width w: Int, caches: [KVCache]) -> Tensor {
        let n = previous.count
        var z = body.embed(previous, rows: [Int32](repeating: Int32(t / w), count: n),
                           cols: [Int32](repeating: Int32(t % w), count: n), shape: [n])
        for (block, cache) in zip(body.blocks, caches) { z = block.step(z, cache: cache) }
        return body.head.forward(body.lnf.forward(z))
    }

    public func makeCaches(batch n: Int, capacity: Int) -> [KVCache] {
        body.blocks.map { $0.attn.makeCache(batch: n, capacity: capacity) }
    }

    public func sample(_ tokens: inout [Int32], batch n: Int, height h: Int, width w: Int, resample: [Bool],
                       options: SamplingOptions, rngs: inout [RNG]) {
        precondition(tokens.count == n * h * w && resample.count == h * w && rngs.count == n, "sample: inconsistent sizes")
        precondition(h <= config.maxRows && w <= config.maxCols, "transformer prior covers grids up to \(config.maxRows)x\(config.maxCols), got \(h)x\(w)")
        let t = h * w, k = config.codebookSize
        guard let last = resample.lastIndex(of: true) else { return }
        let caches = makeCaches(batch: n, capacity: t)
        // Every position up to the last drawn one goes through the caches; kept tokens are fed as they are.
        for i in 0...last {
            let previous = (0..<n).map { b in i == 0 ? startToken : tokens[b * t + i - 1] }
            let logits = step(previous: previous, position: i, width: w, caches: caches)
            guard resample[i] else { continue }
            for b in 0..<n {
                tokens[b * t + i] = TokenSampler.draw(logits.data + b * k, count: k, options: options, rng: &rngs[b])
            }
        }
    }
}
