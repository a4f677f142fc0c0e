import XCTest
import CKernels

/// The weight loader's float16 conversion (F16C where the CPU has it) against its naive twin and
/// Swift's own conversion, on every one of the 65,536 bit patterns, from an odd address.
final class Float16Tests: XCTestCase {
    func testEveryFloat16ConvertsExactly() {
        let n = 1 << 16
        var bytes = [UInt8](repeating: 0, count: 2 * n + 1)
        for h in 0..<n {
            bytes[1 + 2 * h] = UInt8(h & 0xff)
            bytes[2 + 2 * h] = UInt8(h >> 8)
        }
        var fast = [Float](repeating: 0, count: n), naive = fast
        bytes.withUnsafeBytes { raw in
            vqz_f16_to_f32(&fast, raw.baseAddress! + 1, n)
            vqz_f16_to_f32_naive(&naive, raw.baseAddress! + 1, n)
        }
        XCTAssertEqual(fast.map(\.bitPattern), naive.map(\.bitPattern))
        for h in 0..<n {
            let want = Float(Float16(bitPattern: UInt16(h)))
            if want.isNaN {
                XCTAssertTrue(fast[h].isNaN, "0x\(String(h, radix: 16))")
            } else {
                XCTAssertEqual(fast[h].bitPattern, want.bitPattern, "0x\(String(h, radix: 16))")
            }
        }
    }
}
