import XCTest
@testable import VQZ

final class QualityTests: XCTestCase {
    // MARK: PSNR

    func testIdenticalBuffersHaveInfinitePSNR() {
        let a: [UInt8] = [0, 17, 255, 128, 3, 99]
        XCTAssertEqual(psnr(a, a), .infinity)
    }

    func testPSNRFromKnownMSE() {
        // Every sample off by 5: MSE = 25, PSNR = 20·log10(255/5) = 20·log10(51) = 34.1514 dB.
        let a = [UInt8](repeating: 100, count: 300)
        let b = [UInt8](repeating: 105, count: 300)
        XCTAssertEqual(meanSquaredError(a, b), 25)
        XCTAssertEqual(psnr(a, b), 34.15140352195873, accuracy: 1e-9)

        // Half the samples off by 255, half exact: MSE = 255²/2, PSNR = 10·log10(2) = 3.0103 dB.
        let c: [UInt8] = [0, 0, 0, 0]
        let d: [UInt8] = [255, 0, 255, 0]
        XCTAssertEqual(psnr(c, d), 3.010299956639812, accuracy: 1e-9)

        // Mixed errors 1, -2, 0, 3: MSE = (1 + 4 + 0 + 9) / 4 = 3.5.
        XCTAssertEqual(meanSquaredError([10, 20, 30, 40], [11, 18, 30, 43]), 3.5)
        XCTAssertEqual(psnr([10, 20, 30, 40], [11, 18, 30, 43]), 10 * log10(65025 / 3.5), accuracy: 1e-12)
    }

    func testBitsPerPixel() {
        XCTAssertEqual(bitsPerPixel(byteCount: 1000, width: 100, height: 80), 1.0)
        XCTAssertEqual(bitsPerPixel(byteCount: 7680, width: 768, height: 512), 0.15625)
    }

    // MARK: MS-SSIM

    func testIdenticalPicturesHaveMSSSIMOne() {
        let (a, _) = testPattern(width: 200, height: 180)
        XCTAssertEqual(msssim(a, a, width: 200, height: 180), 1, accuracy: 1e-12)
        let (small, _) = testPattern(width: 64, height: 48)
        XCTAssertEqual(msssim(small, small, width: 64, height: 48), 1, accuracy: 1e-12)
    }

    func testConstantPicturesShiftedByHand() {
        // Two flat pictures, 100 and 110 in every channel. Variances and covariance are 0, so
        // cs = C2/C2 = 1 at every scale and only the last scale's luminance term is left:
        //   l = (2·100·110 + C1) / (100² + 110² + C1), C1 = 2.55² = 6.5025
        //     = 22006.5025 / 22106.5025 = 0.99547644...
        //   MS-SSIM = l^0.1333 = 0.99939582...
        let n = 200 * 180 * 3
        let a = [UInt8](repeating: 100, count: n)
        let b = [UInt8](repeating: 110, count: n)
        let l = 22006.5025 / 22106.5025
        XCTAssertEqual(msssim(a, b, width: 200, height: 180), pow(l, 0.1333), accuracy: 1e-12)
        XCTAssertEqual(pow(l, 0.1333), 0.99939582, accuracy: 1e-8)
        // Luma of a gray RGB pixel is the pixel (0.299 + 0.587 + 0.114 = 1), so one channel gives the same.
        let a1 = [UInt8](repeating: 100, count: 200 * 180)
        let b1 = [UInt8](repeating: 110, count: 200 * 180)
        XCTAssertEqual(msssim(a1, b1, width: 200, height: 180, channels: 1), pow(l, 0.1333), accuracy: 1e-12)
    }

    func testTexturedPictureShiftedByConstantKeepsStructure() {
        // Adding a constant leaves variances and covariance alone, so cs = 1 exactly at every
        // scale; only the luminance term at the last scale lowers the figure, and only a little.
        let (a, _) = testPattern(width: 200, height: 180)
        let b = a.map { min($0, 200) + 20 }
        let aClamped = a.map { min($0, 200) }
        let score = msssim(aClamped, b, width: 200, height: 180)
        XCTAssertLessThan(score, 1)
        XCTAssertGreaterThan(score, 0.99)
    }

    func testAgreesWithNumpyReference() {
        // Reference numbers from `python3 scripts/msssim_reference.py` (numpy 2.4, scipy 1.17),
        // an independent implementation of the same definition with 2-D correlation.
        let (a, b) = testPattern(width: 200, height: 180)   // 5 scales
        XCTAssertEqual(psnr(a, b), 26.5531599388, accuracy: 1e-8)
        XCTAssertEqual(msssim(a, b, width: 200, height: 180), 0.9747778963, accuracy: 1e-6)

        let (c, d) = testPattern(width: 64, height: 48)     // 3 scales, weights rescaled
        XCTAssertEqual(psnr(c, d), 26.5391978583, accuracy: 1e-8)
        XCTAssertEqual(msssim(c, d, width: 64, height: 48), 0.9490651205, accuracy: 1e-6)

        let (e, f) = testPattern(width: 9, height: 7)       // no full window: global SSIM
        XCTAssertEqual(msssim(e, f, width: 9, height: 7), 0.5846447494, accuracy: 1e-6)
    }

    func testScaleCountFollowsShorterSide() {
        XCTAssertEqual(MSSSIM.scaleCount(width: 768, height: 512), 5)
        XCTAssertEqual(MSSSIM.scaleCount(width: 176, height: 176), 5)
        XCTAssertEqual(MSSSIM.scaleCount(width: 175, height: 1000), 4)
        XCTAssertEqual(MSSSIM.scaleCount(width: 11, height: 11), 1)
        XCTAssertEqual(MSSSIM.scaleCount(width: 10, height: 100), 0)
    }

    func testGaussianWindowSumsToOne() {
        XCTAssertEqual(MSSSIM.gaussian.reduce(0, +), 1, accuracy: 1e-15)
        XCTAssertEqual(MSSSIM.gaussian[5], MSSSIM.gaussian.max())
    }

    func testWorseDistortionScoresLower() {
        let (a, b) = testPattern(width: 200, height: 180)
        let worse = zip(a, b).map { UInt8(clamping: 2 * Int($1) - Int($0)) }   // twice the noise
        XCTAssertLessThan(msssim(a, worse, width: 200, height: 180), msssim(a, b, width: 200, height: 180))
        XCTAssertLessThan(psnr(a, worse), psnr(a, b))
    }

    /// The picture pair of scripts/msssim_reference.py's test_pair: RGB stripes and a 16-pixel
    /// checkerboard, and the same with deterministic noise in -20...20. Integer formulas, so
    /// Swift and Python make identical bytes.
    private func testPattern(width: Int, height: Int) -> ([UInt8], [UInt8]) {
        var a = [UInt8](), b = [UInt8]()
        a.reserveCapacity(width * height * 3)
        b.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let base = (x + 2 * y + 60 * c) % 200 + 28 * ((x / 16 + y / 16) % 2)
                    let noise = ((x * 37 + y * 91 + c * 13) * (x * 11 + y * 5 + 7)) % 41 - 20
                    a.append(UInt8(base))
                    b.append(UInt8(clamping: base + noise))
                }
            }
        }
        return (a, b)
    }
}
