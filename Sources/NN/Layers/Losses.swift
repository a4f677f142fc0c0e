/// Mean squared error over all elements, and its gradient (written into dpred, not added).
public func mseLoss(_ pred: Tensor, _ target: Tensor, dpred: Tensor? = nil) -> Float {
    precondition(pred.count == target.count, "mse: \(pred.shape) vs \(target.shape)")
    let n = pred.count
    var sum: Double = 0
    let (p, t) = (pred.data, target.data)
    for i in 0..<n {
        let d = p[i] - t[i]
        sum += Double(d * d)
    }
    if let g = dpred {
        let scale = 2 / Float(n)
        for i in 0..<n { g.data[i] = scale * (p[i] - t[i]) }
    }
    return Float(sum / Double(max(n, 1)))
}
