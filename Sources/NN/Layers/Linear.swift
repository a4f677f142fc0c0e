// Shape letters: M rows (any leading dimensions flattened, e.g. N*T), Din / Dout feature widths.

/// y = x W + b over the last dimension: x [..., Din] -> y [..., Dout].
/// W is stored [Din, Dout] (like Conv2d's [k, k, Cin, Cout]) so forward is one row-major sgemm
/// without transposes.
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Param        // [Din, Dout]
    public let bias: Param?         // [Dout]
    let store: ParameterStore
    /// The first layer of a network (or one fed by an embedding whose gradient is not needed) skips dX.
    public var computesInputGradient = true

    private var input: Tensor?      // [..., Din], saved for backward (dW = x^T dy)
    private var output = Workspace()
    private var dInput = Workspace()

    public init(_ store: ParameterStore, _ name: String, inFeatures: Int, outFeatures: Int,
                bias hasBias: Bool = true, initGain: Float = 1, rng: inout RNG) {
        self.store = store
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = store.add("\(name).weight", [inFeatures, outFeatures],
                           heUniform(inFeatures * outFeatures, fanIn: inFeatures, gain: initGain, rng: &rng))
        bias = hasBias ? store.add("\(name).bias", [outFeatures], [Float](repeating: 0, count: outFeatures)) : nil
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.columns == inFeatures, "linear expects [..., \(inFeatures)], got \(x.shape)")
        input = x
        let m = x.rows
        let out = output.tensor(Array(x.shape.dropLast()) + [outFeatures])
        linearForward(out.data, x.data, store.value(weight), bias.map { store.value($0) },
                      rows: m, inFeatures: inFeatures, outFeatures: outFeatures)
        return out
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("linear backward before forward") }
        let m = x.rows
        let dx = dInput.tensor(x.shape)
        linearBackward(computesInputGradient ? dx.data : nil, store.grad(weight), bias.map { store.grad($0) },
                       dy.data, x.data, store.value(weight), rows: m, inFeatures: inFeatures, outFeatures: outFeatures)
        return dx
    }
}

/// out[M, Dout] = inp[M, Din] * weight[Din, Dout] + bias[Dout]. Shared by Linear and attention.
@inline(__always)
func linearForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                   _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                   rows m: Int, inFeatures din: Int, outFeatures dout: Int) {
    if let b = bias {
        for r in 0..<m { (out + r * dout).update(from: b, count: dout) }
    }
    gemm(out, inp, weight, m: m, n: dout, k: din, beta: bias == nil ? 0 : 1)
}

/// dweight += inp^T dout, dbias += column sums of dout, dinp = dout weight^T (written, when asked).
@inline(__always)
func linearBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>,
                    _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                    _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                    rows m: Int, inFeatures din: Int, outFeatures dn: Int) {
    gemm(dweight, inp, dout, m: din, n: dn, k: m, transA: true, beta: 1)
    if let db = dbias { addColumnSums(db, dout, rows: m, columns: dn) }
    if let dx = dinp { gemm(dx, dout, weight, m: m, n: din, k: dn, transB: true) }
}

/// acc[c] += sum over rows of a[r, c]. Threads own disjoint column ranges, so the sum is
/// deterministic and needs no reduction step.
func addColumnSums(_ acc: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, rows: Int, columns: Int) {
    parallelFor(columns, minChunk: max(16, (1 << 16) / max(rows, 1))) { cols in
        for r in 0..<rows {
            let row = a + r * columns
            for c in cols { acc[c] += row[c] }
        }
    }
}
