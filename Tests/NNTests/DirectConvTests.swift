import XCTest
import CKernels
import NN

/// The direct f32 convolution kernel against its naive twin (the same fused multiply-adds in the
/// same order, so equal to the bit) on odd shapes: widths that leave partial tiles, channel counts
/// that leave partial panels (1, 3, 8, 9, 17, 33), strides, skips and the output ReLU.
final class DirectConvTests: XCTestCase {
    func testKernelMatchesNaiveTwin() {
        let cases: [(cin: Int, cout: Int, k: Int, s: Int, width: Int, skip: Bool, relu: Bool)] = [
            (1, 1, 1, 1, 1, false, false), (3, 32, 3, 1, 13, false, true), (32, 3, 3, 1, 25, true, false),
            (5, 9, 3, 2, 7, true, true), (4, 17, 2, 1, 6, false, false), (32, 32, 3, 1, 37, true, true),
            (7, 33, 5, 1, 12, false, true), (16, 8, 3, 1, 11, true, false), (2, 16, 4, 3, 5, false, false),
        ]
        var rng = RNG(seed: 35)
        for (ci, c) in cases.enumerated() {
            let rowTaps = c.k * c.cin, K = c.k * rowTaps
            let w = (0..<(K * c.cout)).map { _ in rng.normal() }
            var packed = [Float](repeating: .nan, count: vqz_conv_packed_count(Int32(K), Int32(c.cout)))
            vqz_conv_pack(&packed, w, Int32(K), Int32(c.cout))
            let rowFloats = (c.width - 1) * c.s * c.cin + rowTaps
            let rows = (0..<c.k).map { _ in (0..<rowFloats).map { _ in rng.normal() } }
            let bias = ci % 3 == 0 ? nil : (0..<c.cout).map { _ in rng.normal() }
            let outStride = c.cout + ci % 2   // a gap between pixels, as the upsampled phases have
            let skip = c.skip ? (0..<(c.width * outStride)).map { _ in rng.normal() } : nil
            var out = [Float](repeating: -7, count: c.width * outStride), outNaive = out
            Array(rows.joined()).withUnsafeBufferPointer { flat in
                let pointers = (0..<c.k).map { Optional(flat.baseAddress! + $0 * rowFloats) }
                vqz_conv_row(&out, outStride, skip, pointers, c.s * c.cin, Int32(rowTaps), Int32(c.k), Int32(c.width),
                             packed, Int32(c.cout), bias, c.relu ? 1 : 0)
                vqz_conv_row_naive(&outNaive, outStride, skip, pointers, c.s * c.cin, Int32(rowTaps), Int32(c.k),
                                   Int32(c.width), packed, Int32(c.cout), bias, c.relu ? 1 : 0)
            }
            XCTAssertEqual(out, outNaive, "direct conv case \(ci)")
            // The gap between pixels is left alone, and the sums are the convolution's.
            for j in 0..<c.width {
                for n in 0..<outStride {
                    let got = out[j * outStride + n]
                    if n >= c.cout {
                        XCTAssertEqual(got, -7, "case \(ci) wrote past its channels")
                        continue
                    }
                    var want = Double(bias?[n] ?? 0)
                    for ky in 0..<c.k {
                        for t in 0..<rowTaps { want += Double(rows[ky][j * c.s * c.cin + t]) * Double(w[(ky * rowTaps + t) * c.cout + n]) }
                    }
                    if let skip { want += Double(skip[j * outStride + n]) }
                    if c.relu { want = max(want, 0) }
                    XCTAssertEqual(Double(got), want, accuracy: 1e-4 * Double(K), "case \(ci) pixel \(j) channel \(n)")
                }
            }
        }
    }

