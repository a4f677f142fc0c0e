/// A differentiable step. `forward` saves what `backward` needs; `backward` takes the
/// gradient of the loss with respect to the output, adds parameter gradients into the
/// store, and returns the gradient with respect to the input.
public protocol Layer: AnyObject {
    func forward(_ x: Tensor) -> Tensor
    func backward(_ dy: Tensor) -> Tensor
    /// Forward for inference only: containers free each intermediate as soon as the next layer
    /// has read it, so memory holds a few activations instead of all of them.
    func infer(_ x: Tensor) -> Tensor
    /// Drops the buffers kept for backward and reuse; the next call allocates afresh.
    func releaseBuffers()
}

extension Layer {
    public func infer(_ x: Tensor) -> Tensor { forward(x) }
    public func releaseBuffers() {}
}

/// Layers applied one after another.
public final class Sequential: Layer {
    public var layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public func forward(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1.forward($0) }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        layers.reversed().reduce(dy) { $1.backward($0) }
    }

    public func infer(_ x: Tensor) -> Tensor { infer(x, adding: nil) }

    /// Inference, plus `skip` added to the result (a residual connection). A ReLU just after a
    /// Conv2d, a ReLU and/or an Upsample2x just before one, and the skip after a final Conv2d are
    /// folded into that convolution (Conv2d.infer(_:reluInput:upsampleInput:adding:reluOutput:)),
    /// which saves a pass over memory and a full-size buffer each; the result is the same, bit
    /// for bit, except that upsampling convolutions round differently (Conv2d.inferUpsampled).
    ///
    /// `consumingSkip`: the caller reads `skip` no more, so the result may be written over it.
    /// The activations made in here are this call's own, so residual blocks inside write their
    /// result over their input; `x` itself, the caller's, is never written.
    public func infer(_ x: Tensor, adding skip: Tensor?, consumingSkip: Bool = false) -> Tensor {
        var current = x
        var previous: (any Layer)? = nil
        var skipAdded = false
        var i = 0
        while i < layers.count {
            var j = i, relu = false, upsample = false
            if layers[j] is ReLU, j + 1 < layers.count, layers[j + 1] is Conv2d || layers[j + 1] is Upsample2x {
                relu = true
                j += 1
            }
            if layers[j] is Upsample2x, j + 1 < layers.count, layers[j + 1] is Conv2d {
                upsample = true
                j += 1
            }
            let next: Tensor
            let ran = layers[j]
            if let conv = layers[j] as? Conv2d {
                // A ReLU after the convolution is applied to its output blocks instead.
                let reluOut = j + 1 < layers.count && layers[j + 1] is ReLU
                let last = j == layers.count - 1
                next = conv.infer(current, reluInput: relu, upsampleInput: upsample, adding: last ? skip : nil,
                                  intoSkip: consumingSkip, reluOutput: reluOut)
                skipAdded = skipAdded || (last && skip != nil)
                if reluOut { j += 1 }
            } else if let residual = layers[j] as? Residual, i == j {
                next = residual.infer(current, consuming: current !== x)
            } else {
                // No convolution to fold into: run what was skipped over as it is.
                var t = current
                for l in layers[i...j] { t = l.infer(t) }
                next = t
                for l in layers[i..<j] { l.releaseBuffers() }
            }
            previous?.releaseBuffers()
            previous = ran
            current = next
            i = j + 1
        }
        if let skip, !skipAdded {
            precondition(skip.shape == current.shape, "skip \(skip.shape) for output \(current.shape)")
            let y = Tensor(uninitialized: current.shape)
            add(y.data, skip.data, current.data, y.count)
            return y
        }
        return current
    }

    public func releaseBuffers() { layers.forEach { $0.releaseBuffers() } }
}

/// Multiply-adds x 2 of the convolutions that `layer.infer` executes on an input of h x w pixels,
/// with the same folding as Sequential.infer (an Upsample2x before a 3x3 Conv2d runs as four 2x2
/// phases), and the output's spatial size. Other layers are a few percent and bandwidth-bound.
public func inferenceFLOPs(_ layer: any Layer, height: Int, width: Int) -> (flops: Double, height: Int, width: Int) {
    switch layer {
    case let s as Sequential:
        var (f, h, w) = (0.0, height, width)
        var i = 0
        while i < s.layers.count {
            if s.layers[i] is Upsample2x, i + 1 < s.layers.count, let conv = s.layers[i + 1] as? Conv2d {
                f += conv.inferenceFLOPs(height: h, width: w, upsampleInput: true)
                (h, w) = conv.outputSize(height: 2 * h, width: 2 * w)
                i += 2
                continue
            }
            let r = inferenceFLOPs(s.layers[i], height: h, width: w)
            f += r.flops
            (h, w) = (r.height, r.width)
            i += 1
        }
        return (f, h, w)
    case let r as Residual:
        return (inferenceFLOPs(r.body, height: height, width: width).flops, height, width)
    case let c as Conv2d:
        let (ho, wo) = c.outputSize(height: height, width: width)
        return (c.inferenceFLOPs(height: height, width: width), ho, wo)
    case is Upsample2x:
        return (0, 2 * height, 2 * width)
    case let p as PixelRearrangement:
        let (h, w) = p.outputSize(height: height, width: width)
        return (0, h, w)
    default:
        return (0, height, width)
    }
}
