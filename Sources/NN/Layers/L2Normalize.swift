// Shape letters: M rows (any leading dimensions flattened), D feature width.

/// y = x / |x| per row: each vector onto the unit sphere, as CLIP's embeddings before their dot
/// products. Saves its output and the rows' norms.
public final class L2Normalize: Layer {
    /// Keeps a zero row finite (its output is then zero, not NaN).
    public let epsilon: Float
    private var output = Workspace()
    private var dInput = Workspace()
    private var saved: Tensor?          // y [M, D]
    private var norms: [Float] = []     // [M], |x| of each row (at least epsilon)

    public init(epsilon: Float = 1e-6) { self.epsilon = epsilon }

    public func forward(_ x: Tensor) -> Tensor {
        let (m, d) = (x.rows, x.columns)
        let y = output.tensor(x.shape)
        norms = [Float](repeating: 0, count: m)
        for r in 0..<m {
            let src = x.data + r * d, dst = y.data + r * d
            var s: Float = 0
            for j in 0..<d { s += src[j] * src[j] }
            let norm = max(s.squareRoot(), epsilon)
            norms[r] = norm
            for j in 0..<d { dst[j] = src[j] / norm }
        }
        saved = y
        return y
    }

    /// dx = (dy - y (y . dy)) / |x|: only the part of dy across the sphere moves x.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = saved else { preconditionFailure("l2 normalize backward before forward") }
        let (m, d) = (y.rows, y.columns)
        let dx = dInput.tensor(y.shape)
        for r in 0..<m {
            let yr = y.data + r * d, g = dy.data + r * d, out = dx.data + r * d
            var dot: Float = 0
            for j in 0..<d { dot += yr[j] * g[j] }
            for j in 0..<d { out[j] = (g[j] - yr[j] * dot) / norms[r] }
        }
        return dx
    }
}
