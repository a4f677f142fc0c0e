/// max(0, x). Saves its output: the gradient passes where the output is positive.
public final class ReLU: Layer {
    private var output = Workspace()
    private var dInput = Workspace()
    private var saved: Tensor?

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        let y = output.tensor(x.shape)
        let (src, dst) = (x.data, y.data)
        parallelFor(x.count, minChunk: 1 << 14) { r in
            for i in r { dst[i] = max(src[i], 0) }
        }
        saved = y
        return y
    }

    public func releaseBuffers() {
        saved = nil
        output = Workspace()
        dInput = Workspace()
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let y = saved!
        let dx = dInput.tensor(dy.shape)
        let (g, out, dst) = (dy.data, y.data, dx.data)
        parallelFor(dy.count, minChunk: 1 << 14) { r in
            for i in r { dst[i] = out[i] > 0 ? g[i] : 0 }
        }
        return dx
    }
}
