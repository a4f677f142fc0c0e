#if canImport(Glibc)
import Glibc
#endif

// Shape letters: N pairs in the batch, M >= N captions, E embedding width.

/// CLIP's symmetric InfoNCE, with room for extra negatives on one side. Row i < N of `a` [M, E]
/// and row i of `b` [N, E] are a matching pair (unit vectors); the rows of `a` from N on match
/// nothing (hard negatives: a caption with one attribute changed). With logits S = exp(s) a b^T
/// [M, N] (s the learned log-scale, the inverse temperature), the loss is the mean of the
/// cross-entropy of each of the first N rows of S against its diagonal (a finds its b among the
/// N) and of each column (b finds its a among all M). With M = N it is CLIP's loss.
///
/// The gradients are *added* into `da` and `db` when given; the returned `dlogScale` is dL/ds.
/// `maxLogScale` clamps s as CLIP does (at log 100): above it the scale is constant and dL/ds is 0.
public func contrastiveLoss(_ a: Tensor, _ b: Tensor, logScale s: Float, maxLogScale: Float = logf(100),
                            da: Tensor? = nil, db: Tensor? = nil) -> (loss: Float, dlogScale: Float) {
    precondition(a.shape.count == 2 && b.shape.count == 2 && a.shape[1] == b.shape[1] && a.shape[0] >= b.shape[0],
                 "contrastive loss: \(a.shape) against \(b.shape)")
    let (m, n, e) = (a.shape[0], b.shape[0], a.shape[1])
    let clamped = s > maxLogScale
    let scale = expf(min(s, maxLogScale))
    let sim = Tensor([m, n])                                                 // a b^T, cosines
    gemm(sim.data, a.data, b.data, m: m, n: n, k: e, transB: true)
    let rows = Tensor([n, n]), cols = Tensor([n, m])                         // S's first N rows, and S^T
    for i in 0..<m {
        for j in 0..<n {
            if i < n { rows.data[i * n + j] = scale * sim.data[i * n + j] }
            cols.data[j * m + i] = scale * sim.data[i * n + j]
        }
    }
    let targets = (0..<n).map { Int32($0) }
    let drows = Tensor([n, n]), dcols = Tensor([n, m])
    let loss = 0.5 * (crossEntropyLoss(rows, targets, dlogits: drows) + crossEntropyLoss(cols, targets, dlogits: dcols))
    // dL/dS = (drows + dcols^T) / 2; dL/dsim = scale dL/dS; dL/ds = sum(dL/dS * S).
    let dsim = Tensor([m, n])
    var ds: Float = 0
    for i in 0..<m {
        for j in 0..<n {
            let g = 0.5 * ((i < n ? drows.data[i * n + j] : 0) + dcols.data[j * m + i])
            dsim.data[i * n + j] = scale * g
            ds += g * scale * sim.data[i * n + j]
        }
    }
    if let da { gemm(da.data, dsim.data, b.data, m: m, n: e, k: n, beta: 1) }                // da += dsim b
    if let db { gemm(db.data, dsim.data, a.data, m: n, n: e, k: m, transA: true, beta: 1) }  // db += dsim^T a
    return (loss, clamped ? 0 : ds)
}
