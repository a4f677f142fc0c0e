// Shape letters: M rows (leading dimensions flattened, e.g. N*T), D width normalized over.

/// Layer normalization over the last dimension: y = (x - mean) * rstd * weight + bias.
public final class LayerNorm: Layer {
    public let dim: Int
    public let epsilon: Float
    public let weight: Param        // [D], initialised to 1
    public let bias: Param          // [D], initialised to 0
    let store: ParameterStore

    // Saved by forward for backward.
    private var input: Tensor?      // [..., D]
    private var mean: [Float] = []  // [M]
    private var rstd: [Float] = []  // [M], 1 / sqrt(var + eps)
    private var output = Workspace()
    private var dInput = Workspace()

    public init(_ store: ParameterStore, _ name: String, dim: Int, epsilon: Float = 1e-5) {
        self.store = store
        self.dim = dim
        self.epsilon = epsilon
        weight = store.add("\(name).weight", [dim], [Float](repeating: 1, count: dim))
        bias = store.add("\(name).bias", [dim], [Float](repeating: 0, count: dim))
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.columns == dim, "layernorm expects [..., \(dim)], got \(x.shape)")
        input = x
        let (m, d, eps) = (x.rows, dim, epsilon)
        let out = output.tensor(x.shape)
        if mean.count != m { mean = [Float](repeating: 0, count: m); rstd = mean }
        let (inp, y, g, b) = (x.data, out.data, store.value(weight), store.value(bias))
        mean.withUnsafeMutableBufferPointer { mp in
            rstd.withUnsafeMutableBufferPointer { rp in
                let (meanp, rstdp) = (mp.baseAddress!, rp.baseAddress!)
                parallelFor(m, minChunk: max(1, 4096 / d)) { rows in
                    for r in rows {
                        let xr = inp + r * d, yr = y + r * d
                        var s: Float = 0
                        for i in 0..<d { s += xr[i] }
                        let mu = s / Float(d)
                        // Two passes: the variance of centred values does not cancel catastrophically.
                        var v: Float = 0
                        for i in 0..<d { let c = xr[i] - mu; v += c * c }
                        let rs = 1 / (v / Float(d) + eps).squareRoot()
                        for i in 0..<d { yr[i] = (xr[i] - mu) * rs * g[i] + b[i] }
                        meanp[r] = mu
                        rstdp[r] = rs
                    }
                }
            }
        }
        return out
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("layernorm backward before forward") }
        let (m, d) = (x.rows, dim)
        let dx = dInput.tensor(x.shape)
        let (inp, dout, dinp) = (x.data, dy.data, dx.data)
        let (g, dg, db) = (store.value(weight), store.grad(weight), store.grad(bias))
        mean.withUnsafeBufferPointer { mp in
            rstd.withUnsafeBufferPointer { rp in
                let (meanp, rstdp) = (mp.baseAddress!, rp.baseAddress!)
                // dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)), dnorm = dy * weight.
                parallelFor(m, minChunk: max(1, 4096 / d)) { rows in
                    for r in rows {
                        let xr = inp + r * d, gr = dout + r * d, dxr = dinp + r * d
                        let (mu, rs) = (meanp[r], rstdp[r])
                        var sumD: Float = 0, sumDN: Float = 0
                        for i in 0..<d {
                            let dn = gr[i] * g[i]
                            sumD += dn
                            sumDN += dn * (xr[i] - mu) * rs
                        }
                        let (meanD, meanDN) = (sumD / Float(d), sumDN / Float(d))
                        for i in 0..<d {
                            let norm = (xr[i] - mu) * rs
                            dxr[i] = rs * (gr[i] * g[i] - meanD - norm * meanDN)
                        }
                    }
                }
                // Parameter gradients by column ranges: each thread owns its columns.
                parallelFor(d, minChunk: max(8, (1 << 15) / max(m, 1))) { cols in
                    for r in 0..<m {
                        let xr = inp + r * d, gr = dout + r * d
                        let (mu, rs) = (meanp[r], rstdp[r])
                        for i in cols {
                            dg[i] += gr[i] * (xr[i] - mu) * rs
                            db[i] += gr[i]
                        }
                    }
                }
            }
        }
        return dx
    }
}
