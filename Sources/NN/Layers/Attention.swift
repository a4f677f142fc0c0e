#if canImport(Glibc)
import Glibc
#endif

// Shape letters: N batch, T sequence length, D model width, H heads, Dh = D / H head width,
// S positions held in a key/value cache.

/// Multi-head self-attention with its input and output projections:
///   qkv = x Wqkv + bqkv,  per head: P = softmax(mask(Q K^T / sqrt(Dh))),  O = P V,  y = O Wo + bo.
/// Causal attention (the mask hides later positions) serves the autoregressive models: training
/// runs `forward`/`backward` over whole sequences [N, T, D]; sampling runs `step`, one new position
/// at a time, against a `KVCache` that holds the keys and values of earlier positions.
/// Bidirectional attention (no mask) serves the masked-token model, which sees every position.
/// Products are sgemms (one per batch element and head for the T x T scores); the softmax runs on
/// our threads between them, so BLAS and our pool never overlap.
public final class SelfAttention: Layer {
    public let dim: Int, heads: Int
    /// Whether position i attends to positions 0...i only.
    public let causal: Bool
    public let qkvWeight: Param     // [D, 3D]: columns are Q | K | V, head h at h*Dh..<(h+1)*Dh in each
    public let qkvBias: Param       // [3D]
    public let projWeight: Param    // [D, D]
    public let projBias: Param      // [D]
    let store: ParameterStore

    // Saved by forward for backward.
    private var input: Tensor?      // [N, T, D]
    private var qkv = Workspace()   // [N, T, 3D]
    private var probs = Workspace() // [N, H, T, T], zero above the diagonal when causal
    private var attended = Workspace() // [N, T, D], heads side by side, before the projection
    private var output = Workspace()
    // Backward scratch.
    private var dAttended = Workspace() // [N, T, D]
    private var dqkv = Workspace()      // [N, T, 3D]
    private var dScores = Workspace()   // [T, T], one head at a time
    private var dInput = Workspace()

    public init(_ store: ParameterStore, _ name: String, dim: Int, heads: Int, causal: Bool = true, rng: inout RNG) {
        precondition(dim % heads == 0, "attention: width \(dim) does not split into \(heads) heads")
        self.store = store
        self.causal = causal
        self.dim = dim
        self.heads = heads
        qkvWeight = store.add("\(name).qkv.weight", [dim, 3 * dim], heUniform(3 * dim * dim, fanIn: dim, gain: 0.5, rng: &rng))
        qkvBias = store.add("\(name).qkv.bias", [3 * dim], [Float](repeating: 0, count: 3 * dim))
        projWeight = store.add("\(name).proj.weight", [dim, dim], heUniform(dim * dim, fanIn: dim, gain: 0.5, rng: &rng))
        projBias = store.add("\(name).proj.bias", [dim], [Float](repeating: 0, count: dim))
    }

