import NN

// Shape letters: N batch, T positions, D model width.

/// One pre-LN transformer block (GPT-2's), shared by the raster prior (causal attention) and the
/// masked-token prior (bidirectional):
///
///     z = z + attn(ln1(z));  z = z + fc2(gelu(fc1(ln2(z))))
final class TransformerBlock {
    let ln1: LayerNorm, attn: SelfAttention, ln2: LayerNorm
    let fc1: Linear, gelu = GELU(), fc2: Linear
    let mlp: Sequential
    let attnBranch: Residual, mlpBranch: Residual

    init(_ store: ParameterStore, _ name: String, dim d: Int, heads: Int, causal: Bool, rng: inout RNG) {
        ln1 = LayerNorm(store, "\(name).ln1", dim: d)
        attn = SelfAttention(store, "\(name).attn", dim: d, heads: heads, causal: causal, rng: &rng)
        ln2 = LayerNorm(store, "\(name).ln2", dim: d)
        fc1 = Linear(store, "\(name).fc1", inFeatures: d, outFeatures: 4 * d, rng: &rng)
        fc2 = Linear(store, "\(name).fc2", inFeatures: 4 * d, outFeatures: d, initGain: 0.5, rng: &rng)
        mlp = Sequential([ln2, fc1, gelu, fc2])
        attnBranch = Residual(Sequential([ln1, attn]))
        mlpBranch = Residual(mlp)
    }

    func forward(_ x: Tensor) -> Tensor { mlpBranch.forward(attnBranch.forward(x)) }
    func backward(_ dy: Tensor) -> Tensor { attnBranch.backward(mlpBranch.backward(dy)) }

    /// One position per sequence, x [N, D], against the cache of earlier positions.
    func step(_ x: Tensor, cache: KVCache) -> Tensor {
        residuals(x) { attn.step($0, cache: cache) }
    }

    /// The first positions of every sequence, x [N, T, D], filling an empty cache (`step` goes on from there).
    func prefill(_ x: Tensor, cache: KVCache) -> Tensor {
        residuals(x) { attn.prefill($0, cache: cache) }
    }

    /// x + a, then + mlp of that, with `attention` applied to ln1(x): the block's two branches
    /// for the cached paths, which the Residual layers of forward would keep for backward.
    private func residuals(_ x: Tensor, attention: (Tensor) -> Tensor) -> Tensor {
        let a = attention(ln1.forward(x))
        let y = Tensor(x.shape)
        add(y.data, x.data, a.data, y.count)
        let m = mlp.forward(y)
        let z = Tensor(x.shape)
        add(z.data, y.data, m.data, z.count)
        return z
    }
}

/// The body both transformer priors share: the sum of a token, a row and a column embedding, the
/// blocks, a final LayerNorm and a head to K logits. Every shape is [N, T, ...] or, one position
/// per sequence, [N, ...].
final class GridTransformer {
    let tokemb: Embedding, rowemb: Embedding, colemb: Embedding
    let blocks: [TransformerBlock]
    let lnf: LayerNorm
    let head: Linear
    let width: Int

    /// Tokens 0...K (K: START for the raster prior, MASK for the masked one).
    init(_ store: ParameterStore, config: PriorConfig, causal: Bool, rng: inout RNG) {
        let d = config.width
        width = d
        tokemb = Embedding(store, "tokemb", vocabulary: config.codebookSize + 1, dim: d, rng: &rng)
        rowemb = Embedding(store, "rowemb", vocabulary: config.maxRows, dim: d, rng: &rng)
        colemb = Embedding(store, "colemb", vocabulary: config.maxCols, dim: d, rng: &rng)
        blocks = (0..<config.layers).map { TransformerBlock(store, "block\($0)", dim: d, heads: config.heads, causal: causal, rng: &rng) }
        lnf = LayerNorm(store, "lnf", dim: d)
        head = Linear(store, "head", inFeatures: d, outFeatures: config.codebookSize, initGain: 0.5, rng: &rng)
    }

    /// tokemb(tokens) + rowemb(rows) + colemb(cols), of `shape` + [D].
    func embed(_ tokens: [Int32], rows: [Int32], cols: [Int32], shape: [Int]) -> Tensor {
        let a = tokemb.forward(tokens, shape: shape), r = rowemb.forward(rows, shape: shape), c = colemb.forward(cols, shape: shape)
        let z = Tensor(shape + [width])
        for i in 0..<z.count { z.data[i] = a.data[i] + r.data[i] + c.data[i] }
        return z
    }

    /// Logits [N, T, K] of whole sequences.
    func forward(_ tokens: [Int32], rows: [Int32], cols: [Int32], batch n: Int, positions t: Int) -> Tensor {
        var z = embed(tokens, rows: rows, cols: cols, shape: [n, t])
        for block in blocks { z = block.forward(z) }
        return head.forward(lnf.forward(z))
    }

    func backward(_ dlogits: Tensor) {
        var dz = lnf.backward(head.backward(dlogits))
        for block in blocks.reversed() { dz = block.backward(dz) }
        // The sum of three embeddings: each gets the whole gradient.
        tokemb.backward(dz)
        rowemb.backward(dz)
        colemb.backward(dz)
    }
}
