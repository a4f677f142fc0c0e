import XCTest
import NN

/// Every layer's backward against central finite differences (loss summed in Double).
final class GradientTests: XCTestCase {
    // Conv2d over kernel / stride / padding combinations, odd sizes included.
    func testConv2d() {
        let cases: [(k: Int, s: Int, p: Int, h: Int, w: Int)] = [
            (3, 1, 1, 5, 6), (3, 2, 1, 7, 6), (1, 1, 0, 4, 5), (1, 2, 0, 5, 5),
            (4, 2, 1, 6, 6), (5, 1, 2, 5, 4), (3, 1, 0, 6, 5), (2, 2, 0, 5, 7),
        ]
        for (i, c) in cases.enumerated() {
            var rng = RNG(seed: UInt64(10 + i))
            let store = ParameterStore()
            let conv = Conv2d(store, "conv", inChannels: 3, outChannels: 4, kernel: c.k, stride: c.s, padding: c.p, rng: &rng)
            store.seal()
            randomize(store, conv.bias, &rng)
            let x = randomTensor([2, c.h, c.w, 3], &rng)
            checkLayer("conv k\(c.k) s\(c.s) p\(c.p)", conv, input: x, store: store, params: [conv.weight, conv.bias])
        }
    }

    /// Small im2col blocks: the blocked forward and backward paths must agree with one big block.
    func testConv2dBlocked() {
        var rng = RNG(seed: 3)
        let store = ParameterStore()
        let conv = Conv2d(store, "conv", inChannels: 3, outChannels: 5, kernel: 3, stride: 2, padding: 1, rng: &rng)
        conv.blockElements = 3 * 3 * 3 * 7     // 7 rows per block: blocks straddle images
        checkLayer("conv blocked", conv, input: randomTensor([3, 5, 6, 3], &rng), store: store, params: [conv.weight, conv.bias])
    }

    func testMaskedConv() {
        for kind in [PixelCNNMask.Kind.a, .b] {
            var rng = RNG(seed: 5)
            let store = ParameterStore()
            let conv = Conv2d(store, "conv", inChannels: 3, outChannels: 4, kernel: 5, rng: &rng)
            conv.weightMask = PixelCNNMask.causal(kernel: 5, inChannels: 3, outChannels: 4, kind: kind)
            checkLayer("masked conv \(kind)", conv, input: randomTensor([2, 6, 5, 3], &rng), store: store, params: [conv.weight, conv.bias])
            // Masked-out weights keep exactly zero values and zero gradients.
            let (w, dw, mask) = (store.value(conv.weight), store.grad(conv.weight), conv.weightMask!)
            for i in 0..<mask.count where mask[i] == 0 {
                XCTAssertEqual(w[i], 0)
                XCTAssertEqual(dw[i], 0)
            }
        }
    }

    /// The two rearrangements are each other's inverse, move each value where the layout says,
    /// and their backward passes are their transposes.
    func testSpaceToDepthAndBack() {
        var rng = RNG(seed: 8)
        let x = randomTensor([2, 6, 4, 3], &rng)
        let fold = SpaceToDepth(factor: 2), unfold = DepthToSpace(factor: 2)
        let y = fold.forward(x)
        XCTAssertEqual(y.shape, [2, 3, 2, 12])
        // Pixel (image 1, row 3, column 2, channel 1) lands at block (1, 1) in slot (dy 1, dx 0).
        XCTAssertEqual(y.data[((1 * 3 + 1) * 2 + 1) * 12 + (1 * 2 + 0) * 3 + 1], x.data[((1 * 6 + 3) * 4 + 2) * 3 + 1])
        XCTAssertEqual(unfold.forward(y).array, x.array)
        // The FLOP count follows the folded size: a convolution after the fold runs on H/2 x W/2.
        let store = ParameterStore()
        let conv = Conv2d(store, "conv", inChannels: 12, outChannels: 4, kernel: 3, rng: &rng)
        let counted = inferenceFLOPs(Sequential([SpaceToDepth(factor: 2), conv, DepthToSpace(factor: 2)]), height: 8, width: 6)
        XCTAssertEqual(counted.flops, conv.inferenceFLOPs(height: 4, width: 3))
        XCTAssertEqual(counted.height, 8)
        XCTAssertEqual(counted.width, 6)
        checkLayer("space to depth", SpaceToDepth(factor: 2), input: x, store: ParameterStore(), params: [])
        checkLayer("depth to space", DepthToSpace(factor: 3), input: randomTensor([1, 2, 3, 18], &rng), store: ParameterStore(), params: [])
    }

