import Generation
import XCTest

/// The baseline fill of the inpainting evaluation.
final class HarmonicFillTests: XCTestCase {
    /// A hole in a horizontal ramp fills with the ramp: a linear function is harmonic, so the
    /// interpolation of the border is the ramp itself; pixels outside the hole are left as they are.
    func testFillsARampWithTheRamp() {
        let (w, h) = (24, 16)
        let rgb = (0..<(w * h)).flatMap { i in [UInt8](repeating: UInt8(10 * (i % w)), count: 3) }
        let hole = (0..<(w * h)).map { i in (8..<16).contains(i % w) && (4..<12).contains(i / w) }
        let filled = harmonicFill(rgb, width: w, height: h, hole: hole)
        for i in 0..<(w * h) {
            for c in 0..<3 {
                if hole[i] {
                    XCTAssertEqual(Double(filled[i * 3 + c]), Double(rgb[i * 3 + c]), accuracy: 2, "pixel \(i % w), \(i / w)")
                } else {
                    XCTAssertEqual(filled[i * 3 + c], rgb[i * 3 + c])
                }
            }
        }
    }
}