    /// A 3x3 convolution's output (row, pixel, channel) over padded input rows, in Double: the
    /// sum, the bias, the skip and the ReLU.
    func reference3x3(_ rows: [[Float]], _ w: [Float], cin: Int, cout: Int, row r: Int, pixel j: Int, channel n: Int,
                      bias: Float?, skip: Float?, relu: Bool) -> Double {
        var want = Double(bias ?? 0)
        for ky in 0..<3 {
            for kx in 0..<3 {
                for ch in 0..<cin { want += Double(rows[r + ky][(j + kx) * cin + ch]) * Double(w[((ky * 3 + kx) * cin + ch) * cout + n]) }
            }
        }
        if let skip { want += Double(skip) }
        return relu ? max(want, 0) : want
    }

    /// Winograd F(2x2, 3x3) against its naive twin (to the bit) and against the convolution it
    /// computes, on odd widths (a last tile half outside), odd numbers of output rows, chunks that
    /// span rows or split them (200 channels), channel counts that leave partial vectors and
    /// panels, skips and the ReLU.
    func testWinogradMatchesNaiveTwinAndConvolution() {
        let cases: [(cin: Int, cout: Int, width: Int, outRows: Int, skip: Bool, relu: Bool)] = [
            (1, 1, 1, 1, false, false), (3, 32, 13, 2, false, true), (32, 3, 25, 5, true, false),
            (12, 17, 8, 1, true, true), (9, 8, 11, 6, false, false), (33, 40, 50, 2, true, true),
            (64, 16, 7, 3, false, true), (200, 24, 41, 4, true, false),
        ]
        var rng = RNG(seed: 39)
        for (ci, c) in cases.enumerated() {
            let w = (0..<(9 * c.cin * c.cout)).map { _ in rng.normal() }
            var packed = [Float](repeating: .nan, count: vqz_winograd_packed_count(Int32(c.cin), Int32(c.cout)))
            vqz_winograd_pack(&packed, w, Int32(c.cin), Int32(c.cout))
            // Padded rows: one zero pixel on the left, and zeros past the image on the right.
            let pixels = (c.width + 1) / 2 * 2 + 2, inputRows = (c.outRows + 1) / 2 * 2 + 2
            let rows = (0..<inputRows).map { _ in
                (0..<(pixels * c.cin)).map { i in i < c.cin || i >= (c.width + 1) * c.cin ? 0 : rng.normal() }
            }
            let bias = ci % 3 == 0 ? nil : (0..<c.cout).map { _ in rng.normal() }
            let rowStride = c.width * c.cout
            let skip = c.skip ? (0..<(inputRows * rowStride)).map { _ in rng.normal() } : nil
            var out = [Float](repeating: -7, count: inputRows * rowStride), outNaive = out
            var scratch = [Float](repeating: .nan, count: vqz_winograd_scratch_count(Int32(c.cin), Int32(c.cout)))
            Array(rows.joined()).withUnsafeBufferPointer { flat in
                let pointers = (0..<inputRows).map { Optional(flat.baseAddress! + $0 * pixels * c.cin) }
                vqz_winograd_rows(&out, rowStride, Int32(c.outRows), skip, pointers, Int32(c.cin), Int32(c.width),
                                  packed, Int32(c.cout), bias, c.relu ? 1 : 0, &scratch)
                vqz_winograd_rows_naive(&outNaive, rowStride, Int32(c.outRows), skip, pointers, Int32(c.cin),
                                        Int32(c.width), packed, Int32(c.cout), bias, c.relu ? 1 : 0, &scratch)
            }
            XCTAssertEqual(out, outNaive, "winograd case \(ci)")
            for r in 0..<inputRows {
                for j in 0..<c.width {
                    for n in 0..<c.cout {
                        let got = out[r * rowStride + j * c.cout + n]
                        if r >= c.outRows {
                            XCTAssertEqual(got, -7, "case \(ci) wrote a row it was not asked for")
                            continue
                        }
                        let want = reference3x3(rows, w, cin: c.cin, cout: c.cout, row: r, pixel: j, channel: n, bias: bias?[n],
                                                skip: skip?[r * rowStride + j * c.cout + n], relu: c.relu)
                        XCTAssertEqual(Double(got), want, accuracy: 1e-4 * Double(9 * c.cin), "case \(ci) row \(r) pixel \(j) channel \(n)")
                    }
                }
            }
        }
    }

