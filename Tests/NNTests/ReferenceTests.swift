import XCTest
import NN

/// Forward outputs against the numpy reference (scripts/nn_reference.py) and fast kernels
/// against their naive twins.
final class ReferenceTests: XCTestCase {
    func testConvMatchesNumpy() throws {
        let t = try fixture("conv")
        var i = 0
        while let cfg = t["c\(i).cfg"] {
            let (k, s, p) = (Int(cfg.values[0]), Int(cfg.values[1]), Int(cfg.values[2]))
            let x = tensor(t["c\(i).x"]), w = tensor(t["c\(i).w"]), b = tensor(t["c\(i).b"]), want = tensor(t["c\(i).y"])
            var rng = RNG(seed: 1)
            let store = ParameterStore()
            let conv = Conv2d(store, "c", inChannels: x.shape[3], outChannels: w.shape[3], kernel: k, stride: s, padding: p, rng: &rng)
            store.seal()
            store.value(conv.weight).update(from: w.data, count: w.count)
            store.value(conv.bias).update(from: b.data, count: b.count)
            let y = conv.forward(x)
            XCTAssertEqual(y.shape, want.shape, "case \(i)")
            XCTAssertLessThan(maxScaledError(y.data, want.data, want.count), 1e-4, "conv case \(i) k\(k) s\(s) p\(p)")
            i += 1
        }
        XCTAssertGreaterThanOrEqual(i, 7, "conv fixture has too few cases")
    }

    func testAttentionMatchesNumpy() throws {
        let t = try fixture("attention")
        let x = tensor(t["x"]), want = tensor(t["y"])
        let heads = Int(t["cfg"]!.values[0])
        var rng = RNG(seed: 1)
        let store = ParameterStore()
        let att = SelfAttention(store, "att", dim: x.shape[2], heads: heads, rng: &rng)
        store.seal()
        for (p, name) in [(att.qkvWeight, "wqkv"), (att.qkvBias, "bqkv"), (att.projWeight, "wo"), (att.projBias, "bo")] {
            let v = tensor(t[name])
            XCTAssertEqual(v.count, p.count)
            store.value(p).update(from: v.data, count: v.count)
        }
        let y = att.forward(x)
        XCTAssertEqual(y.shape, want.shape)
        XCTAssertLessThan(maxScaledError(y.data, want.data, want.count), 1e-4)
    }

    /// Causal attention's first position ignores the rest of the sequence; bidirectional attention's does not.
    func testOnlyBidirectionalAttentionSeesLaterPositions() {
        for causal in [true, false] {
            var rng = RNG(seed: 3)
            let store = ParameterStore()
            let att = SelfAttention(store, "att", dim: 8, heads: 2, causal: causal, rng: &rng)
            store.seal()
            let x = randomTensor([1, 4, 8], &rng)
            let first = Array(UnsafeBufferPointer(start: att.forward(x).data, count: 8))
            x.data[3 * 8] += 1      // the last position changes
            let again = Array(UnsafeBufferPointer(start: att.forward(x).data, count: 8))
            XCTAssertEqual(first == again, causal, causal ? "causal" : "bidirectional")
        }
    }

    /// Sampling one position at a time through the KV cache reproduces the training forward.
    func testAttentionStepMatchesForward() {
        var rng = RNG(seed: 2)
        let store = ParameterStore()
        let att = SelfAttention(store, "att", dim: 12, heads: 3, rng: &rng)
        store.seal()
        randomize(store, att.qkvBias, &rng, scale: 0.2)
        let (n, t, d) = (2, 9, 12)
        let x = randomTensor([n, t, d], &rng)
        let y = att.forward(x).copy()
        let cache = att.makeCache(batch: n, capacity: t)
        for pos in 0..<t {
            let xt = Tensor([n, d])
            for b in 0..<n { (xt.data + b * d).update(from: x.data + (b * t + pos) * d, count: d) }
            let yt = att.step(xt, cache: cache)
            for b in 0..<n {
                XCTAssertLessThan(maxScaledError(yt.data + b * d, y.data + (b * t + pos) * d, d), 1e-5, "position \(pos)")
            }
        }
        XCTAssertEqual(cache.length, t)
        cache.reset()
        XCTAssertEqual(cache.length, 0)
        // A prefix in one pass, then single steps: the same rows again.
        let p = 4
        let prefix = Tensor([n, p, d])
        for b in 0..<n { (prefix.data + b * p * d).update(from: x.data + b * t * d, count: p * d) }
        let yp = att.prefill(prefix, cache: cache)
        XCTAssertEqual(cache.length, p)
        for b in 0..<n {
            XCTAssertLessThan(maxScaledError(yp.data + b * p * d, y.data + b * t * d, p * d), 1e-5, "prefix")
        }
        for pos in p..<t {
            let xt = Tensor([n, d])
            for b in 0..<n { (xt.data + b * d).update(from: x.data + (b * t + pos) * d, count: d) }
            let yt = att.step(xt, cache: cache)
            for b in 0..<n {
                XCTAssertLessThan(maxScaledError(yt.data + b * d, y.data + (b * t + pos) * d, d), 1e-5, "position \(pos) after the prefix")
            }
        }
    }

