import Foundation

/// The hole (mask [height * width], true = fill) of an RGB8 image refilled with the harmonic
/// interpolation of the known pixels around it: a smooth blur from the edges inwards. It is the
/// baseline every learned fill is measured against, and the inpainter's starting picture.
public func harmonicFill(_ rgb: [UInt8], width w: Int, height h: Int, hole: [Bool]) -> [UInt8] {
    let solved = harmonic(rgb.map { Float($0) }, domain: hole, width: w, height: h)
    var out = rgb
    for i in 0..<(w * h) where hole[i] {
        for c in 0..<3 { out[3 * i + c] = UInt8(min(max(solved[3 * i + c].rounded(), 0), 255)) }
    }
    return out
}

/// `values` (3 per pixel) with the pixels of `domain` replaced by the harmonic function that equals
/// `values` on the pixels bordering the domain (the solution of Laplace's equation, 4 neighbours).
/// Solved by successive over-relaxation from the border's mean, to a change under 0.01.
func harmonic(_ values: [Float], domain: [Bool], width w: Int, height h: Int) -> [Float] {
    let inside = (0..<(w * h)).filter { domain[$0] }
    guard !inside.isEmpty else { return values }
    var out = values
    var x0 = w, x1 = 0, y0 = h, y1 = 0
    for i in inside { x0 = min(x0, i % w); x1 = max(x1, i % w); y0 = min(y0, i / w); y1 = max(y1, i / w) }
    var mean = [Float](repeating: 0, count: 3), count: Float = 0
    for y in max(0, y0 - 1)...min(h - 1, y1 + 1) {
        for x in max(0, x0 - 1)...min(w - 1, x1 + 1) where !domain[y * w + x] {
            let i = y * w + x
            let touches = (x > 0 && domain[i - 1]) || (x < w - 1 && domain[i + 1]) || (y > 0 && domain[i - w]) || (y < h - 1 && domain[i + w])
            guard touches else { continue }
            for c in 0..<3 { mean[c] += values[3 * i + c] }
            count += 1
        }
    }
    guard count > 0 else { return values }
    for i in inside { for c in 0..<3 { out[3 * i + c] = mean[c] / count } }
    let side = Float(max(x1 - x0, y1 - y0) + 2)
    let omega = 2 / (1 + sin(Float.pi / side))
    for _ in 0..<(4 * Int(side) + 20) {
        var change: Float = 0
        for i in inside {
            let (x, y) = (i % w, i / w)
            for c in 0..<3 {
                var sum: Float = 0, n: Float = 0
                if x > 0 { sum += out[3 * (i - 1) + c]; n += 1 }
                if x < w - 1 { sum += out[3 * (i + 1) + c]; n += 1 }
                if y > 0 { sum += out[3 * (i - w) + c]; n += 1 }
                if y < h - 1 { sum += out[3 * (i + w) + c]; n += 1 }
                let step = omega * (sum / n - out[3 * i + c])
                out[3 * i + c] += step
                change = max(change, abs(step))
            }
        }
        if change < 0.01 { break }
    }
    return out
}
