import XCTest
import NN
import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// The kernels entropy coding relies on: bit-identical to their naive twin, to themselves on
/// any batch split and thread count, and accurate.
final class FixedOrderTests: XCTestCase {
    func testAffineEqualsNaiveTwinBitForBitOnOddShapes() {
        var rng = RNG(seed: 5)
        for (m, din, dout) in [(1, 1, 1), (3, 7, 9), (5, 33, 17), (9, 64, 1024), (2, 192, 24), (6, 192, 1000), (4, 16, 72)] {
            let x = (0..<(m * din)).map { _ in rng.normal() }, w = (0..<(din * dout)).map { _ in rng.normal() }
            let b = (0..<dout).map { _ in rng.normal() }
            var naive = [Float](repeating: 0, count: m * dout)
            fixedOrderAffineNaive(&naive, x, w, b, rows: m, inFeatures: din, outFeatures: dout)
            forEachVectorKernel { kernel in
                var fast = [Float](repeating: 0, count: m * dout)
                fixedOrderAffine(&fast, x, w, b, rows: m, inFeatures: din, outFeatures: dout)
                XCTAssertEqual(fast.map(\.bitPattern), naive.map(\.bitPattern), "\(m)x\(din)->\(dout), \(kernel)")
            }
        }
    }

    func testAffineRowDoesNotDependOnBatchOrThreads() {
        var rng = RNG(seed: 6)
        let (m, din, dout) = (37, 48, 136)
        let x = (0..<(m * din)).map { _ in rng.normal() }, w = (0..<(din * dout)).map { _ in rng.normal() }
        let b = (0..<dout).map { _ in rng.normal() }
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 2
        var batched = [Float](repeating: 0, count: m * dout)
        fixedOrderAffine(&batched, x, w, b, rows: m, inFeatures: din, outFeatures: dout)
        Threads.count = 1
        for r in 0..<m {
            var single = [Float](repeating: 0, count: dout)
            fixedOrderAffine(&single, Array(x[(r * din)..<((r + 1) * din)]), w, b, rows: 1, inFeatures: din, outFeatures: dout)
            XCTAssertEqual(single.map(\.bitPattern), batched[(r * dout)..<((r + 1) * dout)].map(\.bitPattern), "row \(r)")
        }
    }

    /// The scalar definition of the fixed-order exp, one value.
    func scalarExp(_ x: Float) -> Float {
        var y: Float = .nan
        var v = x
        vqz_fixed_exp_naive(&y, &v, 1, 0)
        return y
    }

    /// The vector exp gives the scalar definition's bits, on every width, at the edges too.
    func testVectorExpEqualsTheScalarDefinitionBitForBit() {
        var x: [Float] = stride(from: Float(-90), through: 0, by: 0.000_731).map { $0 }
        x += [-87, -87.000_01, -86.999_99, -.infinity, .nan, -0.0, -Float.leastNonzeroMagnitude, -1e-30, 0]
        let offsets: [Float] = [0, 3.25, -2]
        for offset in offsets {
            var naive = [Float](repeating: .nan, count: x.count)
            vqz_fixed_exp_naive(&naive, x, Int32(x.count), offset)
            let want = naive.map(\.bitPattern)
            XCTAssertEqual(want, x.map { scalarExp($0 - offset).bitPattern }, "offset \(offset) against one value at a time")
            forEachVectorKernel { kernel in
                var fast = [Float](repeating: .nan, count: x.count)
                fixedOrderExp(x, count: x.count, minus: offset, into: &fast)
                XCTAssertEqual(fast.map(\.bitPattern), want, "\(kernel), offset \(offset)")
            }
        }
    }

    func testExpMatchesLibmWithinTwoUlpsOfRelativeError() {
        var worst: Float = 0
        var x: Float = -87
        while x <= 0 {
            let e = expf(x)
            worst = max(worst, abs(scalarExp(x) - e) / e)
            x += 0.0137
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(scalarExp(0), 1)
        XCTAssertEqual(scalarExp(-100), 0)
        XCTAssertEqual(scalarExp(-.infinity), 0)
    }
}