    private var headDim: Int { dim / heads }
    private var scale: Float { 1 / Float(headDim).squareRoot() }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 3 && x.shape[2] == dim, "attention expects [N,T,\(dim)], got \(x.shape)")
        input = x
        let (n, t, d, h, dh) = (x.shape[0], x.shape[1], dim, heads, headDim)
        let qkvT = qkv.tensor([n, t, 3 * d])
        let p = probs.tensor([n, h, t, t])
        let att = attended.tensor([n, t, d])
        let y = output.tensor([n, t, d])
        linearForward(qkvT.data, x.data, store.value(qkvWeight), store.value(qkvBias), rows: n * t, inFeatures: d, outFeatures: 3 * d)
        // Scores S = scale * Q K^T for each (batch, head): Q and K are strided column blocks of qkv.
        for b in 0..<n {
            for hd in 0..<h {
                let q = qkvT.data + b * t * 3 * d + hd * dh
                gemm(p.data + (b * h + hd) * t * t, q, q + d, m: t, n: t, k: dh, transB: true, alpha: scale,
                     lda: 3 * d, ldb: 3 * d, ldc: t)
            }
        }
        // Softmax per row; causal row i keeps columns 0...i, the rest become exact zeros.
        let (pp, causal) = (p.data, causal)
        parallelFor(n * h * t, minChunk: max(1, 8192 / t)) { rows in
            for r in rows {
                let seen = causal ? r % t + 1 : t, row = pp + r * t
                softmaxInPlace(row, count: seen)
                for j in seen..<t { row[j] = 0 }
            }
        }
        // O = P V, written into this head's columns of `attended`.
        for b in 0..<n {
            for hd in 0..<h {
                let v = qkvT.data + b * t * 3 * d + 2 * d + hd * dh
                gemm(att.data + b * t * d + hd * dh, p.data + (b * h + hd) * t * t, v, m: t, n: dh, k: t,
                     lda: t, ldb: 3 * d, ldc: d)
            }
        }
        linearForward(y.data, att.data, store.value(projWeight), store.value(projBias), rows: n * t, inFeatures: d, outFeatures: d)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("attention backward before forward") }
        let (n, t, d, h, dh) = (x.shape[0], x.shape[1], dim, heads, headDim)
        let qkvT = qkv.tensor([n, t, 3 * d]), p = probs.tensor([n, h, t, t]), att = attended.tensor([n, t, d])
        let datt = dAttended.tensor([n, t, d])
        let dq = dqkv.tensor([n, t, 3 * d])
        let ds = dScores.tensor([t, t])
        let dx = dInput.tensor(x.shape)
        linearBackward(datt.data, store.grad(projWeight), store.grad(projBias), dy.data, att.data,
                       store.value(projWeight), rows: n * t, inFeatures: d, outFeatures: d)
        let sc = scale
        for b in 0..<n {
            for hd in 0..<h {
                let q = qkvT.data + b * t * 3 * d + hd * dh, k = q + d, v = q + 2 * d
                let dQ = dq.data + b * t * 3 * d + hd * dh, dK = dQ + d, dV = dQ + 2 * d
                let ph = p.data + (b * h + hd) * t * t
                let dO = datt.data + b * t * d + hd * dh
                // dP = dO V^T and dV = P^T dO.
                gemm(ds.data, dO, v, m: t, n: t, k: dh, transB: true, lda: d, ldb: 3 * d, ldc: t)
                gemm(dV, ph, dO, m: t, n: dh, k: t, transA: true, lda: t, ldb: d, ldc: 3 * d)
                // Softmax backward in place, with the score scale folded in:
                // dS_ij = scale * P_ij (dP_ij - sum_k P_ik dP_ik); zero where P is (above the diagonal when causal).
                let (dsp, causal) = (ds.data, causal)
                parallelFor(t, minChunk: max(1, 8192 / t)) { rows in
                    for i in rows {
                        let seen = causal ? i + 1 : t, pr = ph + i * t, dr = dsp + i * t
                        var dot: Float = 0
                        for j in 0..<seen { dot += pr[j] * dr[j] }
                        for j in 0..<seen { dr[j] = sc * pr[j] * (dr[j] - dot) }
                        for j in seen..<t { dr[j] = 0 }
                    }
                }
                // dQ = dS K and dK = dS^T Q.
                gemm(dQ, ds.data, k, m: t, n: dh, k: t, lda: t, ldb: 3 * d, ldc: 3 * d)
                gemm(dK, ds.data, q, m: t, n: dh, k: t, transA: true, lda: t, ldb: 3 * d, ldc: 3 * d)
            }
        }
        linearBackward(dx.data, store.grad(qkvWeight), store.grad(qkvBias), dq.data, x.data,
                       store.value(qkvWeight), rows: n * t, inFeatures: d, outFeatures: 3 * d)
        return dx
    }

    /// An empty cache for `batch` sequences of up to `capacity` positions.
    public func makeCache(batch: Int, capacity: Int) -> KVCache {
        precondition(causal, "a key/value cache serves causal attention only")
        return KVCache(batch: batch, capacity: capacity, dim: dim)
    }

    /// The first T positions of every sequence at once: x [N, T, D] -> y [N, T, D], the rows of
    /// `forward`, and an empty cache filled with their keys and values, so that `step` continues
    /// from position T. A prompt's prefix costs one batched pass instead of T single steps.
    public func prefill(_ x: Tensor, cache: KVCache) -> Tensor {
        let (n, t, d) = (cache.batch, x.shape.count == 3 ? x.shape[1] : 0, dim)
        precondition(x.shape == [n, t, d] && cache.length == 0 && t <= cache.capacity,
                     "attention prefill expects [\(n), T <= \(cache.capacity), \(d)] and an empty cache, got \(x.shape)")
        let y = forward(x)
        let qkvT = qkv.tensor([n, t, 3 * d]), cap = cache.capacity
        for b in 0..<n {
            for i in 0..<t {
                let row = qkvT.data + (b * t + i) * 3 * d
                (cache.keys.data + (b * cap + i) * d).update(from: row + d, count: d)
                (cache.values.data + (b * cap + i) * d).update(from: row + 2 * d, count: d)
            }
        }
        cache.length = t
        return y
    }

    /// One new position per sequence: x [N, D] -> y [N, D], attending to every position already in
    /// the cache and to itself; appends this position's key and value to the cache. Feeding a
    /// sequence one position at a time gives the rows of `forward` on the whole sequence.
    public func step(_ x: Tensor, cache: KVCache) -> Tensor {
        let (n, d, h, dh) = (cache.batch, dim, heads, headDim)
        precondition(x.shape == [n, d], "attention step expects [\(n), \(d)], got \(x.shape)")
        precondition(cache.length < cache.capacity, "kv cache is full (\(cache.capacity) positions)")
        let s = cache.length, cap = cache.capacity, sc = scale
        let qkvRow = Tensor([n, 3 * d]), att = Tensor([n, d]), y = Tensor([n, d])
        linearForward(qkvRow.data, x.data, store.value(qkvWeight), store.value(qkvBias), rows: n, inFeatures: d, outFeatures: 3 * d)
        for b in 0..<n {
            (cache.keys.data + (b * cap + s) * d).update(from: qkvRow.data + b * 3 * d + d, count: d)
            (cache.values.data + (b * cap + s) * d).update(from: qkvRow.data + b * 3 * d + 2 * d, count: d)
        }
        // Per sequence and head, scores = q K^T and o = softmax(scores) V: two one-row sgemms over
        // the head's strided columns of the cache. Serial: each is small, and BLAS stays off our pool.
        let w = Tensor([s + 1])
        for b in 0..<n {
            for hd in 0..<h {
                let q = qkvRow.data + b * 3 * d + hd * dh
                let k = cache.keys.data + b * cap * d + hd * dh, v = cache.values.data + b * cap * d + hd * dh
                gemm(w.data, q, k, m: 1, n: s + 1, k: dh, transB: true, alpha: sc, lda: dh, ldb: d, ldc: s + 1)
                softmaxInPlace(w.data, count: s + 1)
                gemm(att.data + b * d + hd * dh, w.data, v, m: 1, n: dh, k: s + 1, lda: s + 1, ldb: d, ldc: dh)
            }
        }
        linearForward(y.data, att.data, store.value(projWeight), store.value(projBias), rows: n, inFeatures: d, outFeatures: d)
        cache.length += 1
        return y
    }
}

/// Keys and values of the positions sampled so far, for one attention layer.
public final class KVCache {
    public let batch: Int, capacity: Int, dim: Int
    public internal(set) var length = 0
    let keys: Tensor        // [N, S, D]
    let values: Tensor      // [N, S, D]

    init(batch: Int, capacity: Int, dim: Int) {
        self.batch = batch
        self.capacity = capacity
        self.dim = dim
        keys = Tensor([batch, capacity, dim])
        values = Tensor([batch, capacity, dim])
    }

    /// Forgets every position (the buffers are reused).
    public func reset() { length = 0 }
}

/// x[0..<count] = softmax(x), shifted by the maximum so that exp never overflows.
func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var mx = -Float.infinity
    for j in 0..<count { mx = max(mx, x[j]) }
    var sum: Float = 0
    for j in 0..<count { x[j] = expf(x[j] - mx); sum += x[j] }
    let inv = 1 / sum
    for j in 0..<count { x[j] *= inv }
}