    func testReLU() {
        var rng = RNG(seed: 6)
        // Inputs away from the kink, where finite differences are exact.
        let x = randomTensor([2, 3, 4, 5], &rng)
        for i in 0..<x.count { x.data[i] = (x.data[i] < 0 ? -0.2 : 0.2) + x.data[i] }
        checkLayer("relu", ReLU(), input: x, store: ParameterStore(), params: [])
    }

    /// Rows of very different lengths, one of them tiny: the gradient is the part of dY across the sphere over |x|.
    func testL2Normalize() {
        var rng = RNG(seed: 12)
        let x = randomTensor([3, 2, 5], &rng)
        for j in 0..<5 { x.data[5 + j] *= 4; x.data[10 + j] *= 0.3 }
        checkLayer("l2 normalize", L2Normalize(), input: x, store: ParameterStore(), params: [], eps: 1e-3, tolerance: 2e-3)
    }

    func testUpsample2x() {
        var rng = RNG(seed: 7)
        checkLayer("upsample", Upsample2x(), input: randomTensor([2, 3, 4, 3], &rng), store: ParameterStore(), params: [])
    }

    func testResidual() {
        var rng = RNG(seed: 8)
        let store = ParameterStore()
        let a = Conv2d(store, "a", inChannels: 4, outChannels: 4, kernel: 3, rng: &rng)
        let b = Conv2d(store, "b", inChannels: 4, outChannels: 4, kernel: 1, rng: &rng)
        let block = Residual(Sequential([a, SiLU(), b]))
        checkLayer("residual", block, input: randomTensor([2, 4, 5, 4], &rng), store: store,
                   params: [a.weight, a.bias, b.weight, b.bias])
    }

    func testMSE() {
        var rng = RNG(seed: 9)
        let pred = randomTensor([3, 7], &rng), target = randomTensor([3, 7], &rng)
        let d = Tensor(pred.shape)
        _ = mseLoss(pred, target, dpred: d)
        checkGradient("mse", values: pred.data, analytic: d.array, eps: 1e-2, tolerance: 1e-3, rng: &rng) {
            Double(mseLoss(pred, target))
        }
    }

    func testLinear() {
        var rng = RNG(seed: 11)
        let store = ParameterStore()
        let lin = Linear(store, "lin", inFeatures: 6, outFeatures: 5, rng: &rng)
        store.seal()
        randomize(store, lin.bias!, &rng)
        checkLayer("linear", lin, input: randomTensor([2, 3, 6], &rng), store: store, params: [lin.weight, lin.bias!])
        let store2 = ParameterStore()
        let noBias = Linear(store2, "lin", inFeatures: 4, outFeatures: 3, bias: false, rng: &rng)
        checkLayer("linear without bias", noBias, input: randomTensor([5, 4], &rng), store: store2, params: [noBias.weight])
    }

    func testEmbedding() {
        var rng = RNG(seed: 12)
        let store = ParameterStore()
        let emb = Embedding(store, "emb", vocabulary: 7, dim: 5, std: 1, rng: &rng)
        store.seal()
        let tokens: [Int32] = [3, 0, 3, 6, 1, 3]      // repeats must add up
        let r = randomTensor([2, 3, 5], &rng)
        _ = emb.forward(tokens, shape: [2, 3])
        store.zeroGrads()
        emb.backward(r)
        let g = Array(UnsafeBufferPointer(start: store.grad(emb.table), count: emb.table.count))
        checkGradient("embedding", values: store.value(emb.table), analytic: g, eps: 1e-2, tolerance: 1e-3, rng: &rng) {
            projected(emb.forward(tokens, shape: [2, 3]), r)
        }
        emb.backward(r)
        for i in 0..<g.count { XCTAssertEqual(store.grad(emb.table)[i], 2 * g[i], accuracy: 1e-5) }
    }

