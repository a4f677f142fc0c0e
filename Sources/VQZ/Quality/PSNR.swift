import Foundation

// Image-quality figures for the rate-distortion harness and the training reports. Pure
// functions over interleaved 8-bit samples; they don't care about the layout (RGB, gray, RGBA)
// except where said.

/// Mean squared error over all samples of two equally long 8-bit buffers.
public func meanSquaredError(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count, "meanSquaredError: buffers differ in length (\(a.count) vs \(b.count))")
    precondition(!a.isEmpty, "meanSquaredError: empty buffers")
    // Integer sums are exact: a picture needs 2^63 / 255^2 ≈ 1.4e14 samples to overflow.
    var sum: Int64 = 0
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            for i in 0..<pa.count {
                let d = Int64(pa[i]) - Int64(pb[i])
                sum += d * d
            }
        }
    }
    return Double(sum) / Double(a.count)
}

/// Peak signal-to-noise ratio in dB of 8-bit samples: 10·log10(255² / MSE), the MSE taken over
/// all samples (for RGB: all three channels together, not averaged per channel PSNR).
/// Identical buffers give +infinity.
public func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    let mse = meanSquaredError(a, b)
    return mse == 0 ? .infinity : 10 * log10(255.0 * 255.0 / mse)
}

/// Bits per pixel of a compressed file: 8 · bytes / (width · height). The rate of every codec
/// in vqz's comparisons counts the whole file, headers included.
public func bitsPerPixel(byteCount: Int, width: Int, height: Int) -> Double {
    precondition(width > 0 && height > 0, "bitsPerPixel: empty picture")
    return 8 * Double(byteCount) / (Double(width) * Double(height))
}
