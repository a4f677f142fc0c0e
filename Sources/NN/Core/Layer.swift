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

    /// Inference, plus `skip` added to the result (a residual connection). A ReLU and/or an
    /// Upsample2x just before a Conv2d, and the skip after a final Conv2d, are folded into that
    /// convolution (Conv2d.infer(_:reluInput:upsampleInput:adding:)), which saves a pass over
    /// memory and a full-size buffer each; the result is the same, bit for bit.
    public func infer(_ x: Tensor, adding skip: Tensor?) -> Tensor {
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
            if let conv = layers[j] as? Conv2d {
                let last = j == layers.count - 1
                next = conv.infer(current, reluInput: relu, upsampleInput: upsample, adding: last ? skip : nil)
                skipAdded = skipAdded || (last && skip != nil)
            } else {
                // No convolution to fold into: run what was skipped over as it is.
                var t = current
                for l in layers[i...j] { t = l.infer(t) }
                next = t
            }
            previous?.releaseBuffers()
            previous = layers[j]
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