    func testQuantizerNearestMatchesNumpy() throws {
        let t = try fixture("quantizer")
        let z = tensor(t["z"]), book0 = tensor(t["codebook0"]), book1 = tensor(t["codebook1"])
        let (k, d) = (book0.shape[0], book0.shape[1])
        var rng = RNG(seed: 1)
        let store = ParameterStore()
        let vq = ResidualVectorQuantizer(store, "vq", levels: 2, codebookSize: k, dim: d, rng: &rng)
        store.seal()
        store.value(vq.codebooks[0]).update(from: book0.data, count: book0.count)
        store.value(vq.codebooks[1]).update(from: book1.data, count: book1.count)
        store.value(store.param(named: "vq.initialized")!).update(repeating: 1, count: 2)
        let want0 = t["idx0"]!.values.map { Int32($0) }, want1 = t["idx1"]!.values.map { Int32($0) }
        let tokens = vq.encode(z, levels: 2)
        XCTAssertEqual(tokens[0], want0)
        XCTAssertEqual(tokens[1], want1)
        // The training forward assigns the same codes and returns the sum of the chosen entries.
        let zq = vq.forward(z, levels: 2, rng: &rng)
        XCTAssertEqual(vq.indices, [want0, want1])
        let decoded = vq.decode(tokens, shape: z.shape)
        XCTAssertLessThan(maxScaledError(zq.data, decoded.data, zq.count), 1e-6)
        for i in 0..<3 {
            for c in 0..<d {
                XCTAssertEqual(decoded[i * d + c], book0[Int(want0[i]) * d + c] + book1[Int(want1[i]) * d + c], accuracy: 1e-6)
            }
        }
    }

    /// Conv2d (im2col + sgemm, blocked) against a direct convolution in Double, forward and
    /// backward, on odd shapes.
    func testConvMatchesNaiveTwin() {
        let cases: [(n: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int, p: Int, block: Int)] = [
            (2, 7, 5, 3, 4, 3, 1, 1, 1 << 22), (3, 9, 11, 5, 7, 3, 2, 1, 100), (1, 6, 7, 6, 5, 1, 1, 0, 1 << 22),
            (2, 8, 9, 3, 2, 5, 2, 2, 300), (1, 5, 5, 2, 3, 4, 1, 0, 64), (2, 13, 7, 4, 3, 3, 3, 1, 1 << 22),
        ]
        for (ci, c) in cases.enumerated() {
            var rng = RNG(seed: UInt64(40 + ci))
            let store = ParameterStore()
            let conv = Conv2d(store, "c", inChannels: c.cin, outChannels: c.cout, kernel: c.k, stride: c.s, padding: c.p, rng: &rng)
            conv.blockElements = c.block
            store.seal()
            randomize(store, conv.bias, &rng)
            let x = randomTensor([c.n, c.h, c.w, c.cin], &rng)
            let y = conv.forward(x)
            let naive = NaiveConv(x: x, w: store.value(conv.weight), b: store.value(conv.bias),
                                  cout: c.cout, k: c.k, stride: c.s, pad: c.p)
            XCTAssertEqual(y.shape, [c.n, naive.ho, naive.wo, c.cout])
            let yRef = naive.forward()
            XCTAssertLessThan(maxScaledError(y.data, yRef.data, y.count), 1e-5, "forward case \(ci)")
            let dy = randomTensor(y.shape, &rng)
            store.zeroGrads()
            let dx = conv.backward(dy)
            let (dxRef, dwRef, dbRef) = naive.backward(dy)
            XCTAssertLessThan(maxScaledError(dx.data, dxRef.data, dx.count), 1e-4, "dX case \(ci)")
            XCTAssertLessThan(maxScaledError(store.grad(conv.weight), dwRef, dwRef.count), 1e-4, "dW case \(ci)")
            XCTAssertLessThan(maxScaledError(store.grad(conv.bias), dbRef, dbRef.count), 1e-4, "dB case \(ci)")
        }
    }

