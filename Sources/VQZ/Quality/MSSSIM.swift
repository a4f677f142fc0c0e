import Foundation

/// Multi-scale structural similarity (MS-SSIM, Wang, Simoncelli and Bovik 2003) of two pictures
/// of the same size, on luma. 1 means identical; the figure falls towards 0 as structure is lost.
///
/// The exact definition, so that numbers can be compared with other tools:
/// - Luma: gray samples as they are (`channels` 1 or 2, the second being alpha); from RGB
///   (`channels` 3 or 4) Y = 0.299 R + 0.587 G + 0.114 B (BT.601), unrounded. Alpha is ignored.
/// - Window: 11x11 Gaussian, sigma 1.5, normalised to sum 1, applied over "valid" positions
///   only (no padding), so a WxH plane gives (W-10)x(H-10) local statistics.
/// - Local statistics with the window's weights: means μx, μy, variances σx², σy² and
///   covariance σxy (population form: E[x²] − μx²).
///   l = (2 μx μy + C1) / (μx² + μy² + C1), cs = (2 σxy + C2) / (σx² + σy² + C2),
///   C1 = (0.01·255)², C2 = (0.03·255)².
/// - Scales j = 1…M: at each, mean(cs) over the valid positions; at the last one, mean(l·cs)
///   (the plain SSIM of that scale) instead. Between scales each plane is halved by averaging
///   2x2 blocks; an odd last row or column is dropped.
/// - MS-SSIM = Π_{j<M} mean(cs_j)^w_j · mean(l·cs_M)^w_M with w = (0.0448, 0.2856, 0.3001,
///   0.2363, 0.1333) for M = 5. Negative means are clamped to 0 before the powers (they occur
///   only for anti-correlated pictures, and a fractional power of them is undefined).
///
/// Small pictures: M = 5 needs the shorter side to be at least 176 (11 · 2⁴). For shorter
/// sides, M is the number of scales whose shorter side is still at least 11, and the first M
/// weights are rescaled to sum to 1. Below 11 pixels there is no full window: the result is
/// then one SSIM over the whole picture as a single window with equal weights (global means,
/// variances and covariance). Figures from fewer than 5 scales are not comparable with 5-scale
/// ones; the harness's validation pictures are 768x512.
///
/// scripts/msssim_reference.py implements the same definition with numpy/scipy.
public func msssim(_ a: [UInt8], _ b: [UInt8], width: Int, height: Int, channels: Int = 3) -> Double {
    precondition(width > 0 && height > 0, "msssim: empty picture")
    precondition((1...4).contains(channels), "msssim: channels must be 1...4")
    precondition(a.count == width * height * channels && b.count == a.count,
                 "msssim: buffers don't hold \(width)x\(height)x\(channels) samples")
    var x = lumaPlane(a, width: width, height: height, channels: channels)
    var y = lumaPlane(b, width: width, height: height, channels: channels)

    let scales = MSSSIM.scaleCount(width: width, height: height)
    if scales == 0 { return MSSSIM.globalSSIM(x, y) }
    var weights = Array(MSSSIM.weights.prefix(scales))
    if scales < MSSSIM.weights.count {
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
    }

    var w = width, h = height
    var result = 1.0
    for s in 0..<scales {
        let (ssim, cs) = MSSSIM.meanSSIMAndCS(x, y, width: w, height: h)
        if s == scales - 1 {
            result *= pow(max(ssim, 0), weights[s])
        } else {
            result *= pow(max(cs, 0), weights[s])
            x = MSSSIM.halve(x, width: w, height: h)
            y = MSSSIM.halve(y, width: w, height: h)
            w /= 2
            h /= 2
        }
    }
    return result
}

