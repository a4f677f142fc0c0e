import XCTest
import CKernels
import NN

/// The integer kernels against their naive twins (equal to the bit: the same integer sums and the
/// same float epilogue), and integer Conv2d.infer against its f32 inference, on odd shapes.
final class IntKernelTests: XCTestCase {
    /// Shapes with M not a multiple of the 6-row tile, N not a multiple of 8 or 16 (1, 3, 9, 17)
    /// and K odd (the padded pair), as well as the tokenizer's own sizes.
    let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (7, 3, 27), (13, 17, 9), (6, 16, 2), (5, 24, 33), (100, 128, 1152), (37, 3, 288), (64, 12, 1728), (9, 9, 5), (12, 32, 108),
        (30, 40, 50), (13, 56, 14),
    ]

    /// The packing's definition: per output channel n, each weight times limit / max|w| rounded
    /// to the nearest integer, ties to even; pairs of rows interleaved in groups of 8 channels.
    static func packedByDefinition(_ w: [Float], k: Int, n: Int) -> (packed: [Int16], scale: [Float]) {
        let kp = (k + 1) & ~1, np = (n + 7) & ~7
        let lim = Float(vqz_weight_limit(Int32(k)))
        var packed = [Int16](repeating: 0, count: kp * np), scale = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let amax = (0..<k).map { abs(w[$0 * n + j]) }.max() ?? 0
            scale[j] = amax / lim
            let inv = amax > 0 ? lim / amax : 0
            for i in 0..<k {
                let q = min(max((w[i * n + j] * inv).rounded(.toNearestOrEven), -lim), lim)
                packed[(j / 8) * kp * 8 + (i / 2) * 16 + (j % 8) * 2 + (i % 2)] = Int16(q)
            }
        }
        return (packed, scale)
    }

    /// Halves round to even, as rintf does, and an all-zero channel packs zeros with scale 0.
    func testPackingRoundsHalvesToEven() {
        let k = 5, lim = Float(vqz_weight_limit(Int32(k)))
        // Channel 0's largest weight is the limit itself, so its scale is 1 and the others are exact halves.
        let column0: [Float] = [lim, 2.5, 3.5, -2.5, -0.5]
        let w: [Float] = column0.flatMap { [$0, Float(0)] }
        var packed = [Int16](repeating: 0, count: 6 * 8), scale = [Float](repeating: 0, count: 2)
        vqz_pack_weights(&packed, &scale, w, Int32(k), 2, vqz_weight_limit(Int32(k)))
        XCTAssertEqual((0..<k).map { packed[($0 / 2) * 16 + ($0 % 2)] }, [Int16(lim), 2, 4, -2, 0])
        XCTAssertEqual(scale, [1, 0])
        XCTAssertEqual(packed, Self.packedByDefinition(w, k: k, n: 2).packed)
    }

    func testKernelsMatchNaiveTwins() {
        var rng = RNG(seed: 34)
        for (ci, s) in shapes.enumerated() {
            let kp = (s.k + 1) & ~1, np = (s.n + 7) & ~7
            let w = (0..<(s.k * s.n)).map { _ in rng.normal() }
            var packed = [Int16](repeating: 0, count: kp * np)
            var scale = [Float](repeating: 0, count: s.n)
            vqz_pack_weights(&packed, &scale, w, Int32(s.k), Int32(s.n), vqz_weight_limit(Int32(s.k)))
            XCTAssertEqual(packed, Self.packedByDefinition(w, k: s.k, n: s.n).packed, "pack case \(ci)")
            XCTAssertEqual(scale, Self.packedByDefinition(w, k: s.k, n: s.n).scale, "pack scale case \(ci)")
            let x = (0..<(s.m * s.k)).map { _ in rng.normal() * 3 }
            let relu: Int32 = ci % 2 == 0 ? 1 : 0
            XCTAssertEqual(vqz_absmax(x, x.count, relu), vqz_absmax_naive(x, x.count, relu), "absmax case \(ci)")
            let amax = vqz_absmax(x, x.count, relu)
            let limit = vqz_activation_limit(Int32(s.k))
            var a = [Int16](repeating: 0, count: s.m * kp), aNaive = a
            for r in 0..<s.m {
                x.withUnsafeBufferPointer { xp in
                    vqz_quantize(&a[r * kp], xp.baseAddress! + r * s.k, s.k, Float(limit) / amax, limit, relu)
                    vqz_quantize_naive(&aNaive[r * kp], xp.baseAddress! + r * s.k, s.k, Float(limit) / amax, limit, relu)
                }
            }
            XCTAssertEqual(a, aNaive, "quantize case \(ci)")
            let bias: [Float]? = ci % 3 == 0 ? nil : (0..<s.n).map { _ in rng.normal() }
            let outScale = scale.map { $0 * amax / Float(limit) }
            // The row kernel as a matrix product: one kernel row of Kp taps, "pixel" m at m * Kp.
            var c = [Float](repeating: .nan, count: s.m * s.n), cNaive = c
            a.withUnsafeBufferPointer { rows in
                let pointers = [Optional(rows.baseAddress!)]
                vqz_qconv_row_naive(&cNaive, s.n, nil, pointers, kp, Int32(kp), 1, Int32(s.m), packed, Int32(s.n), outScale, bias, 0)
                forEachVectorKernel { kernel in
                    c = [Float](repeating: .nan, count: s.m * s.n)
                    vqz_qconv_row(&c, s.n, nil, pointers, kp, Int32(kp), 1, Int32(s.m), packed, Int32(s.n), outScale, bias, 0)
                    XCTAssertEqual(c, cNaive, "integer product case \(ci), \(kernel)")
                }
            }
            // And both close to the f32 product (weights of ~10-11 bits: ~0.03% error each).
            var worst: Float = 0, size: Float = 0
            for r in 0..<s.m {
                for j in 0..<s.n {
                    var want = bias?[j] ?? 0
                    for k in 0..<s.k { want += (relu == 1 ? max(x[r * s.k + k], 0) : x[r * s.k + k]) * w[k * s.n + j] }
                    worst = max(worst, abs(c[r * s.n + j] - want))
                    size = max(size, abs(want))
                }
            }
            XCTAssertLessThan(worst, 0.002 * max(size, 1), "integer product against f32, case \(ci)")
        }
    }

    /// The integer row kernel against its naive twin, on partial tiles and panels, strides, a gap
    /// between output pixels (the upsampled phases) and the skip and ReLU.
    func testRowKernelMatchesNaiveTwin() {
        let cases: [(cin: Int, cout: Int, k: Int, s: Int, width: Int, skip: Bool, relu: Bool)] = [
            (2, 1, 1, 1, 1, false, false), (32, 32, 3, 1, 13, true, true), (32, 3, 3, 1, 25, false, true),
            (4, 9, 3, 2, 7, true, false), (64, 17, 2, 1, 6, false, false), (6, 33, 5, 1, 12, true, true),
            (8, 41, 3, 1, 29, true, true), (2, 64, 3, 1, 13, false, false),
        ]
        var rng = RNG(seed: 37)
        for (ci, c) in cases.enumerated() {
            let rowTaps = c.k * c.cin, K = c.k * rowTaps
            let w = (0..<(K * c.cout)).map { _ in rng.normal() }
            var packed = [Int16](repeating: 0, count: K * ((c.cout + 7) & ~7))
            var scale = [Float](repeating: 0, count: c.cout)
            vqz_pack_weights(&packed, &scale, w, Int32(K), Int32(c.cout), vqz_weight_limit(Int32(K)))
            let limit = Int(vqz_activation_limit(Int32(K)))
            let rowValues = (c.width - 1) * c.s * c.cin + rowTaps
            let rows = (0..<(c.k * rowValues)).map { _ in Int16(Int.random(in: -limit...limit, using: &rng)) }
            let bias = ci % 3 == 0 ? nil : (0..<c.cout).map { _ in rng.normal() }
            let outStride = c.cout + ci % 2
            let skip = c.skip ? (0..<(c.width * outStride)).map { _ in rng.normal() } : nil
            var outNaive = [Float](repeating: -7, count: c.width * outStride)
            rows.withUnsafeBufferPointer { flat in
                let pointers = (0..<c.k).map { Optional(flat.baseAddress! + $0 * rowValues) }
                vqz_qconv_row_naive(&outNaive, outStride, skip, pointers, c.s * c.cin, Int32(rowTaps), Int32(c.k),
                                    Int32(c.width), packed, Int32(c.cout), scale, bias, c.relu ? 1 : 0)
                forEachVectorKernel { kernel in
                    var out = [Float](repeating: -7, count: c.width * outStride)
                    vqz_qconv_row(&out, outStride, skip, pointers, c.s * c.cin, Int32(rowTaps), Int32(c.k), Int32(c.width),
                                  packed, Int32(c.cout), scale, bias, c.relu ? 1 : 0)
                    XCTAssertEqual(out, outNaive, "integer row kernel case \(ci), \(kernel)")
                    XCTAssertTrue(out.enumerated().allSatisfy { $0.offset % outStride < c.cout || $0.element == -7 },
                                  "case \(ci), \(kernel), wrote past its channels")
                }
            }
        }
    }

    /// Values beyond the limit clamp instead of wrapping, and the rounding is to nearest even in
    /// both versions (the vector loop takes 16 at a time, the tail the naive loop).
    func testQuantizeClampsAndRounds() {
        let x: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, 1e9, -1e9, 3.49, -3.51, .greatestFiniteMagnitude,
                          0, -0, 7, 8, 9, 10, 2.5, 100, -100, 12.5]
        var q = [Int16](repeating: 0, count: x.count), qNaive = q
        vqz_quantize(&q, x, x.count, 1, 100, 0)
        vqz_quantize_naive(&qNaive, x, x.count, 1, 100, 0)
        XCTAssertEqual(q, qNaive)
        XCTAssertEqual(Array(q.prefix(9)), [0, 2, 2, 0, -2, 100, -100, 3, -4])
    }

    /// Integer inference of a convolution, every fused variant (ReLU in, upsampling, skip, ReLU out,
    /// strides, 1x1, odd channel counts, several blocks per thread, Winograd) against f32 inference: the
    /// error of the integer weights and activations, a small fraction of a percent of the output's size.
    func testIntegerConvInferIsCloseToFloat() throws {
        guard VectorKernels.available else { throw XCTSkip("this CPU has no AVX2: integer inference runs f32") }
        let cases: [(n: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int, relu: Bool, up: Bool, skip: Bool, reluOut: Bool, block: Int)] = [
            (1, 7, 5, 3, 4, 3, 1, true, false, false, false, 1 << 22), (2, 9, 11, 5, 5, 3, 1, true, false, true, false, 100),
            (1, 5, 7, 6, 3, 3, 1, false, true, false, true, 200), (2, 4, 3, 3, 7, 3, 1, true, true, true, false, 64),
            (3, 9, 7, 4, 6, 3, 2, true, false, false, true, 90), (1, 6, 7, 6, 6, 1, 1, false, false, true, true, 1 << 22),
            (2, 5, 6, 17, 9, 1, 1, true, false, false, false, 40), (1, 13, 9, 17, 2, 3, 1, false, false, false, false, 500),
            (1, 31, 37, 32, 32, 3, 1, true, false, true, false, 1 << 12), (2, 3, 5, 4, 3, 5, 1, false, true, false, true, 1 << 22),
            (1, 11, 6, 8, 5, 3, 1, true, true, false, true, 150), (1, 17, 19, 64, 12, 3, 1, true, false, false, false, 1 << 18),
            // Winograd in f32, so the integer Winograd here; an odd Cin keeps the direct integer kernel.
            (2, 10, 9, 128, 24, 3, 1, false, false, true, true, 1 << 18), (1, 9, 8, 65, 40, 3, 1, true, false, true, false, 1 << 18),
        ]
        for (ci, c) in cases.enumerated() {
            var rng = RNG(seed: UInt64(90 + ci))
            let store = ParameterStore()
            let conv = Conv2d(store, "c", inChannels: c.cin, outChannels: c.cout, kernel: c.k, stride: c.s,
                              padding: (c.k - 1) / 2, rng: &rng)
            conv.blockElements = c.block
            store.seal()
            randomize(store, conv.bias, &rng)
            let x = randomTensor([c.n, c.h, c.w, c.cin], &rng)
            let skipShape = conv.infer(x, reluInput: c.relu, upsampleInput: c.up).shape
            let skip = c.skip ? randomTensor(skipShape, &rng) : nil
            let want = conv.infer(x, reluInput: c.relu, upsampleInput: c.up, adding: skip, reluOutput: c.reluOut).copy()
            conv.inferencePrecision = .int16
            let got = conv.infer(x, reluInput: c.relu, upsampleInput: c.up, adding: skip, reluOutput: c.reluOut).copy()
            XCTAssertEqual(got.shape, want.shape, "case \(ci)")
            var size: Float = 0
            for i in 0..<want.count { size = max(size, abs(want.data[i])) }
            var worst: Float = 0
            for i in 0..<want.count { worst = max(worst, abs(got.data[i] - want.data[i])) }
            XCTAssertLessThan(worst, 0.002 * size, "integer conv case \(ci)")
            XCTAssertGreaterThan(worst, 0, "case \(ci) ran f32, not the integer kernels")
            // Deterministic whatever the blocks and threads: the sums are exact integers.
            conv.blockElements = 1 << 22
            let again = conv.infer(x, reluInput: c.relu, upsampleInput: c.up, adding: skip, reluOutput: c.reluOut)
            XCTAssertEqual(again.array, got.array, "integer conv case \(ci) depends on the blocking")
        }
    }
}