    /// The integer Winograd (the decoder's int16 inference) against its naive twin (to the bit) and
    /// against the f32 convolution, within the error of 12-bit weights and inputs, on the odd shapes
    /// of the f32 test with an even Cin (the integer kernel takes the channels in pairs).
    func testIntegerWinogradMatchesNaiveTwinAndConvolution() {
        let cases: [(cin: Int, cout: Int, width: Int, outRows: Int, skip: Bool, relu: Bool)] = [
            (2, 1, 1, 1, false, false), (4, 32, 13, 2, false, true), (32, 3, 25, 5, true, false),
            (12, 17, 8, 1, true, true), (34, 40, 50, 2, true, true), (64, 16, 7, 3, false, true), (200, 24, 41, 4, true, false),
        ]
        var rng = RNG(seed: 41)
        for (ci, c) in cases.enumerated() {
            let w = (0..<(9 * c.cin * c.cout)).map { _ in rng.normal() }
            var u = [Float](repeating: .nan, count: 16 * c.cin * c.cout)
            vqz_winograd_transform_weights(&u, w, Int32(c.cin), Int32(c.cout))
            let limit = vqz_weight_limit(Int32(c.cin))
            let perPoint = c.cin * ((c.cout + 7) / 8 * 8)
            var packed = [Int16](repeating: 0, count: 16 * perPoint), weightScales = [Float](repeating: 0, count: 16 * c.cout)
            for p in 0..<16 {
                packed.withUnsafeMutableBufferPointer { pk in
                    weightScales.withUnsafeMutableBufferPointer { sc in
                        vqz_pack_weights(pk.baseAddress! + p * perPoint, sc.baseAddress! + p * c.cout,
                                         Array(u[(p * c.cin * c.cout)..<((p + 1) * c.cin * c.cout)]), Int32(c.cin), Int32(c.cout), limit)
                    }
                }
            }
            let pixels = (c.width + 1) / 2 * 2 + 2, inputRows = (c.outRows + 1) / 2 * 2 + 2
            let rows = (0..<inputRows).map { _ in
                (0..<(pixels * c.cin)).map { i in i < c.cin || i >= (c.width + 1) * c.cin ? 0 : rng.normal() }
            }
            let amax = rows.joined().map(abs).max()!
            let activationLimit = vqz_activation_limit(Int32(c.cin))
            let inputScale = 4 * amax / Float(activationLimit)
            let scales = weightScales.map { $0 * inputScale }
            let bias = ci % 3 == 0 ? nil : (0..<c.cout).map { _ in rng.normal() }
            let rowStride = c.width * c.cout
            let skip = c.skip ? (0..<(inputRows * rowStride)).map { _ in rng.normal() } : nil
            var out = [Float](repeating: -7, count: inputRows * rowStride), outNaive = out
            var scratch = [Float](repeating: .nan, count: vqz_qwinograd_scratch_count(Int32(c.cin), Int32(c.cout)))
            packed.withUnsafeBufferPointer { pk in
                scales.withUnsafeBufferPointer { sc in
                    let packedPointers = (0..<16).map { Optional(pk.baseAddress! + $0 * perPoint) }
                    let scalePointers = (0..<16).map { Optional(sc.baseAddress! + $0 * c.cout) }
                    Array(rows.joined()).withUnsafeBufferPointer { flat in
                        let pointers = (0..<inputRows).map { Optional(flat.baseAddress! + $0 * pixels * c.cin) }
                        vqz_qwinograd_rows_naive(&outNaive, rowStride, Int32(c.outRows), skip, pointers, Int32(c.cin),
                                                 Int32(c.width), packedPointers, scalePointers, Int32(c.cout), 1 / inputScale,
                                                 activationLimit, bias, c.relu ? 1 : 0, &scratch)
                        forEachVectorKernel { kernel in
                            vqz_qwinograd_rows(&out, rowStride, Int32(c.outRows), skip, pointers, Int32(c.cin), Int32(c.width),
                                               packedPointers, scalePointers, Int32(c.cout), 1 / inputScale, activationLimit,
                                               bias, c.relu ? 1 : 0, &scratch)
                            XCTAssertEqual(out, outNaive, "integer winograd case \(ci), \(kernel)")
                        }
                    }
                }
            }
            var worst = 0.0, size = 0.0
            for r in 0..<inputRows {
                for j in 0..<c.width {
                    for n in 0..<c.cout {
                        let got = out[r * rowStride + j * c.cout + n]
                        if r >= c.outRows {
                            XCTAssertEqual(got, -7, "case \(ci) wrote a row it was not asked for")
                            continue
                        }
                        let want = reference3x3(rows, w, cin: c.cin, cout: c.cout, row: r, pixel: j, channel: n, bias: bias?[n],
                                                skip: skip?[r * rowStride + j * c.cout + n], relu: c.relu)
                        worst = max(worst, abs(Double(got) - want))
                        size = max(size, abs(want))
                    }
                }
            }
            XCTAssertLessThan(worst, 0.01 * size, "integer winograd case \(ci): error \(worst) of \(size)")
            XCTAssertGreaterThan(worst, 0, "case \(ci) is exact: not the integer kernel")
        }
    }

