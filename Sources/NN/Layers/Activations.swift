#if canImport(Glibc)
import Glibc
#endif

// Elementwise activations on tensors of any shape; the gated one halves the last dimension.

/// SiLU (swish): y = x * sigmoid(x). Saves its input.
public final class SiLU: Layer {
    private var input: Tensor?      // same shape as y
    private var output = Workspace()
    private var dInput = Workspace()

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        let y = output.tensor(x.shape)
        let (src, dst) = (x.data, y.data)
        parallelFor(x.count, minChunk: 1 << 13) { r in
            for i in r { dst[i] = src[i] / (1 + expf(-src[i])) }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        let dx = dInput.tensor(x.shape)
        let (src, g, dst) = (x.data, dy.data, dx.data)
        // d/dx x*s(x) = s(x) * (1 + x * (1 - s(x)))
        parallelFor(x.count, minChunk: 1 << 13) { r in
            for i in r {
                let s = 1 / (1 + expf(-src[i]))
                dst[i] = g[i] * s * (1 + src[i] * (1 - s))
            }
        }
        return dx
    }
}

/// GELU in its tanh approximation (as in GPT-2 and llm.c), not the exact erf form:
/// y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Saves its input and the tanh, which is
/// all backward needs.
public final class GELU: Layer {
    private var input: Tensor?      // same shape as y
    private var tanhOut = Workspace()
    private var output = Workspace()
    private var dInput = Workspace()
    static let k0: Float = 0.7978845608028654, k1: Float = 0.044715   // sqrt(2/pi), cubic coefficient

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        let y = output.tensor(x.shape), t = tanhOut.tensor(x.shape)
        let (src, dst, th) = (x.data, y.data, t.data)
        let (k0, k1) = (GELU.k0, GELU.k1)
        parallelFor(x.count, minChunk: 1 << 13) { r in
            for i in r {
                let v = src[i]
                th[i] = fastTanh(k0 * (v + k1 * v * v * v))
                dst[i] = 0.5 * v * (1 + th[i])
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        let dx = dInput.tensor(x.shape), t = tanhOut.tensor(x.shape)
        let (src, g, dst, th) = (x.data, dy.data, dx.data, t.data)
        let (k0, k1) = (GELU.k0, GELU.k1)
        parallelFor(x.count, minChunk: 1 << 13) { r in
            for i in r {
                let v = src[i], t = th[i]
                let local = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k0 * (1 + 3 * k1 * v * v)
                dst[i] = g[i] * local
            }
        }
        return dx
    }
}

/// The gated PixelCNN's activation: x [..., 2C] -> y [..., C] = tanh(a) * sigmoid(b), where a is
/// the first C channels of each row and b the last C. Saves tanh(a) and sigmoid(b), which is
/// all backward needs.
public final class GatedActivation: Layer {
    private var tanhA = Workspace()     // [..., C]
    private var sigB = Workspace()      // [..., C]
    private var inputShape: [Int] = []
    private var output = Workspace()
    private var dInput = Workspace()

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.columns % 2 == 0, "gated activation needs an even last dimension, got \(x.shape)")
        inputShape = x.shape
        let c = x.columns / 2, m = x.rows
        let shape = Array(x.shape.dropLast()) + [c]
        let (y, t, s) = (output.tensor(shape), tanhA.tensor(shape), sigB.tensor(shape))
        let (src, dst, tp, sp) = (x.data, y.data, t.data, s.data)
        parallelFor(m, minChunk: max(1, 4096 / c)) { rows in
            for r in rows {
                let a = src + r * 2 * c, b = a + c
                for i in 0..<c {
                    let ta = tanhf(a[i]), sb = 1 / (1 + expf(-b[i]))
                    tp[r * c + i] = ta
                    sp[r * c + i] = sb
                    dst[r * c + i] = ta * sb
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = dInput.tensor(inputShape)
        let c = dy.columns, m = dy.rows
        let (g, dst, tp, sp) = (dy.data, dx.data, tanhA.tensor(dy.shape).data, sigB.tensor(dy.shape).data)
        parallelFor(m, minChunk: max(1, 4096 / c)) { rows in
            for r in rows {
                let da = dst + r * 2 * c, db = da + c
                for i in 0..<c {
                    let (gv, ta, sb) = (g[r * c + i], tp[r * c + i], sp[r * c + i])
                    da[i] = gv * sb * (1 - ta * ta)
                    db[i] = gv * ta * sb * (1 - sb)
                }
            }
        }
        return dx
    }
}