    /// Conv2d.infer with ReLU, 2x upsampling and a skip folded in, per-thread blocks, against
    /// forward on the input transformed by the layers themselves, then the skip added: the
    /// same products in the same order, so equal to the last bit. Odd shapes, several blocks
    /// per thread, strides, 1x1 and the direct pointwise path.
    func testFusedConvInferMatchesForward() {
        let cases: [(n: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int, relu: Bool, up: Bool, skip: Bool, reluOut: Bool, block: Int)] = [
            (1, 7, 5, 3, 4, 3, 1, true, false, false, false, 1 << 22), (2, 9, 11, 5, 5, 3, 1, true, false, true, false, 100),
            (1, 5, 7, 6, 3, 3, 1, false, true, false, true, 200), (2, 4, 3, 3, 7, 3, 1, true, true, true, false, 64),
            (3, 9, 7, 4, 6, 3, 2, true, false, false, true, 90), (1, 6, 7, 6, 6, 1, 1, false, false, true, true, 1 << 22),
            (2, 5, 6, 17, 9, 1, 1, true, false, false, false, 40), (1, 13, 9, 17, 2, 3, 1, false, false, false, false, 500),
            (1, 31, 37, 32, 32, 3, 1, true, false, true, false, 1 << 12), (2, 3, 5, 4, 3, 5, 1, false, true, false, true, 1 << 22),
            (1, 11, 6, 8, 5, 3, 1, true, true, false, true, 150),
        ]
        for (ci, c) in cases.enumerated() {
            var rng = RNG(seed: UInt64(60 + ci))
            let store = ParameterStore()
            let conv = Conv2d(store, "c", inChannels: c.cin, outChannels: c.cout, kernel: c.k, stride: c.s,
                              padding: (c.k - 1) / 2, rng: &rng)
            conv.blockElements = c.block
            store.seal()
            randomize(store, conv.bias, &rng)
            let x = randomTensor([c.n, c.h, c.w, c.cin], &rng)
            var t = x
            if c.relu { t = ReLU().forward(t) }
            if c.up { t = Upsample2x().forward(t) }
            let want = conv.forward(t).copy()
            let skip = c.skip ? randomTensor(want.shape, &rng) : nil
            if let skip { for i in 0..<want.count { want.data[i] = skip.data[i] + want.data[i] } }
            if c.reluOut { for i in 0..<want.count { want.data[i] = max(want.data[i], 0) } }
            let got = conv.infer(x, reluInput: c.relu, upsampleInput: c.up, adding: skip, reluOutput: c.reluOut)
            XCTAssertEqual(got.shape, want.shape, "case \(ci)")
            if c.up && c.k == 3 {
                // Four 2x2 phases with summed taps: the same sums in another order.
                XCTAssertLessThan(maxScaledError(got.data, want.data, want.count), 1e-5, "upsampled conv case \(ci)")
            } else {
                XCTAssertEqual(got.array, want.array, "fused conv case \(ci)")
            }
        }
    }

    /// Sequential.infer and Residual.infer (which fold ReLU, Upsample2x and the skip into the
    /// convolutions) against forward, through a small decoder-like stack with a residual block,
    /// a ReLU before a non-convolution and a residual body that does not end in a convolution.
    func testFusedInferenceMatchesForward() {
        var rng = RNG(seed: 70)
        let store = ParameterStore()
        func conv(_ name: String, _ cin: Int, _ cout: Int, k: Int = 3) -> Conv2d {
            let c = Conv2d(store, name, inChannels: cin, outChannels: cout, kernel: k, rng: &rng)
            c.blockElements = 300
            return c
        }
        let net = Sequential([
            conv("in", 3, 6),
            Residual(Sequential([ReLU(), conv("b1", 6, 6), ReLU(), conv("b2", 6, 6)])),
            ReLU(), Upsample2x(), conv("up", 6, 5),
            Residual(Sequential([ReLU(), conv("b3", 5, 5), SiLU()])),
            Upsample2x(), ReLU(), conv("up2", 5, 4, k: 1),
            ReLU(), SiLU(), conv("out", 4, 3),
            ReLU(),
        ])
        store.seal()
        for p in store.params where p.name.hasSuffix(".bias") { randomize(store, p, &rng, scale: 0.3) }
        let x = randomTensor([2, 5, 7, 3], &rng)
        let want = net.forward(x).copy()
        net.releaseBuffers()
        let got = net.infer(x)
        XCTAssertEqual(got.shape, want.shape)
        XCTAssertLessThan(maxScaledError(got.data, want.data, want.count), 1e-5, "fused inference differs from forward")
    }

