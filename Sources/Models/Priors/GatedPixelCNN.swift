import NN

// Shape letters: N batch, H x W token grid, C channels of each stack, K codebook size.

/// The gated PixelCNN of van den Oord et al. (2016), the prior of the original VQ-VAE, over a
/// grid of token indices:
///
///     x = embed(tokens)                                   [N, H, W, C]
///     v_0 = h_0 = x
///     per layer l:
///       vc = vconv_l(v_l)            vertical mask: rows <= y            [N, H, W, 2C]
///       hs = hconv_l(h_l) + v2h_l(shiftDown(vc))   horizontal mask: row y, columns < x (l = 0) or <= x
///       v_{l+1} = gate(vc)                                                [N, H, W, C]
///       h_{l+1} = h_l + hout_l(gate(hs))   (no skip at l = 0: h_0 holds the token itself)
///     logits = head(h_L)             ReLU, 1x1 C->C, ReLU, 1x1 C->K     [N, H, W, K]
///
/// The vertical stack sees every column of the rows above, the horizontal one the row so far, so
/// there is no blind spot; the shift keeps a row's vertical features out of its own horizontal stack.
public final class GatedPixelCNN: TokenPrior {
    public let config: PriorConfig
    public let store: ParameterStore
    public var maxGrid: (rows: Int, cols: Int)? { nil }

    let embed: Embedding
    let vconv: [Conv2d], hconv: [Conv2d], v2h: [Conv2d], hout: [Conv2d]
    let shift: [ShiftDown]
    let vgate: [GatedActivation], hgate: [GatedActivation]
    let head: Sequential

    // Saved by forward for backward.
    private var shape: (n: Int, h: Int, w: Int) = (0, 0, 0)

    /// Rows above a position that can influence its logits: one per layer through the vertical
    /// stacks' kernels, plus the shift. Sampling and rescoring run on windows this tall.
    public var receptiveRows: Int { config.layers * (config.kernel / 2) + 1 }

    public init(config: PriorConfig, seed: UInt64 = 0) {
        self.config = config.validated(as: .pixelcnn)
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let (c, k, kk) = (config.width, config.codebookSize, config.kernel)
        // Unit-variance embeddings: the convolutions' He initialisation expects unit-scale inputs.
        embed = Embedding(store, "embed", vocabulary: k, dim: c, std: 1, rng: &rng)
        var vc: [Conv2d] = [], hc: [Conv2d] = [], vh: [Conv2d] = [], ho: [Conv2d] = []
        for l in 0..<config.layers {
            let v = Conv2d(store, "layer\(l).vconv", inChannels: c, outChannels: 2 * c, kernel: kk, rng: &rng)
            v.weightMask = PixelCNNMask.vertical(kernel: kk, inChannels: c, outChannels: 2 * c)
            let h = Conv2d(store, "layer\(l).hconv", inChannels: c, outChannels: 2 * c, kernel: kk, rng: &rng)
            h.weightMask = PixelCNNMask.horizontal(kernel: kk, inChannels: c, outChannels: 2 * c, kind: l == 0 ? .a : .b)
            vc.append(v)
            hc.append(h)
            vh.append(Conv2d(store, "layer\(l).v2h", inChannels: 2 * c, outChannels: 2 * c, kernel: 1, rng: &rng))
            // Small output weights start each residual layer near the identity.
            ho.append(Conv2d(store, "layer\(l).hout", inChannels: c, outChannels: c, kernel: 1,
                             initGain: l == 0 ? 1 : 0.1, rng: &rng))
        }
        (vconv, hconv, v2h, hout) = (vc, hc, vh, ho)
        shift = (0..<config.layers).map { _ in ShiftDown() }
        vgate = (0..<config.layers).map { _ in GatedActivation() }
        hgate = (0..<config.layers).map { _ in GatedActivation() }
        head = Sequential([
            ReLU(), Conv2d(store, "head.conv1", inChannels: c, outChannels: c, kernel: 1, rng: &rng),
            ReLU(), Conv2d(store, "head.conv2", inChannels: c, outChannels: k, kernel: 1, initGain: 0.5, rng: &rng),
        ])
        store.seal()
        // Masked weights are zero from the start, so the stored tensors match what the model uses.
        for conv in vc + hc { if let m = conv.weightMask { let w = store.value(conv.weight); for i in 0..<m.count { w[i] *= m[i] } } }
    }

