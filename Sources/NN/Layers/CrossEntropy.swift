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
                // e^(z - max) of a row: into its gradient when there is one, else here.
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: v)
                defer { scratch.deallocate() }
                for r in rows {
                    let row = z + r * v
                    if rowWeight[r] == 0 {
                        if let dz { (dz + r * v).update(repeating: 0, count: v) }
                        continue
                    }
                    var mx = -Float.infinity
                    for j in 0..<v { mx = max(mx, row[j]) }
                    let e = dz.map { $0 + r * v } ?? scratch
                    for j in 0..<v { e[j] = fastExp(row[j] - mx) }
                    let sum = vectorSum(e, v)
                    let target = Int(tp[r])
                    // -log softmax_target = log(sum) + max - z_target, without forming the probabilities.
                    lp[r] = Double(rowWeight[r]) * Double(logf(sum) + mx - row[target])
                    if dz != nil {
                        let share = rowWeight[r] * inv, norm = share / sum
                        for j in 0..<v { e[j] *= norm }
                        e[target] -= share
                    }
                }
            }
        }
    }
    return total > 0 ? Float(rowLoss.reduce(0, +) / Double(total)) : 0
}

/// The sum of n floats in eight interleaved partial sums (a single chain of adds would wait on
/// each one): the same result for the same row whatever the threads.
@inline(__always)
private func vectorSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var j = 0
    let raw = UnsafeRawPointer(x)
    while j + 8 <= n {
        acc += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
        j += 8
    }
    var sum = acc.sum()
    while j < n {
        sum += x[j]
        j += 1
    }
    return sum
}
