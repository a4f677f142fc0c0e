/// y = x + body(x): the skip connection adds the incoming gradient to the body's.
public final class Residual: Layer {
    public let body: any Layer
    private var output = Workspace()
    private var dInput = Workspace()

    public init(_ body: any Layer) { self.body = body }

    public func forward(_ x: Tensor) -> Tensor {
        let f = body.forward(x)
        precondition(f.shape == x.shape, "residual body changed shape \(x.shape) -> \(f.shape)")
        let y = output.tensor(x.shape)
        add(y.data, x.data, f.data, x.count)
        return y
    }

    public func infer(_ x: Tensor) -> Tensor { infer(x, consuming: false) }

    /// `consuming`: the caller reads `x` no more, so the result may be written over it.
    public func infer(_ x: Tensor, consuming: Bool) -> Tensor {
        let y: Tensor
        if let seq = body as? Sequential {
            // The skip is added inside the body's last convolution, block by block.
            y = seq.infer(x, adding: x, consumingSkip: consuming)
        } else {
            let f = body.infer(x)
            precondition(f.shape == x.shape, "residual body changed shape \(x.shape) -> \(f.shape)")
            y = consuming && f !== x ? x : output.uninitializedTensor(x.shape)
            add(y.data, x.data, f.data, x.count)
        }
        body.releaseBuffers()
        return y
    }

    public func releaseBuffers() {
        output = Workspace()
        dInput = Workspace()
        body.releaseBuffers()
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dbody = body.backward(dy)
        let dx = dInput.tensor(dy.shape)
        add(dx.data, dy.data, dbody.data, dy.count)
        return dx
    }
}

/// out = a + b, elementwise, on all cores.
@inline(__always)
public func add(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    parallelFor(n, minChunk: 1 << 14) { r in
        for i in r { out[i] = a[i] + b[i] }
    }
}
