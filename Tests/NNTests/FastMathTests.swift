import XCTest
@testable import NN
#if canImport(Glibc)
import Glibc
#endif

/// The libm-free exp and tanh against libm, and GELU built on them against its formula.
final class FastMathTests: XCTestCase {
    func testFastExpIsWithinTwoMillionthsRelative() {
        var worst: Float = 0
        for i in 0...200_000 {
            let x = -87 + 87 * Float(i) / 200_000
            worst = max(worst, abs(fastExp(x) - expf(x)) / expf(x))
        }
        XCTAssertLessThan(worst, 2e-6)
    }

    func testFastTanhIsWithinTwoTenMillionthsAbsolute() {
        var worst: Float = 0
        for i in 0...200_000 {
            let x = -20 + 40 * Float(i) / 200_000
            worst = max(worst, abs(fastTanh(x) - tanhf(x)))
        }
        XCTAssertLessThan(worst, 2e-7)
        XCTAssertEqual(fastTanh(0), 0)
        XCTAssertEqual(fastTanh(-50), -1)
        XCTAssertEqual(fastTanh(.infinity), 1)
    }

    func testGELUMatchesItsFormula() {
        let x = Tensor([4001])
        for i in 0..<x.count { x.data[i] = -12 + 24 * Float(i) / 4000 }
        let y = GELU().forward(x)
        for i in 0..<x.count {
            let v = x.data[i]
            let want = 0.5 * v * (1 + tanhf(0.7978845608 * (v + 0.044715 * v * v * v)))
            XCTAssertEqual(y.data[i], want, accuracy: 3e-6 * max(1, abs(v)), "x = \(v)")
        }
    }
}
