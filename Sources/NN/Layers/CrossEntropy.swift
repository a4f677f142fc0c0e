#if canImport(Glibc)
import Glibc
#endif

// Shape letters: M rows (e.g. N*T positions), V classes (vocabulary).

/// Mean softmax cross-entropy of logits [M, V] against integer targets [M]. Rows whose target is
/// `ignoreIndex` count for nothing (neither in the sum nor in the mean). When `dlogits` is given
/// the gradient of the mean is written into it (not added, like mseLoss):
/// (softmax(row) - onehot(target)) / rows counted, and zero on ignored rows.
public func crossEntropyLoss(_ logits: Tensor, _ targets: [Int32], ignoreIndex: Int32? = nil,
                             dlogits: Tensor? = nil) -> Float {
    let (m, v) = (logits.rows, logits.columns)
    precondition(targets.count == m, "cross-entropy: \(targets.count) targets for \(m) rows")
    if let g = dlogits { precondition(g.count == logits.count, "cross-entropy: dlogits \(g.shape) for logits \(logits.shape)") }
    for t in targets where t != ignoreIndex {
        precondition(t >= 0 && Int(t) < v, "cross-entropy: target \(t) outside \(v) classes")
    }
    let counted = targets.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
    let inv = 1 / Float(max(counted, 1))
    var rowLoss = [Double](repeating: 0, count: m)   // [M]: summed in order afterwards, deterministic
    let (z, dz) = (logits.data, dlogits?.data)
    targets.withUnsafeBufferPointer { tp in
        rowLoss.withUnsafeMutableBufferPointer { lp in
            parallelFor(m, minChunk: max(1, 8192 / v)) { rows in
                for r in rows {
                    let row = z + r * v
                    if tp[r] == ignoreIndex {
                        if let dz { (dz + r * v).update(repeating: 0, count: v) }
                        continue
                    }
                    var mx = -Float.infinity
                    for j in 0..<v { mx = max(mx, row[j]) }
                    var sum: Float = 0
                    for j in 0..<v { sum += expf(row[j] - mx) }
                    let target = Int(tp[r])
                    // -log softmax_target = log(sum) + max - z_target, without forming the probabilities.
                    lp[r] = Double(logf(sum) + mx - row[target])
                    if let dz {
                        let g = dz + r * v, norm = inv / sum
                        for j in 0..<v { g[j] = expf(row[j] - mx) * norm }
                        g[target] -= inv
                    }
                }
            }
        }
    }
    return Float(rowLoss.reduce(0, +) / Double(max(counted, 1)))
}