    /// Residual blocks inside a network write their result over their input, which nothing reads
    /// afterwards; the network's own input, the caller's, is never written, even when the first
    /// layer is a residual block or a block's only convolution reads the input it would write.
    func testInferenceWritesResidualsInPlaceButNeverTheCallersInput() {
        var rng = RNG(seed: 71)
        let store = ParameterStore()
        func conv(_ name: String, _ cin: Int, _ cout: Int) -> Conv2d {
            Conv2d(store, name, inChannels: cin, outChannels: cout, kernel: 3, rng: &rng)
        }
        let block = Residual(Sequential([ReLU(), conv("r1", 4, 4), ReLU(), conv("r2", 4, 4)]))
        let net = Sequential([
            Residual(Sequential([ReLU(), conv("r0", 3, 3), ReLU(), conv("r0b", 3, 3)])),
            conv("m", 3, 4),
            block,
            Residual(Sequential([ReLU(), conv("r3", 4, 4)])),
            Residual(conv("r4", 4, 4)),
            conv("out", 4, 3),
        ])
        store.seal()
        for p in store.params where p.name.hasSuffix(".bias") { randomize(store, p, &rng, scale: 0.3) }
        let x = randomTensor([2, 6, 5, 3], &rng)
        let before = x.copy()
        let want = net.forward(x).copy()
        net.releaseBuffers()
        let got = net.infer(x)
        XCTAssertLessThan(maxScaledError(got.data, want.data, want.count), 1e-5, "in-place inference differs from forward")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: x.data, count: x.count)),
                       Array(UnsafeBufferPointer(start: before.data, count: before.count)), "the caller's input was written")
        let t = randomTensor([1, 4, 4, 4], &rng)
        let expected = block.infer(t.copy(), consuming: false).copy()
        let y = block.infer(t, consuming: true)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: y.data, count: y.count)),
                       Array(UnsafeBufferPointer(start: expected.data, count: expected.count)))
        if VectorKernels.available { XCTAssertTrue(y === t, "the block allocated instead of writing over its input") }
    }

    /// Causal masks: with a stack of masked convolutions, output position p (raster order) may
    /// depend only on input positions before p; checked by perturbing each input position.
    func testMasksAreCausal() {
        var rng = RNG(seed: 50)
        let (h, w, c, k) = (6, 7, 2, 3)
        let store = ParameterStore()
        func conv(_ name: String, _ mask: [Float]) -> Conv2d {
            let l = Conv2d(store, name, inChannels: c, outChannels: c, kernel: k, rng: &rng)
            l.weightMask = mask
            return l
        }
        // Original PixelCNN: A then B then B.
        let plain = [conv("p0", PixelCNNMask.causal(kernel: k, inChannels: c, outChannels: c, kind: .a)),
                     conv("p1", PixelCNNMask.causal(kernel: k, inChannels: c, outChannels: c, kind: .b)),
                     conv("p2", PixelCNNMask.causal(kernel: k, inChannels: c, outChannels: c, kind: .b))]
        // Gated stacks: v' = V(v), h' = H(h) + shift(V(v)); the first horizontal layer is type A.
        let v0 = conv("v0", PixelCNNMask.vertical(kernel: k, inChannels: c, outChannels: c))
        let v1 = conv("v1", PixelCNNMask.vertical(kernel: k, inChannels: c, outChannels: c))
        let h0 = conv("h0", PixelCNNMask.horizontal(kernel: k, inChannels: c, outChannels: c, kind: .a))
        let h1 = conv("h1", PixelCNNMask.horizontal(kernel: k, inChannels: c, outChannels: c, kind: .b))
        let shift0 = ShiftDown(), shift1 = ShiftDown()
        store.seal()
        let plainNet = Sequential(plain)
        func gated(_ x: Tensor) -> Tensor {
            let v = v0.forward(x).copy()
            let hh = h0.forward(x).copy()
            let sv = shift0.forward(v)
            for i in 0..<hh.count { hh.data[i] += sv.data[i] }
            let vv = v1.forward(v)
            let out = h1.forward(hh).copy()
            let s2 = shift1.forward(vv)
            for i in 0..<out.count { out.data[i] += s2.data[i] }
            return out
        }
        for (name, net) in [("pixelcnn", { plainNet.forward($0).copy() }), ("gated", gated)] as [(String, (Tensor) -> Tensor)] {
            let x = randomTensor([1, h, w, c], &rng)
            let base = net(x)
            var reachedAboveRight = false
            for q in 0..<(h * w) {
                let xp = x.copy()
                for ch in 0..<c { xp.data[q * c + ch] += 1 }
                let y = net(xp)
                var dependents = 0
                for p in 0..<(h * w) {
                    var changed = false
                    for ch in 0..<c where abs(y.data[p * c + ch] - base.data[p * c + ch]) > 1e-6 { changed = true }
                    if changed {
                        dependents += 1
                        XCTAssertGreaterThan(p, q, "\(name): output \(p) depends on input \(q)")
                    }
                    // The gated stacks have no blind spot: (y, x) sees (y - 1, x + 1).
                    if changed && q == p - w + 1 && p % w < w - 1 { reachedAboveRight = true }
                }
                if q < h * w - 1 - w { XCTAssertGreaterThan(dependents, 0, "\(name): input \(q) reaches nothing") }
            }
            if name == "gated" { XCTAssertTrue(reachedAboveRight) }
        }
    }
}