    public func forward(_ tokens: [Int32], batch n: Int, height h: Int, width w: Int) -> Tensor {
        shape = (n, h, w)
        let x = embed.forward(tokens, shape: [n, h, w])                     // [N, H, W, C]
        var v = x, hh = x
        for l in 0..<config.layers {
            let vc = vconv[l].forward(v)                                     // [N, H, W, 2C]
            let vh = v2h[l].forward(shift[l].forward(vc))                    // [N, H, W, 2C]
            let hc = hconv[l].forward(hh)                                    // [N, H, W, 2C]
            let hs = Tensor(hc.shape)
            add(hs.data, hc.data, vh.data, hs.count)
            let o = hout[l].forward(hgate[l].forward(hs))                    // [N, H, W, C]
            v = vgate[l].forward(vc)                                         // [N, H, W, C]
            if l == 0 {
                hh = o
            } else {
                let next = Tensor(o.shape)
                add(next.data, hh.data, o.data, next.count)
                hh = next
            }
        }
        let logits = head.forward(hh)                                        // [N, H, W, K]
        return logits.reshaped([n, h * w, config.codebookSize])
    }

    public func backward(_ dlogits: Tensor) {
        let (n, h, w) = shape
        let c = config.width
        var dh = head.backward(dlogits.reshaped([n, h, w, config.codebookSize]))   // dL/dh_L [N, H, W, C]
        var dv = Tensor([n, h, w, c])                                              // dL/dv_L: v_L feeds nothing
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let dhs = hgate[l].backward(hout[l].backward(dh))                  // [N, H, W, 2C]
            let dhPrev = hconv[l].backward(dhs)                                // [N, H, W, C]
            let dvcFromH = shift[l].backward(v2h[l].backward(dhs))             // [N, H, W, 2C]
            let dvc = vgate[l].backward(dv)                                    // [N, H, W, 2C]
            let dvcTotal = Tensor(dvc.shape)
            add(dvcTotal.data, dvc.data, dvcFromH.data, dvcTotal.count)
            let dvPrev = vconv[l].backward(dvcTotal)                           // [N, H, W, C]
            // h_{l+1} = h_l + ... for l > 0: the skip passes dh through unchanged.
            let sum = Tensor(dhPrev.shape)
            if l > 0 { add(sum.data, dhPrev.data, dh.data, sum.count) } else { sum.data.update(from: dhPrev.data, count: sum.count) }
            dh = sum
            dv = dvPrev.copy()
        }
        // v_0 = h_0 = embed(tokens): both stacks' gradients reach the embedding.
        let dx = Tensor(dh.shape)
        add(dx.data, dh.data, dv.data, dx.count)
        embed.backward(dx)
    }

    public func sample(_ tokens: inout [Int32], batch n: Int, height h: Int, width w: Int, resample: [Bool],
                       options: SamplingOptions, rngs: inout [RNG]) {
        precondition(tokens.count == n * h * w && resample.count == h * w && rngs.count == n, "sample: inconsistent sizes")
        let k = config.codebookSize, reach = receptiveRows
        for y in 0..<h where (0..<w).contains(where: { resample[y * w + $0] }) {
            // Logits of row y depend on rows y - reach ... y only: run the network on that band.
            let y0 = max(0, y - reach), rows = y - y0 + 1
            var band = [Int32](repeating: 0, count: n * rows * w)
            for x in 0..<w where resample[y * w + x] {
                for b in 0..<n {
                    for r in 0..<rows {
                        let src = (b * h + y0 + r) * w, dst = (b * rows + r) * w
                        for xx in 0..<w { band[dst + xx] = tokens[src + xx] }
                    }
                }
                let logits = forward(band, batch: n, height: rows, width: w)
                for b in 0..<n {
                    let row = logits.data + ((b * rows + rows - 1) * w + x) * k
                    tokens[(b * h + y) * w + x] = TokenSampler.draw(row, count: k, options: options, rng: &rngs[b])
                }
            }
        }
    }
}
