import ImageIO

/// Draws a ShapeScene: a gray background, then each shape in its colour (plus the scene's tint),
/// anti-aliased by 4 x 4 supersampling of the shape's coverage. A pure function of the scene.
public enum SceneRenderer {
    static let subsamples = 4

    public static func render(_ scene: ShapeScene) -> Image {
        let s = scene.canvas
        var rgb = [Float](repeating: 0, count: s * s * 3)
        for y in 0..<s {
            for x in 0..<s {
                let g = Float(backgroundLevel(scene.background, x: x, y: y))
                for c in 0..<3 { rgb[(y * s + x) * 3 + c] = g }
            }
        }
        for (i, object) in scene.objects.enumerated() {
            let base = object.color.rgb, tint = scene.tints[i]
            let color = [base.r + tint[0], base.g + tint[1], base.b + tint[2]].map { Float(min(255, max(0, $0))) }
            draw(object, color: color, warp: scene.warps?[i], into: &rgb, canvas: s)
        }
        return Image(width: s, height: s, channels: 3, samples8: rgb.map { UInt8(min(255, max(0, $0.rounded()))) })
    }

    /// Blends the shape's coverage of each pixel of its bounding box (as far as a warp reaches) into `rgb`.
    static func draw(_ o: SceneObject, color: [Float], warp: ShapeWarp? = nil, into rgb: inout [Float], canvas s: Int) {
        let r = o.extent * (1 + (warp?.reach ?? 0))
        let x0 = max(0, Int((o.x - r).rounded(.down)) - 1), x1 = min(s - 1, Int((o.x + r).rounded(.up)) + 1)
        let y0 = max(0, Int((o.y - r).rounded(.down)) - 1), y1 = min(s - 1, Int((o.y + r).rounded(.up)) + 1)
        guard x0 <= x1, y0 <= y1 else { return }
        let n = subsamples, inv = 1 / Double(n)
        for y in y0...y1 {
            for x in x0...x1 {
                var hits = 0
                for sy in 0..<n {
                    for sx in 0..<n {
                        let px = Double(x) + (Double(sx) + 0.5) * inv, py = Double(y) + (Double(sy) + 0.5) * inv
                        var (u, v) = ((px - o.x) / o.extent, (py - o.y) / o.extent)
                        if let warp { (u, v) = warp.source(u: u, v: v) }
                        if o.shape.contains(u: u, v: v) { hits += 1 }
                    }
                }
                guard hits > 0 else { continue }
                let a = Float(hits) / Float(n * n), i = (y * s + x) * 3
                for c in 0..<3 { rgb[i + c] = rgb[i + c] * (1 - a) + color[c] * a }
            }
        }
    }

    /// The gray level of the background at a pixel.
    static func backgroundLevel(_ b: SceneBackground, x: Int, y: Int) -> Int {
        let p = max(2, b.period)
        switch b.kind {
        case .plain:
            return b.level
        case .striped:
            let t: Int
            switch b.orientation % 4 {
            case 0: t = y
            case 1: t = x
            case 2: t = x + y
            default: t = x - y + 4096
            }
            return b.level + ((t / (p / 2)) % 2 == 0 ? b.contrast : -b.contrast)
        case .checkered:
            return b.level + (((x / p) + (y / p)) % 2 == 0 ? b.contrast : -b.contrast)
        case .noisy:
            // Value noise on a lattice of `period` pixels, bilinearly interpolated.
            let fx = Double(x) / Double(p), fy = Double(y) / Double(p)
            let ix = Int(fx), iy = Int(fy), tx = fx - Double(ix), ty = fy - Double(iy)
            func lattice(_ i: Int, _ j: Int) -> Double {
                var h = UInt64(truncatingIfNeeded: i &* 73_856_093 ^ j &* 19_349_663) ^ UInt64(b.orientation) &* 0x9E37_79B9_7F4A_7C15
                h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
                h ^= h >> 32
                return Double(h & 0xFFFF) / 65535 * 2 - 1
            }
            let v = (lattice(ix, iy) * (1 - tx) + lattice(ix + 1, iy) * tx) * (1 - ty)
                + (lattice(ix, iy + 1) * (1 - tx) + lattice(ix + 1, iy + 1) * tx) * ty
            return b.level + Int((v * Double(b.contrast)).rounded())
        }
    }
}