    /// Inference does not depend on the number of threads: each output row is one fixed chain of sums.
    func testConvInferIsThreadIndependent() {
        var rng = RNG(seed: 36)
        let store = ParameterStore()
        let conv = Conv2d(store, "c", inChannels: 6, outChannels: 10, kernel: 3, rng: &rng)
        store.seal()
        let x = randomTensor([2, 9, 13, 6], &rng)
        let saved = Threads.count
        defer { Threads.set(saved) }
        Threads.set(1)
        let one = conv.infer(x, reluInput: true, upsampleInput: true).copy()
        Threads.set(3)
        let three = conv.infer(x, reluInput: true, upsampleInput: true)
        XCTAssertEqual(one.array, three.array)
    }

    /// The nearest-code search picks the same codes whatever the thread count, and the true nearest
    /// (by a Double brute force) wherever the two best are not nearly tied.
    func testNearestCodesAreThreadIndependentAndExact() {
        var rng = RNG(seed: 38)
        let store = ParameterStore()
        let (k, d, m) = (300, 24, 517)
        let vq = ResidualVectorQuantizer(store, "vq", levels: 1, codebookSize: k, dim: d, rng: &rng)
        store.seal()
        let book = store.value(vq.codebooks[0])
        for i in 0..<(k * d) { book[i] = rng.normal() }
        let r = (0..<(m * d)).map { _ in rng.normal() }
        let saved = Threads.count
        defer { Threads.set(saved) }
        var picks: [[Int32]] = []
        for threads in [1, 3] {
            Threads.set(threads)
            var out = [Int32](repeating: -1, count: m)
            vq.nearest(r, rows: m, level: 0, into: &out)
            picks.append(out)
        }
        XCTAssertEqual(picks[0], picks[1])
        var checked = 0
        for i in 0..<m {
            let distances = (0..<k).map { j in (0..<d).reduce(0.0) { $0 + pow(Double(r[i * d + $1]) - Double(book[j * d + $1]), 2) } }
            let sorted = distances.sorted()
            guard sorted[1] - sorted[0] > 1e-4 else { continue }
            XCTAssertEqual(distances[Int(picks[0][i])], sorted[0], "row \(i)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, m * 9 / 10)
    }
}