/// Direct convolution in Double: one output pixel at a time, no im2col. The twin of Conv2d.
struct NaiveConv {
    let x: Tensor
    let w: [Float], b: [Float]
    let n: Int, h: Int, wd: Int, cin: Int, cout: Int, k: Int, stride: Int, pad: Int, ho: Int, wo: Int

    init(x: Tensor, w: UnsafePointer<Float>, b: UnsafePointer<Float>, cout: Int, k: Int, stride: Int, pad: Int) {
        self.x = x
        (n, h, wd, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        self.w = Array(UnsafeBufferPointer(start: w, count: k * k * x.shape[3] * cout))
        self.b = Array(UnsafeBufferPointer(start: b, count: cout))
        (self.cout, self.k, self.stride, self.pad) = (cout, k, stride, pad)
        ho = (h + 2 * pad - k) / stride + 1
        wo = (wd + 2 * pad - k) / stride + 1
    }

    /// Calls body(output index base, input index base, weight index base) for every tap inside the image.
    func taps(_ body: (Int, Int, Int) -> Void) {
        for img in 0..<n { for oy in 0..<ho { for ox in 0..<wo {
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                body(((img * ho + oy) * wo + ox) * cout, ((img * h + iy) * wd + ix) * cin, (ky * k + kx) * cin * cout)
            } }
        } } }
    }

    func forward() -> Tensor {
        var y = [Double](repeating: 0, count: n * ho * wo * cout)
        for i in 0..<(n * ho * wo) { for co in 0..<cout { y[i * cout + co] = Double(b[co]) } }
        taps { o, i, wb in
            for ci in 0..<cin { for co in 0..<cout { y[o + co] += Double(x.data[i + ci]) * Double(w[wb + ci * cout + co]) } }
        }
        return Tensor([n, ho, wo, cout], y.map { Float($0) })
    }

    func backward(_ dy: Tensor) -> (Tensor, [Float], [Float]) {
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: cout)
        for i in 0..<(n * ho * wo) { for co in 0..<cout { db[co] += Double(dy.data[i * cout + co]) } }
        taps { o, i, wb in
            for ci in 0..<cin { for co in 0..<cout {
                let g = Double(dy.data[o + co])
                dx[i + ci] += g * Double(w[wb + ci * cout + co])
                dw[wb + ci * cout + co] += g * Double(x.data[i + ci])
            } }
        }
        return (Tensor(x.shape, dx.map { Float($0) }), dw.map { Float($0) }, db.map { Float($0) })
    }
}