    func testLayerNorm() {
        var rng = RNG(seed: 13)
        let store = ParameterStore()
        let ln = LayerNorm(store, "ln", dim: 8)
        store.seal()
        randomize(store, ln.weight, &rng, offset: 1)
        randomize(store, ln.bias, &rng)
        checkLayer("layernorm", ln, input: randomTensor([2, 3, 8], &rng, scale: 2), store: store, params: [ln.weight, ln.bias])
    }

    func testGroupNorm() {
        var rng = RNG(seed: 14)
        for groups in [1, 3, 6] {
            let store = ParameterStore()
            let gn = GroupNorm(store, "gn", channels: 6, groups: groups)
            store.seal()
            randomize(store, gn.weight, &rng, offset: 1)
            randomize(store, gn.bias, &rng)
            let x = randomTensor([2, 3, 4, 6], &rng, scale: 2)
            for i in 0..<x.count { x.data[i] += Float(i % 6) }     // per-channel offsets
            checkLayer("groupnorm G=\(groups)", gn, input: x, store: store, params: [gn.weight, gn.bias])
        }
    }

    func testSiLU() {
        var rng = RNG(seed: 15)
        checkLayer("silu", SiLU(), input: randomTensor([3, 4, 5], &rng, scale: 2), store: ParameterStore(), params: [])
    }

    func testGELU() {
        var rng = RNG(seed: 16)
        checkLayer("gelu", GELU(), input: randomTensor([3, 4, 5], &rng, scale: 2), store: ParameterStore(), params: [])
    }

    func testGatedActivation() {
        var rng = RNG(seed: 17)
        checkLayer("gated", GatedActivation(), input: randomTensor([2, 3, 4, 6], &rng, scale: 1.5), store: ParameterStore(), params: [])
    }

    func testShiftDown() {
        var rng = RNG(seed: 18)
        checkLayer("shift down", ShiftDown(), input: randomTensor([2, 4, 3, 2], &rng), store: ParameterStore(), params: [])
    }

    func testAttention() {
        var rng = RNG(seed: 19)
        let store = ParameterStore()
        let att = SelfAttention(store, "att", dim: 8, heads: 2, rng: &rng)
        store.seal()
        randomize(store, att.qkvBias, &rng, scale: 0.2)
        randomize(store, att.projBias, &rng, scale: 0.2)
        checkLayer("attention", att, input: randomTensor([2, 5, 8], &rng), store: store,
                   params: [att.qkvWeight, att.qkvBias, att.projWeight, att.projBias])
    }

    func testBidirectionalAttention() {
        var rng = RNG(seed: 21)
        let store = ParameterStore()
        let att = SelfAttention(store, "att", dim: 8, heads: 2, causal: false, rng: &rng)
        store.seal()
        randomize(store, att.qkvBias, &rng, scale: 0.2)
        randomize(store, att.projBias, &rng, scale: 0.2)
        checkLayer("bidirectional attention", att, input: randomTensor([2, 5, 8], &rng), store: store,
                   params: [att.qkvWeight, att.qkvBias, att.projWeight, att.projBias])
    }

