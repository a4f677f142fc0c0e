import ImageIO

/// What the scene judge sees in a picture.
public struct SceneAnalysis: Sendable, Equatable {
    public struct Detected: Sendable, Equatable {
        public var shape: ShapeKind
        public var color: ShapeColor
        public var size: ShapeSize
        /// Centre of the bounding box, in pixels.
        public var x: Double
        public var y: Double
        /// Half the longer side of the bounding box.
        public var extent: Double
        public var area: Int
        /// Correlation of the best-fitting shape's template with the picture (1 for a clean render).
        public var fit: Double

        public var position: (x: Double, y: Double) { (x, y) }
    }

    public var canvas: Int
    public var objects: [Detected]
    /// Mean gray level of the background pixels and their standard deviation.
    public var backgroundLevel: Double
    public var backgroundDeviation: Double

    public var backgroundIsTextured: Bool { backgroundDeviation > SceneJudge.texturedDeviation }
}

/// How much of a request a picture satisfies: per kind of attribute, requested and present.
public struct SceneScore: Sendable, Equatable {
    public enum Attribute: String, CaseIterable, Sendable {
        case count, shape, color, size, position, relation, background
    }

    public var requested: [Attribute: Int] = [:]
    public var satisfied: [Attribute: Int] = [:]

    public init() {}

    public var requestedTotal: Int { requested.values.reduce(0, +) }
    public var satisfiedTotal: Int { satisfied.values.reduce(0, +) }
    public var share: Double { Double(satisfiedTotal) / Double(max(requestedTotal, 1)) }

    public mutating func add(_ other: SceneScore) {
        for (k, v) in other.requested { requested[k, default: 0] += v }
        for (k, v) in other.satisfied { satisfied[k, default: 0] += v }
    }

    mutating func count(_ a: Attribute, _ ok: Bool) {
        requested[a, default: 0] += 1
        if ok { satisfied[a, default: 0] += 1 }
    }
}

/// A deterministic analyser of shape scenes, for evaluation only: finds the saturated regions
/// of a picture (the backgrounds are gray), splits them by colour (nearest palette hue), names
/// each region's shape by the template that best fits its bounding box, its size by the box,
/// its position by its centre, and scores a SceneRequest against what it found.
public enum SceneJudge {
    /// Pixels whose max - min channel difference reaches this are shape pixels.
    static let saturationThreshold = 48
    /// The background standard deviation above which it counts as textured.
    static let texturedDeviation = 4.0