/// Luma of interleaved 8-bit samples as Doubles in 0...255, as `msssim` defines it.
public func lumaPlane(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> [Double] {
    precondition(pixels.count == width * height * channels, "lumaPlane: wrong buffer size")
    let n = width * height
    var out = [Double](repeating: 0, count: n)
    pixels.withUnsafeBufferPointer { p in
        for i in 0..<n {
            let at = i * channels
            if channels >= 3 {
                out[i] = 0.299 * Double(p[at]) + 0.587 * Double(p[at + 1]) + 0.114 * Double(p[at + 2])
            } else {
                out[i] = Double(p[at])
            }
        }
    }
    return out
}

/// The pieces of `msssim`, kept apart so each can be read against the definition.
enum MSSSIM {
    static let weights: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    static let c1 = (0.01 * 255.0) * (0.01 * 255.0)
    static let c2 = (0.03 * 255.0) * (0.03 * 255.0)
    static let windowSize = 11

    /// The 1-D Gaussian (sigma 1.5, 11 taps, sum 1); the 2-D window is its outer product.
    static let gaussian: [Double] = {
        let raw = (0..<windowSize).map { i -> Double in
            let r = Double(i - windowSize / 2)
            return exp(-r * r / (2 * 1.5 * 1.5))
        }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }()

    /// How many scales fit: each must still hold one whole window.
    static func scaleCount(width: Int, height: Int) -> Int {
        var count = 0
        var side = min(width, height)
        while count < weights.count && side >= windowSize {
            count += 1
            side /= 2
        }
        return count
    }

    /// Mean of l·cs and mean of cs over all valid window positions.
    static func meanSSIMAndCS(_ x: [Double], _ y: [Double], width: Int, height: Int) -> (Double, Double) {
        let n = width * height
        var xx = [Double](repeating: 0, count: n)
        var yy = xx, xy = xx
        for i in 0..<n {
            xx[i] = x[i] * x[i]
            yy[i] = y[i] * y[i]
            xy[i] = x[i] * y[i]
        }
        let mx = filterValid(x, width: width, height: height)
        let my = filterValid(y, width: width, height: height)
        let exx = filterValid(xx, width: width, height: height)
        let eyy = filterValid(yy, width: width, height: height)
        let exy = filterValid(xy, width: width, height: height)

        var ssimSum = 0.0, csSum = 0.0
        for i in 0..<mx.count {
            let vx = exx[i] - mx[i] * mx[i]
            let vy = eyy[i] - my[i] * my[i]
            let cxy = exy[i] - mx[i] * my[i]
            let cs = (2 * cxy + c2) / (vx + vy + c2)
            let l = (2 * mx[i] * my[i] + c1) / (mx[i] * mx[i] + my[i] * my[i] + c1)
            ssimSum += l * cs
            csSum += cs
        }
        let count = Double(mx.count)
        return (ssimSum / count, csSum / count)
    }

    /// Correlates a plane with the 11x11 Gaussian at every position where the window fits
    /// entirely, separably (rows, then columns). Result: (width-10) x (height-10).
    static func filterValid(_ src: [Double], width: Int, height: Int) -> [Double] {
        let k = windowSize
        let ow = width - k + 1, oh = height - k + 1
        var rows = [Double](repeating: 0, count: ow * height)
        var out = [Double](repeating: 0, count: ow * oh)
        gaussian.withUnsafeBufferPointer { g in
            src.withUnsafeBufferPointer { s in
                rows.withUnsafeMutableBufferPointer { r in
                    for yPos in 0..<height {
                        let line = yPos * width
                        for xPos in 0..<ow {
                            var acc = 0.0
                            for t in 0..<k { acc += g[t] * s[line + xPos + t] }
                            r[yPos * ow + xPos] = acc
                        }
                    }
                }
            }
            rows.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer { o in
                    for yPos in 0..<oh {
                        for xPos in 0..<ow {
                            var acc = 0.0
                            for t in 0..<k { acc += g[t] * r[(yPos + t) * ow + xPos] }
                            o[yPos * ow + xPos] = acc
                        }
                    }
                }
            }
        }
        return out
    }

    /// Averages 2x2 blocks; an odd last row or column is dropped.
    static func halve(_ src: [Double], width: Int, height: Int) -> [Double] {
        let ow = width / 2, oh = height / 2
        var out = [Double](repeating: 0, count: ow * oh)
        for yPos in 0..<oh {
            let top = 2 * yPos * width, bottom = top + width
            for xPos in 0..<ow {
                let c = 2 * xPos
                out[yPos * ow + xPos] = (src[top + c] + src[top + c + 1] + src[bottom + c] + src[bottom + c + 1]) / 4
            }
        }
        return out
    }

    /// SSIM of the whole picture taken as one window with equal weights, for pictures too
    /// small to hold an 11x11 window.
    static func globalSSIM(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var vx = 0.0, vy = 0.0, cxy = 0.0
        for i in 0..<x.count {
            let dx = x[i] - mx, dy = y[i] - my
            vx += dx * dx
            vy += dy * dy
            cxy += dx * dy
        }
        vx /= n
        vy /= n
        cxy /= n
        let l = (2 * mx * my + c1) / (mx * mx + my * my + c1)
        let cs = (2 * cxy + c2) / (vx + vy + c2)
        return l * cs
    }
}
