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
