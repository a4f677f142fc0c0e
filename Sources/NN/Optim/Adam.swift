import Foundation

/// Adam / AdamW over a ParameterStore's flat buffers, with global-norm gradient clipping.
/// Only trainable parameters move; the rest (EMA codebooks) are left to their owners.
public final class Adam {
    public var learningRate: Float
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    /// Decoupled weight decay (AdamW); 0 gives plain Adam.
    public var weightDecay: Float
    public var clipNorm: Float?
    public private(set) var step = 0
    let store: ParameterStore
    public private(set) var m: [Float]
    public private(set) var v: [Float]
    private let trainableRanges: [Range<Int>]

    /// `trains` picks which trainable parameters move (all by default), e.g. only a decoder.
    public init(_ store: ParameterStore, learningRate: Float = 3e-4, weightDecay: Float = 0, clipNorm: Float? = 1,
                trains: (Param) -> Bool = { _ in true }) {
        store.seal()
        self.store = store
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.clipNorm = clipNorm
        m = [Float](repeating: 0, count: store.count)
        v = [Float](repeating: 0, count: store.count)
        trainableRanges = store.params.filter { $0.trainable && trains($0) }.map { $0.offset..<($0.offset + $0.count) }
    }

    /// The L2 norm of all trainable gradients.
    public func gradientNorm() -> Float {
        let g = store.grads
        var sum: Double = 0
        for r in trainableRanges { for i in r { sum += Double(g[i] * g[i]) } }
        return Float(sum.squareRoot())
    }

    /// One update; returns the gradient norm before clipping.
    @discardableResult
    public func update(learningRate lr: Float? = nil) -> Float {
        step += 1
        let norm = gradientNorm()
        let clipScale: Float = clipNorm.map { norm > $0 ? $0 / (norm + 1e-6) : 1 } ?? 1
        let rate = lr ?? learningRate
        let bc1 = 1 - powf(beta1, Float(step)), bc2 = 1 - powf(beta2, Float(step))
        let (w, g) = (store.values, store.grads)
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        m.withUnsafeMutableBufferPointer { mp in
            v.withUnsafeMutableBufferPointer { vp in
                let (mm, vv) = (mp.baseAddress!, vp.baseAddress!)
                for r in trainableRanges {
                    for i in r {
                        let gi = g[i] * clipScale
                        mm[i] = b1 * mm[i] + (1 - b1) * gi
                        vv[i] = b2 * vv[i] + (1 - b2) * gi * gi
                        let mhat = mm[i] / bc1, vhat = vv[i] / bc2
                        w[i] -= rate * (mhat / (vhat.squareRoot() + eps) + wd * w[i])
                    }
                }
            }
        }
        return norm
    }

    /// Restores moments and step count from a checkpoint.
    public func restore(step: Int, m: [Float], v: [Float]) {
        precondition(m.count == store.count && v.count == store.count, "optimizer state does not match the model")
        self.step = step
        self.m = m
        self.v = v
    }
}

/// Linear warm-up then cosine decay to `floor` x the peak rate.
public func cosineSchedule(step: Int, total: Int, warmup: Int, peak: Float, floor: Float = 0.1) -> Float {
    if step < warmup { return peak * Float(step + 1) / Float(warmup) }
    let t = Float(step - warmup) / Float(max(total - warmup, 1))
    return peak * (floor + (1 - floor) * 0.5 * (1 + cosf(.pi * min(t, 1))))
}
