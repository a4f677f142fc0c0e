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

    public func infer(_ x: Tensor) -> Tensor {
        var current = x
        var previous: (any Layer)? = nil
        for layer in layers {
            let next = layer.infer(current)
            previous?.releaseBuffers()
            previous = layer
            current = next
        }
        return current
    }

    public func releaseBuffers() { layers.forEach { $0.releaseBuffers() } }
}
