#if canImport(Glibc)
import Glibc
#endif

// Shape letters: M rows (e.g. N*T positions), V classes (vocabulary).

/// Mean softmax cross-entropy of logits [M, V] against integer targets [M]. Rows whose target is
/// `ignoreIndex` count for nothing (neither in the sum nor in the mean). With `weights` [M] the
/// mean is weighted: sum(w * loss) / sum(w), so a row of weight 2 counts as two rows. When
/// `dlogits` is given the gradient of the mean is written into it (not added, like mseLoss):
/// (softmax(row) - onehot(target)) * w / sum(w), and zero on ignored rows.
public func crossEntropyLoss(_ logits: Tensor, _ targets: [Int32], ignoreIndex: Int32? = nil,
                             weights: [Float]? = nil, dlogits: Tensor? = nil) -> Float {
    let (m, v) = (logits.rows, logits.columns)
    precondition(targets.count == m, "cross-entropy: \(targets.count) targets for \(m) rows")
    if let g = dlogits { precondition(g.count == logits.count, "cross-entropy: dlogits \(g.shape) for logits \(logits.shape)") }
    if let weights { precondition(weights.count == m && weights.allSatisfy { $0 >= 0 }, "cross-entropy: \(weights.count) weights for \(m) rows, none negative") }
    for t in targets where t != ignoreIndex {
        precondition(t >= 0 && Int(t) < v, "cross-entropy: target \(t) outside \(v) classes")
    }
    let rowWeight = (0..<m).map { r in targets[r] == ignoreIndex ? 0 : weights?[r] ?? 1 }
    let total = rowWeight.reduce(0, +)
    let inv = total > 0 ? 1 / total : 0
    var rowLoss = [Double](repeating: 0, count: m)   // [M]: summed in order afterwards, deterministic
    let (z, dz) = (logits.data, dlogits?.data)
    targets.withUnsafeBufferPointer { tp in
        rowLoss.withUnsafeMutableBufferPointer { lp in
            parallelFor(m, minChunk: max(1, 8192 / v)) { rows in
                for r in rows {
                    let row = z + r * v
                    if rowWeight[r] == 0 {
                        if let dz { (dz + r * v).update(repeating: 0, count: v) }
                        continue
                    }
                    var mx = -Float.infinity
                    for j in 0..<v { mx = max(mx, row[j]) }
                    var sum: Float = 0
                    for j in 0..<v { sum += expf(row[j] - mx) }
                    let target = Int(tp[r])
                    // -log softmax_target = log(sum) + max - z_target, without forming the probabilities.
                    lp[r] = Double(rowWeight[r]) * Double(logf(sum) + mx - row[target])
                    if let dz {
                        let share = rowWeight[r] * inv, g = dz + r * v, norm = share / sum
                        for j in 0..<v { g[j] = expf(row[j] - mx) * norm }
                        g[target] -= share
                    }
                }
            }
        }
    }
    return total > 0 ? Float(rowLoss.reduce(0, +) / Double(total)) : 0
}