    func testCrossEntropy() {
        var rng = RNG(seed: 20)
        let logits = randomTensor([6, 5], &rng, scale: 2)
        for ignore in [nil, Int32(-1)] as [Int32?] {
            let targets: [Int32] = [0, 4, -1, 2, 2, -1].map { $0 == -1 && ignore == nil ? 3 : $0 }
            let d = Tensor(logits.shape)
            _ = crossEntropyLoss(logits, targets, ignoreIndex: ignore, dlogits: d)
            checkGradient("cross-entropy ignore \(String(describing: ignore))", values: logits.data, analytic: d.array,
                          eps: 1e-2, tolerance: 1e-3, rng: &rng) {
                Double(crossEntropyLoss(logits, targets, ignoreIndex: ignore))
            }
            if ignore != nil {
                for c in 0..<5 { XCTAssertEqual(d[2 * 5 + c], 0); XCTAssertEqual(d[5 * 5 + c], 0) }
            }
        }
        // The value itself: uniform logits give log V; an ignored row changes nothing.
        let flat = Tensor([2, 4])
        XCTAssertEqual(crossEntropyLoss(flat, [1, 3]), logf(4), accuracy: 1e-6)
        XCTAssertEqual(crossEntropyLoss(flat, [1, -1], ignoreIndex: -1), logf(4), accuracy: 1e-6)
        XCTAssertEqual(crossEntropyLoss(flat, [-1, -1], ignoreIndex: -1), 0)
    }

    /// Row weights: the gradient of the weighted mean against finite differences, and a row of
    /// weight 2 counting exactly as that row twice.
    func testWeightedCrossEntropy() {
        var rng = RNG(seed: 22)
        let logits = randomTensor([4, 5], &rng, scale: 2)
        let targets: [Int32] = [0, 4, 2, 1], weights: [Float] = [3, 1, 0, 0.5]
        let d = Tensor(logits.shape)
        _ = crossEntropyLoss(logits, targets, weights: weights, dlogits: d)
        checkGradient("weighted cross-entropy", values: logits.data, analytic: d.array, eps: 1e-2, tolerance: 1e-3, rng: &rng) {
            Double(crossEntropyLoss(logits, targets, weights: weights))
        }
        for c in 0..<5 { XCTAssertEqual(d[2 * 5 + c], 0) }
        let twice = Tensor([5, 5])
        for r in 0..<5 { for c in 0..<5 { twice[r * 5 + c] = logits[min(r, 3) * 5 + c] } }
        XCTAssertEqual(crossEntropyLoss(logits, targets, weights: [1, 1, 1, 2]),
                       crossEntropyLoss(twice, targets + [1]), accuracy: 1e-5)
    }

    /// The quantizer's straight-through gradient plus its commitment term. With the assignment
    /// fixed (small steps never cross a boundary here), d commitment / dz is checked against finite
    /// differences, and the straight-through part must pass dz_q through unchanged.
    func testVectorQuantizer() {
        var rng = RNG(seed: 21)
        let store = ParameterStore()
        let vq = ResidualVectorQuantizer(store, "vq", levels: 2, codebookSize: 16, dim: 4, rng: &rng)
        store.seal()
        // Well-separated codebooks set by hand (level 2 finer than level 1), so the quantization
        // error is large and small steps of z never move an assignment.
        randomize(store, vq.codebooks[0], &rng, scale: 1)
        randomize(store, vq.codebooks[1], &rng, scale: 0.3)
        store.value(store.param(named: "vq.initialized")!).update(repeating: 1, count: 2)
        let z = randomTensor([3, 5, 4], &rng)
        _ = vq.forward(z, levels: 2, rng: &rng)
        let assigned = vq.indices
        let zero = Tensor(z.shape)
        let dCommit = vq.backward(zero).copy()
        var crossed = 0, frng = RNG(seed: 1)
        checkGradient("vq commitment", values: z.data, analytic: dCommit.array, eps: 1e-3, tolerance: 1e-3, rng: &rng) {
            _ = vq.forward(z, levels: 2, rng: &frng)
            if vq.indices != assigned { crossed += 1 }
            return Double(vq.commitmentLoss)
        }
        XCTAssertEqual(crossed, 0, "finite differences crossed an assignment boundary")
        _ = vq.forward(z, levels: 2, rng: &rng)
        let r = randomTensor(z.shape, &rng)
        let dz = vq.backward(r)
        for i in 0..<z.count { XCTAssertEqual(dz[i] - dCommit[i], r[i], accuracy: 1e-6) }
    }
}
