// Shape letters: N batch, H height, W width, C channels (NHWC), G groups, Cg = C / G.

/// Group normalization of NHWC images: statistics per image and group of Cg channels over all
/// pixels, then a per-channel scale and shift. Independent of the batch size, unlike batch norm,
/// so training on crops and running on one whole image normalize alike.
public final class GroupNorm: Layer {
    public let channels: Int, groups: Int
    public let epsilon: Float
    public let weight: Param        // [C], initialised to 1
    public let bias: Param          // [C], initialised to 0
    let store: ParameterStore

    // Saved by forward for backward.
    private var input: Tensor?      // [N, H, W, C]
    private var mean: [Float] = []  // [N, G]
    private var rstd: [Float] = []  // [N, G]
    private var output = Workspace()
    private var dInput = Workspace()

    public init(_ store: ParameterStore, _ name: String, channels: Int, groups: Int, epsilon: Float = 1e-5) {
        precondition(channels % groups == 0, "groupnorm: \(channels) channels do not split into \(groups) groups")
        self.store = store
        self.channels = channels
        self.groups = groups
        self.epsilon = epsilon
        weight = store.add("\(name).weight", [channels], [Float](repeating: 1, count: channels))
        bias = store.add("\(name).bias", [channels], [Float](repeating: 0, count: channels))
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == channels, "groupnorm expects [N,H,W,\(channels)], got \(x.shape)")
        input = x
        let (n, c, g, cg, eps) = (x.shape[0], channels, groups, channels / groups, epsilon)
        let pixels = x.shape[1] * x.shape[2]
        let count = Float(pixels * cg)
        let out = output.tensor(x.shape)
        if mean.count != n * g { mean = [Float](repeating: 0, count: n * g); rstd = mean }
        let (inp, y, w, b) = (x.data, out.data, store.value(weight), store.value(bias))
        mean.withUnsafeMutableBufferPointer { mp in
            rstd.withUnsafeMutableBufferPointer { rp in
                let (meanp, rstdp) = (mp.baseAddress!, rp.baseAddress!)
                parallelFor(n) { images in
                    // Per-channel sums first (a contiguous, vectorizable pass over pixels), then groups.
                    var chan = [Float](repeating: 0, count: c)
                    var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
                    for img in images {
                        let xi = inp + img * pixels * c, yi = y + img * pixels * c
                        for i in 0..<c { chan[i] = 0 }
                        for p in 0..<pixels { for i in 0..<c { chan[i] += xi[p * c + i] } }
                        var mu = [Float](repeating: 0, count: g)
                        for j in 0..<g { for i in 0..<cg { mu[j] += chan[j * cg + i] }; mu[j] /= count }
                        for i in 0..<c { chan[i] = 0 }
                        for p in 0..<pixels {
                            for i in 0..<c { let d = xi[p * c + i] - mu[i / cg]; chan[i] += d * d }
                        }
                        for j in 0..<g {
                            var v: Float = 0
                            for i in 0..<cg { v += chan[j * cg + i] }
                            let rs = 1 / (v / count + eps).squareRoot()
                            meanp[img * g + j] = mu[j]
                            rstdp[img * g + j] = rs
                            // y = x * scale + shift per channel folds normalize and affine together.
                            for i in 0..<cg {
                                let ch = j * cg + i
                                scale[ch] = rs * w[ch]
                                shift[ch] = b[ch] - mu[j] * rs * w[ch]
                            }
                        }
                        for p in 0..<pixels { for i in 0..<c { yi[p * c + i] = xi[p * c + i] * scale[i] + shift[i] } }
                    }
                }
            }
        }
        return out
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("groupnorm backward before forward") }
        let (n, c, g, cg) = (x.shape[0], channels, groups, channels / groups)
        let pixels = x.shape[1] * x.shape[2]
        let count = Float(pixels * cg)
        let dx = dInput.tensor(x.shape)
        let (inp, dout, dinp) = (x.data, dy.data, dx.data)
        let (w, dw, db) = (store.value(weight), store.grad(weight), store.grad(bias))
        // Per-image parameter gradients, summed afterwards in image order (deterministic).
        var partW = [Float](repeating: 0, count: n * c), partB = partW
        mean.withUnsafeBufferPointer { mp in
            rstd.withUnsafeBufferPointer { rp in
                partW.withUnsafeMutableBufferPointer { pwp in
                    partB.withUnsafeMutableBufferPointer { pbp in
                        let (meanp, rstdp, pw, pb) = (mp.baseAddress!, rp.baseAddress!, pwp.baseAddress!, pbp.baseAddress!)
                        parallelFor(n) { images in
                            var mu = [Float](repeating: 0, count: c), rs = mu
                            var sumD = [Float](repeating: 0, count: c), sumDN = sumD
                            for img in images {
                                let xi = inp + img * pixels * c, gi = dout + img * pixels * c, dxi = dinp + img * pixels * c
                                for i in 0..<c {
                                    mu[i] = meanp[img * g + i / cg]; rs[i] = rstdp[img * g + i / cg]
                                    sumD[i] = 0; sumDN[i] = 0
                                }
                                let (pwi, pbi) = (pw + img * c, pb + img * c)
                                // Per channel: sum dy, sum dy*norm (for the parameters), then per group
                                // with the weight: sum dnorm, sum dnorm*norm (for dx).
                                for p in 0..<pixels {
                                    for i in 0..<c {
                                        let gv = gi[p * c + i]
                                        pbi[i] += gv
                                        pwi[i] += gv * (xi[p * c + i] - mu[i]) * rs[i]
                                    }
                                }
                                for j in 0..<g {
                                    var sd: Float = 0, sdn: Float = 0
                                    for i in (j * cg)..<((j + 1) * cg) { sd += pbi[i] * w[i]; sdn += pwi[i] * w[i] }
                                    for i in (j * cg)..<((j + 1) * cg) { sumD[i] = sd / count; sumDN[i] = sdn / count }
                                }
                                for p in 0..<pixels {
                                    for i in 0..<c {
                                        let norm = (xi[p * c + i] - mu[i]) * rs[i]
                                        dxi[p * c + i] = rs[i] * (gi[p * c + i] * w[i] - sumD[i] - norm * sumDN[i])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for img in 0..<n {
            for i in 0..<c {
                dw[i] += partW[img * c + i]
                db[i] += partB[img * c + i]
            }
        }
        return dx
    }
}