    public static func analyse(_ image: Image) -> SceneAnalysis {
        let (w, h) = (image.width, image.height)
        let rgb = (image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)).withChannels(3).samples8
        let canvas = min(w, h)
        let scale = Double(canvas) / 128
        // A fifth of the smallest shape drawn (a small triangle, 648 pixels at 128): smaller
        // specks are noise, not shapes a caption could mean.
        let minArea = Int(150 * scale * scale)
        var colorOf = [Int8](repeating: -1, count: w * h)      // palette index, -1 background
        var saturation = [UInt8](repeating: 0, count: w * h)    // max - min channel
        let palette = ShapeColor.allCases
        let hues = palette.map(\.hue)
        for i in 0..<(w * h) {
            let r = Int(rgb[3 * i]), g = Int(rgb[3 * i + 1]), b = Int(rgb[3 * i + 2])
            saturation[i] = UInt8(max(r, g, b) - min(r, g, b))
            guard Int(saturation[i]) >= saturationThreshold else { continue }
            let hue = rgbHue(Double(r), Double(g), Double(b))
            var best = 0, bestD = 1e9
            for (k, hk) in hues.enumerated() {
                let d = min(abs(hue - hk), 360 - abs(hue - hk))
                if d < bestD { bestD = d; best = k }
            }
            colorOf[i] = Int8(best)
        }
        // Regions of shape pixels (any colour), then split by colour when two colours touch.
        var objects: [SceneAnalysis.Detected] = []
        for region in components(w, h, { colorOf[$0] >= 0 }) where region.count >= minArea {
            var counts = [Int](repeating: 0, count: palette.count)
            for i in region { counts[Int(colorOf[i])] += 1 }
            let major = counts.indices.max { counts[$0] < counts[$1] }!
            let others = counts.indices.filter { $0 != major && counts[$0] >= max(80, region.count / 4) }
            if others.isEmpty {
                objects.append(describe(halfMaximum(region.filter { Int(colorOf[$0]) == major }, saturation), color: palette[major], w: w, h: h, canvas: canvas,
                                        field: { Int(colorOf[$0]) == major ? Double(saturation[$0]) : 0 }))
            } else {
                let inRegion = Set(region)
                for k in [major] + others {
                    for part in components(w, h, { inRegion.contains($0) && Int(colorOf[$0]) == k }) where part.count >= minArea {
                        objects.append(describe(halfMaximum(part, saturation), color: palette[k], w: w, h: h, canvas: canvas,
                                                field: { Int(colorOf[$0]) == k ? Double(saturation[$0]) : 0 }))
                    }
                }
            }
        }
        // Background: pixels at least 2 away from any shape pixel.
        var near = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w where colorOf[y * w + x] >= 0 {
                for yy in max(0, y - 2)...min(h - 1, y + 2) { for xx in max(0, x - 2)...min(w - 1, x + 2) { near[yy * w + xx] = true } }
            }
        }
        var sum = 0.0, sum2 = 0.0, n = 0.0
        for i in 0..<(w * h) where !near[i] {
            let l = 0.299 * Double(rgb[3 * i]) + 0.587 * Double(rgb[3 * i + 1]) + 0.114 * Double(rgb[3 * i + 2])
            sum += l; sum2 += l * l; n += 1
        }
        let mean = n > 0 ? sum / n : 0, dev = n > 0 ? max(0, sum2 / n - mean * mean).squareRoot() : 0
        // Half the small size's extent is the least a shape spans.
        objects.removeAll { $0.extent < ShapeSize.small.extent(canvas: canvas) / 2 }
        objects.sort { ($0.y, $0.x) < ($1.y, $1.x) }
        return SceneAnalysis(canvas: canvas, objects: objects, backgroundLevel: mean, backgroundDeviation: dev)
    }

    /// 4-connected components of the pixels where `inside` holds, each a list of pixel indices.
    static func components(_ w: Int, _ h: Int, _ inside: (Int) -> Bool) -> [[Int]] {
        var seen = [Bool](repeating: false, count: w * h)
        var out: [[Int]] = []
        for start in 0..<(w * h) where !seen[start] && inside(start) {
            var region = [start], head = 0
            seen[start] = true
            while head < region.count {
                let i = region[head]
                head += 1
                let (x, y) = (i % w, i / w)
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    let j = ny * w + nx
                    if !seen[j] && inside(j) { seen[j] = true; region.append(j) }
                }
            }
            out.append(region)
        }
        return out
    }

    /// The pixels of a region at least half as saturated as its most saturated tenth: over a gray
    /// background saturation grows with a shape's coverage of the pixel, so this is the contour
    /// at half coverage, where the edge was before blur (a tokenizer's round trip) spread it.
    static func halfMaximum(_ region: [Int], _ saturation: [UInt8]) -> [Int] {
        guard !region.isEmpty else { return region }
        let sorted = region.map { saturation[$0] }.sorted()
        let high = Int(sorted[min(sorted.count - 1, sorted.count * 9 / 10)])
        let kept = region.filter { 2 * Int(saturation[$0]) >= high }
        return kept.isEmpty ? region : kept
    }

    /// A region's size and place (from the bounding box of its pixels) and its shape: the template
    /// whose mask correlates best with the region's saturation field (`field`, zero off the
    /// region's colour) around the box, over a few scales and offsets. Correlation, not the mask's
    /// overlap, because a tokenizer's round trip blurs edges and fades colours unevenly: the field
    /// keeps the shape's outline where any threshold of it grows or shrinks it.
    static func describe(_ region: [Int], color: ShapeColor, w: Int, h: Int, canvas: Int,
                         field: (Int) -> Double) -> SceneAnalysis.Detected {
        var x0 = Int.max, y0 = Int.max, x1 = Int.min, y1 = Int.min
        for i in region { x0 = min(x0, i % w); x1 = max(x1, i % w); y0 = min(y0, i / w); y1 = max(y1, i / w) }
        let bw = x1 - x0 + 1, bh = y1 - y0 + 1
        let cx = Double(x0 + x1 + 1) / 2, cy = Double(y0 + y1 + 1) / 2
        let e0 = Double(max(bw, bh)) / 2
        // The window: the box with a margin, where the field is read once.
        let m = Int(e0 * 0.5) + 3
        let wx0 = max(0, x0 - m), wx1 = min(w - 1, x1 + m), wy0 = max(0, y0 - m), wy1 = min(h - 1, y1 + m)
        let ww = wx1 - wx0 + 1, wh = wy1 - wy0 + 1
        var f = [Double](repeating: 0, count: ww * wh)
        for y in 0..<wh { for x in 0..<ww { f[y * ww + x] = field((wy0 + y) * w + wx0 + x) } }
        let fMean = f.reduce(0, +) / Double(f.count)
        var fVar = 0.0
        for v in f { fVar += (v - fMean) * (v - fMean) }
        var best = ShapeKind.circle, bestScore = -2.0
        var t = [Double](repeating: 0, count: ww * wh)
        for shape in ShapeKind.allCases {
            for scale in [0.85, 0.95, 1.05, 1.15, 1.3] {
                for dy in [-1.5, 0, 1.5] {
                    for dx in [-1.5, 0, 1.5] {
                        let ex = Double(bw) / 2 * scale, ey = Double(bh) / 2 * scale
                        let ox = cx + dx, oy = cy + dy
                        for y in 0..<wh {
                            let v = (Double(wy0 + y) + 0.5 - oy) / ey
                            for x in 0..<ww { t[y * ww + x] = shape.contains(u: (Double(wx0 + x) + 0.5 - ox) / ex, v: v) ? 1 : 0 }
                        }
                        // The template sharp and blurred as a round trip blurs: the field may be either.
                        var blurred = t
                        for radius in [0, 1, 1, 1] {
                            if radius > 0 { boxBlur(&blurred, ww, wh, radius: radius) }
                            let score = correlation(blurred, f, mean: fMean, variance: fVar)
                            if score > bestScore { bestScore = score; best = shape }
                        }
                    }
                }
            }
        }
        return SceneAnalysis.Detected(shape: best, color: color,
                                      size: e0 < ShapeSize.threshold(canvas: canvas) ? .small : .large,
                                      x: cx, y: cy, extent: e0, area: region.count, fit: bestScore)
    }

    /// Pearson correlation of a template with the field (whose mean and summed squared deviation are given).
    static func correlation(_ t: [Double], _ f: [Double], mean fMean: Double, variance fVar: Double) -> Double {
        let n = Double(t.count)
        let tMean = t.reduce(0, +) / n
        var cov = 0.0, tVar = 0.0
        for i in 0..<t.count {
            let a = t[i] - tMean
            cov += a * (f[i] - fMean)
            tVar += a * a
        }
        guard tVar > 0, fVar > 0 else { return -1 }
        return cov / (tVar * fVar).squareRoot()
    }

    /// A separable box blur of side 2r + 1 (edges clamped), in place.
    static func boxBlur(_ a: inout [Double], _ w: Int, _ h: Int, radius r: Int) {
        var tmp = a
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0
                for k in -r...r { s += a[y * w + min(w - 1, max(0, x + k))] }
                tmp[y * w + x] = s / Double(2 * r + 1)
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0
                for k in -r...r { s += tmp[min(h - 1, max(0, y + k)) * w + x] }
                a[y * w + x] = s / Double(2 * r + 1)
            }
        }
    }

    /// The request's attributes present in the analysis, under the best assignment of requested
    /// shapes to detected ones (each detected shape stands for at most one requested shape).
    public static func score(_ request: SceneRequest, _ analysis: SceneAnalysis) -> SceneScore {
        let found = Array(analysis.objects.sorted { $0.area > $1.area }.prefix(8))
        let n = request.objects.count
        var best = SceneScore(), bestCount = -1
        var assignment = [Int](repeating: -1, count: n)
        func evaluate() {
            var s = SceneScore()
            s.count(.count, found.count == n)
            // Size, position and relations count only for shapes that are there (kind and colour
            // right): a red circle above a blue square is not present when a red blob is above a
            // blue one, and chance alone would meet a binary attribute half the time.
            var identified = [Bool](repeating: false, count: n)
            for (i, r) in request.objects.enumerated() {
                let d = assignment[i] >= 0 ? found[assignment[i]] : nil
                identified[i] = d?.shape == r.shape && d?.color == r.color
                s.count(.shape, d?.shape == r.shape)
                s.count(.color, d?.color == r.color)
                if let size = r.size { s.count(.size, identified[i] && d?.size == size) }
                if let p = r.position { s.count(.position, identified[i] && d.map { ScenePosition(x: $0.x, y: $0.y, canvas: analysis.canvas) } == p) }
            }
            for rel in request.relations {
                let a = assignment[rel.subject], b = assignment[rel.object]
                s.count(.relation, identified[rel.subject] && identified[rel.object] && rel.relation.holds(found[a].position, found[b].position))
            }
            if let bg = request.background {
                let ok: Bool
                switch bg {
                case .light: ok = analysis.backgroundLevel >= 128
                case .dark: ok = analysis.backgroundLevel < 128
                case .striped, .checkered, .noisy: ok = analysis.backgroundIsTextured
                }
                s.count(.background, ok)
            }
            if s.satisfiedTotal > bestCount { bestCount = s.satisfiedTotal; best = s }
        }
        func assign(_ i: Int) {
            if i == n { evaluate(); return }
            for j in -1..<found.count where j == -1 || !assignment[0..<i].contains(j) {
                assignment[i] = j
                assign(i + 1)
            }
        }
        assign(0)
        return best
    }
}

extension SceneJudge {
    /// How many of the scene's shapes the analysis holds with the right kind, colour and size,
    /// centred within a quarter of the shape's extent of where it was drawn.
    public static func objectsFound(_ scene: ShapeScene, _ analysis: SceneAnalysis) -> (found: Int, of: Int) {
        var used = Set<Int>(), found = 0
        for o in scene.objects {
            let match = analysis.objects.indices.first { j in
                let d = analysis.objects[j]
                return !used.contains(j) && d.shape == o.shape && d.color == o.color && d.size == o.size
                    && abs(d.x - o.x) <= o.extent / 4 && abs(d.y - o.y) <= o.extent / 4
            }
            if let match { used.insert(match); found += 1 }
        }
        return (found, scene.objects.count)
    }
}
