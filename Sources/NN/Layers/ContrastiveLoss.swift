#if canImport(Glibc)
import Glibc
#endif

// Shape letters: N pairs in the batch, E embedding width.

/// CLIP's symmetric InfoNCE. Row i of `a` [N, E] and row i of `b` [N, E] are a matching pair
/// (unit vectors); every other row of the batch is a negative. With logits S = exp(s) a b^T
/// [N, N] (s the learned log-scale, the inverse temperature), the loss is the mean of the
/// cross-entropy of each row of S against its diagonal (a finds its b) and of each column
/// (b finds its a).
///
/// The gradients are *added* into `da` and `db` when given; the returned `dlogScale` is dL/ds.
/// `maxLogScale` clamps s as CLIP does (at log 100): above it the scale is constant and dL/ds is 0.
public func contrastiveLoss(_ a: Tensor, _ b: Tensor, logScale s: Float, maxLogScale: Float = logf(100),
                            da: Tensor? = nil, db: Tensor? = nil) -> (loss: Float, dlogScale: Float) {
    precondition(a.shape == b.shape && a.shape.count == 2, "contrastive loss: \(a.shape) against \(b.shape)")
    let (n, e) = (a.shape[0], a.shape[1])
    let clamped = s > maxLogScale
    let scale = expf(min(s, maxLogScale))
    let sim = Tensor([n, n])                                                 // a b^T, cosines
    gemm(sim.data, a.data, b.data, m: n, n: n, k: e, transB: true)
    let rows = Tensor([n, n]), cols = Tensor([n, n])                         // S and S^T
    for i in 0..<n {
        for j in 0..<n {
            rows.data[i * n + j] = scale * sim.data[i * n + j]
            cols.data[j * n + i] = scale * sim.data[i * n + j]
        }
    }
    let targets = (0..<n).map { Int32($0) }
    let drows = Tensor([n, n]), dcols = Tensor([n, n])
    let loss = 0.5 * (crossEntropyLoss(rows, targets, dlogits: drows) + crossEntropyLoss(cols, targets, dlogits: dcols))
    // dL/dS = (drows + dcols^T) / 2; dL/dsim = scale dL/dS; dL/ds = sum(dL/dS * S).
    let dsim = Tensor([n, n])
    var ds: Float = 0
    for i in 0..<n {
        for j in 0..<n {
            let g = 0.5 * (drows.data[i * n + j] + dcols.data[j * n + i])
            dsim.data[i * n + j] = scale * g
            ds += g * rows.data[i * n + j]
        }
    }
    if let da { gemm(da.data, dsim.data, b.data, m: n, n: e, k: n, beta: 1) }                // da += dsim b
    if let db { gemm(db.data, dsim.data, a.data, m: n, n: e, k: n, transA: true, beta: 1) }  // db += dsim^T a
    return (loss, clamped ? 0 : ds)
}
