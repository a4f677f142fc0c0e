#if canImport(Glibc)
import Glibc
#endif

// Shape letters: N pairs in the batch, M >= N captions, G >= N grids, E embedding width.

/// CLIP's symmetric InfoNCE, with room for extra negatives on both sides. Row i < N of `a` [M, E]
/// and row i of `b` [G, E] are a matching pair (unit vectors); the rows from N on match nothing
/// (hard negatives: a caption with one attribute changed, or a picture with one changed). With
/// logits S = exp(s) a b^T [M, G] (s the learned log-scale, the inverse temperature), the loss is
/// the mean of the cross-entropy of each of the first N rows of S against its diagonal (a finds
/// its b among all G) and of each of the first N columns (b finds its a among all M). With
/// M = G = N it is CLIP's loss.
///
/// The gradients are *added* into `da` and `db` when given; the returned `dlogScale` is dL/ds.
/// `maxLogScale` clamps s as CLIP does (at log 100): above it the scale is constant and dL/ds is 0.
public func contrastiveLoss(_ a: Tensor, _ b: Tensor, pairs: Int? = nil, logScale s: Float, maxLogScale: Float = logf(100),
                            da: Tensor? = nil, db: Tensor? = nil) -> (loss: Float, dlogScale: Float) {
    let (m, g) = (a.shape[0], b.shape[0]), n = pairs ?? min(m, g)
    precondition(a.shape.count == 2 && b.shape.count == 2 && a.shape[1] == b.shape[1] && n >= 1 && n <= min(m, g),
                 "contrastive loss: \(a.shape) against \(b.shape), \(n) pairs")
    let e = a.shape[1]
    let clamped = s > maxLogScale
    let scale = expf(min(s, maxLogScale))
    let sim = Tensor([m, g])                                                 // a b^T, cosines
    gemm(sim.data, a.data, b.data, m: m, n: g, k: e, transB: true)
    let rows = Tensor([n, g]), cols = Tensor([n, m])                         // S's first N rows, and its first N columns
    for i in 0..<m {
        for j in 0..<g {
            if i < n { rows.data[i * g + j] = scale * sim.data[i * g + j] }
            if j < n { cols.data[j * m + i] = scale * sim.data[i * g + j] }
        }
    }
    let targets = (0..<n).map { Int32($0) }
    let drows = Tensor([n, g]), dcols = Tensor([n, m])
    let loss = 0.5 * (crossEntropyLoss(rows, targets, dlogits: drows) + crossEntropyLoss(cols, targets, dlogits: dcols))
    // dL/dS = (drows + dcols^T) / 2; dL/dsim = scale dL/dS; dL/ds = sum(dL/dS * S).
    let dsim = Tensor([m, g])
    var ds: Float = 0
    for i in 0..<m {
        for j in 0..<g {
            let d = 0.5 * ((i < n ? drows.data[i * g + j] : 0) + (j < n ? dcols.data[j * m + i] : 0))
            dsim.data[i * g + j] = scale * d
            ds += d * scale * sim.data[i * g + j]
        }
    }
    if let da { gemm(da.data, dsim.data, b.data, m: m, n: e, k: g, beta: 1) }                // da += dsim b
    if let db { gemm(db.data, dsim.data, a.data, m: g, n: e, k: m, transA: true, beta: 1) }  // db += dsim^T a
    return (loss, clamped ? 0 : ds)
}
