/// The trivial fill: each hole pixel becomes the harmonic interpolation of the hole's border
/// (Jacobi iterations of the 4-neighbour mean, started from the border's mean), a smooth blur
/// from the edges inwards: the baseline the inpainting evaluation compares the priors with.
public func diffusionFill(_ rgb: [UInt8], width w: Int, height h: Int, hole: [Bool], iterations: Int = 2000) -> [UInt8] {
    var value = rgb.map { Double($0) }
    var border = [Double](repeating: 0, count: 3), n = 0.0
    for y in 0..<h {
        for x in 0..<w where !hole[y * w + x] {
            let touches = [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)].contains { $0.0 >= 0 && $0.0 < w && $0.1 >= 0 && $0.1 < h && hole[$0.1 * w + $0.0] }
            if touches { for c in 0..<3 { border[c] += value[(y * w + x) * 3 + c] }; n += 1 }
        }
    }
    let holes = (0..<(w * h)).filter { hole[$0] }
    for i in holes { for c in 0..<3 { value[i * 3 + c] = border[c] / max(n, 1) } }
    var next = [Double](repeating: 0, count: holes.count * 3)
    for _ in 0..<iterations {
        for (k, i) in holes.enumerated() {
            let (x, y) = (i % w, i / w)
            for c in 0..<3 {
                var s = 0.0, m = 0.0
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    s += value[(ny * w + nx) * 3 + c]; m += 1
                }
                next[k * 3 + c] = s / m
            }
        }
        for (k, i) in holes.enumerated() { for c in 0..<3 { value[i * 3 + c] = next[k * 3 + c] } }
    }
    return value.map { UInt8(min(max($0.rounded(), 0), 255)) }
}
