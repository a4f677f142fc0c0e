import Foundation
import ImageIO
import Models
import NN
import VQZ

/// How the hole's tokens are chosen.
public struct InpaintOptions: Sendable {
    public enum Context: String, Sendable, CaseIterable {
        /// Plain raster-order sampling: each hole token sees only the tokens above and to its left.
        case raster
        /// Raster sampling, then Gibbs sweeps in which each hole token is redrawn from
        /// p(x_i | x_<i) * prod_{j > i} p(x_j | x_<j): the known tokens below and to the right
        /// vote for the candidates that make them likely.
        case all
    }

    /// The autoregressive priors' context (the masked prior always sees every side).
    public var context: Context = .all
    public var seed: UInt64 = 1
    /// Fills drawn (in one batch); the one whose decode agrees best with the known pixels around
    /// the hole is kept. nil: 4 with the masked prior, 1 with the autoregressive ones (whose
    /// sweeps make each draw slow).
    public var draws: Int?
    /// Draws use these; the sweeps use the temperature (0: the best candidate).
    public var sampling = SamplingOptions(temperature: 1, topK: InpaintOptions.defaultTopK)
    /// Fills drawn among the few most likely tokens fit better than draws from the whole
    /// distribution (SSIMULACRA2 around 48x48 holes on data/val: -12.8 from all tokens, 6.9 from
    /// the top 4; docs/BENCHMARKS.md).
    public static let defaultTopK = 4
    /// Candidates rescored per hole token in a sweep: the most likely ones under p(x_i | x_<i).
    public var candidates = 16
    /// Rows below a hole token whose tokens vote on it in a sweep (the cost grows with them).
    public var scoreRows = 4
    /// Rows above a hole token the transformer sees in a sweep (the PixelCNN sees all that reach it).
    public var contextRows = 4
    public var sweeps = 1
    /// Width in pixels of the band outside the drawn tokens where their fill fades into what
    /// surrounds it (the blur inside the hole, the original outside).
    public var feather = 4
    /// Width in pixels of the band around the drawn tokens on which draws are compared with
    /// what surrounds them.
    public var borderBand = 8
    /// What the prior's fill gives the hole is its detail finer than a Gaussian of about
    /// sqrt(r(r+1)) pixels; colour and shading come from the blur (`transplantingDetail`). Draws
    /// of level-1 tokens carry larger shapes in colours their surroundings lack (SSIMULACRA2
    /// around holes on data/val, docs/BENCHMARKS.md). 0 keeps the whole fill.
    public var detailRadius = 1
    /// Known tokens on each side of the hole in the prior's window, as far as the prior's largest
    /// grid allows: the context the fill sees (each forward costs in proportion to the window).
    public var marginTokens = 6

    public init() {}
}

/// Fills a hole in an image with tokens drawn from a prior, using the context on all sides:
/// blurs the hole in from its border, draws several fills of the level-1 tokens that lie wholly
/// in the hole, decodes each, keeps the one that agrees best with what surrounds it, and lays its
/// fine detail over the blur's colours.
public final class Inpainter: PriorSampler {
    /// Told what the fill is doing ("drawing 4 fills"...), for a progress line.
    public var progress: ((String) -> Void)?

    /// A hole mask [height * width] for the rectangle (x, y, w, h), which must lie inside the image.
    public static func rectangle(x: Int, y: Int, w: Int, h: Int, imageWidth: Int, imageHeight: Int) throws -> [Bool] {
        guard PixelRect(x: x, y: y, width: w, height: h).lies(insideWidth: imageWidth, height: imageHeight) else {
            throw GenerationError.badSize("rectangle \(x),\(y),\(w),\(h) does not lie inside the \(imageWidth)x\(imageHeight) image")
        }
        var mask = [Bool](repeating: false, count: imageWidth * imageHeight)
        for yy in y..<(y + h) { for xx in x..<(x + w) { mask[yy * imageWidth + xx] = true } }
        return mask
    }

    /// A hole mask from a mask image of the same size: light pixels (luma >= 128) are the hole.
    public static func mask(from image: Image, imageWidth: Int, imageHeight: Int) throws -> [Bool] {
        guard image.width == imageWidth && image.height == imageHeight else {
            throw GenerationError.maskSizeMismatch(mask: "\(image.width)x\(image.height)", image: "\(imageWidth)x\(imageHeight)")
        }
        let rgb = (image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)).withChannels(3).samples8
        var mask = [Bool](repeating: false, count: imageWidth * imageHeight)
        for i in 0..<mask.count {
            let luma: Int = 299 * Int(rgb[3 * i]) + 587 * Int(rgb[3 * i + 1]) + 114 * Int(rgb[3 * i + 2])
            mask[i] = luma >= 128_000
        }
        return mask
    }

    /// The image with the hole (mask [height * width], true = fill) refilled. Pixels farther than
    /// `feather` from the hole are the input's own (8-bit) samples, exactly.
    public func inpaint(_ image: Image, hole: [Bool], options: InpaintOptions = InpaintOptions()) throws -> Image {
        let (width, height) = (image.width, image.height)
        guard hole.count == width * height else {
            throw GenerationError.maskSizeMismatch(mask: "\(hole.count) pixels", image: "\(width)x\(height)")
        }
        guard let box = PixelRect(bounding: hole, width: width, height: height) else { throw GenerationError.emptyHole }
        let image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
        // Only the region around the hole is tokenized and decoded: what the prior's window, the
        // decoder's receptive field and the encoder's tiles reach, aligned to the token grid so
        // that its tokens are the whole image's. A hole in a large photo costs what it would in a small one.
        let f = codec.model.downsampling
        let reach = (options.marginTokens + 2 * codec.marginTokens + 1) * f
        let rx0 = max(0, box.x - reach) / f * f, ry0 = max(0, box.y - reach) / f * f
        let rx1 = min(width, box.maxX + reach), ry1 = min(height, box.maxY + reach)
        let (rw, rh) = (rx1 - rx0, ry1 - ry0)
        if rw == width && rh == height { return try inpaintRegion(image8, hole: hole, options: options) }
        let ch = image8.channels
        var region = [UInt8](repeating: 0, count: rw * rh * ch), regionHole = [Bool](repeating: false, count: rw * rh)
        for y in 0..<rh {
            region.replaceSubrange((y * rw * ch)..<((y + 1) * rw * ch), with: image8.samples8[(((ry0 + y) * width + rx0) * ch)..<(((ry0 + y) * width + rx1) * ch)])
            for x in 0..<rw { regionHole[y * rw + x] = hole[(ry0 + y) * width + rx0 + x] }
        }
        let filled = try inpaintRegion(Image(width: rw, height: rh, channels: ch, samples8: region), hole: regionHole, options: options)
        var out = image8.samples8
        for y in 0..<rh {
            out.replaceSubrange((((ry0 + y) * width + rx0) * ch)..<(((ry0 + y) * width + rx1) * ch), with: filled.samples8[(y * rw * ch)..<((y + 1) * rw * ch)])
        }
        return Image(width: width, height: height, channels: ch, samples8: out, metadata: image8.metadata)
    }

    /// `inpaint` on an 8-bit image that holds the whole region the fill depends on.
    func inpaintRegion(_ image8: Image, hole: [Bool], options: InpaintOptions) throws -> Image {
        let (width, height) = (image8.width, image8.height)
        let f = codec.model.downsampling
        let gw = (width + f - 1) / f, gh = (height + f - 1) / f
        // The hole starts as the harmonic blur of its border, which is hard to beat near known
        // pixels and poor far from them. The prior redraws the tokens whose block lies wholly in
        // the hole; the others that the hole touches keep the blur, and their tokens, made from
        // the blurred picture at every level, give the drawn ones context that holds the known
        // pixels' detail. A hole too thin to hold a whole block is the blur.
        var touched = [Bool](repeating: false, count: gw * gh), inHole = [Int](repeating: 0, count: gw * gh)
        for y in 0..<height {
            for x in 0..<width where hole[y * width + x] { touched[(y / f) * gw + x / f] = true; inHole[(y / f) * gw + x / f] += 1 }
        }
        guard touched.contains(false) else { throw GenerationError.holeCoversImage }
        let drawnTokens = (0..<(gw * gh)).map { t in
            inHole[t] == min(f, width - (t % gw) * f) * min(f, height - (t / gw) * f)
        }
        let blurred = harmonicFill(image8.withChannels(3).samples8, width: width, height: height, hole: hole)
        let base = blend(original: image8, fill: blurred, alpha: hole.map { $0 ? 1 : 0 })
        guard drawnTokens.contains(true) else { return base }
        let drawn = (0..<(width * height)).map { i in hole[i] && drawnTokens[(i / width / f) * gw + (i % width) / f] }

        progress?("tokenizing \(width)x\(height) pixels around the hole")
        var grid = codec.tokenize(Image(width: width, height: height, channels: 3, samples8: blurred), levels: codec.model.levels)
        let level1 = grid.levels[0].map { Int32($0) }
        let draws = options.draws ?? (prior.kind == .masked ? 4 : 1)
        progress?(draws == 1 ? "drawing a fill" : "drawing \(draws) fills")
        let fills = try fill(level1, cols: gw, rows: gh, hole: drawnTokens, count: draws, options: options)
        let band = dilate(drawn, width: width, height: height, by: options.borderBand)
        // Pixels beyond the drawn tokens that the fill reads: the feather, the band draws are
        // judged on, and what smoothing the draw reaches (3 passes of the detail radius).
        let decodedMargin = max(options.feather + 3 * options.detailRadius, options.borderBand)
        var best: (rgb: [UInt8], error: Int)?
        for (n, tokens) in fills.enumerated() {
            progress?("decoding fill \(n + 1) of \(fills.count)")
            grid.levels[0] = tokens.map { UInt16($0) }
            let rgb = try decode(grid, drawn: drawnTokens, around: (decodedMargin + f - 1) / f, width: width, height: height)
            var error = 0
            for i in 0..<(width * height) where band[i] && !drawn[i] {
                for c in 0..<3 { let e = Int(rgb[3 * i + c]) - Int(blurred[3 * i + c]); error += e * e }
            }
            if best == nil || error < best!.error { best = (rgb, error) }
        }
        let alpha = featherWeights(drawn, width: width, height: height, feather: options.feather)
        let domain = alpha.map { $0 > 0 }
        // The blur's colours under the draw's detail meet the surroundings by construction; a
        // whole draw needs the seamless correction to.
        let fill = options.detailRadius > 0
            ? transplantingDetail(of: best!.rgb, onto: blurred, domain: domain, width: width, height: height, radius: options.detailRadius)
            : seamless(best!.rgb, original: blurred, domain: domain, width: width, height: height)
        return blend(original: base, fill: fill, alpha: alpha)
    }

    /// `count` fills of the level-1 tokens [rows * cols]: each resamples the positions where
    /// `hole` holds, on a window around the hole. Fill i draws from RNG(seed + i).
    public func fill(_ tokens: [Int32], cols gw: Int, rows gh: Int, hole: [Bool], count: Int, options: InpaintOptions) throws -> [[Int32]] {
        guard let box = PixelRect(bounding: hole, width: gw, height: gh) else { return [tokens] }
        let (tx0, ty0, tx1, ty1) = (box.x, box.y, box.maxX, box.maxY)
        // The window the prior sees: the hole's bounding box with context around it.
        if let m = prior.network.maxGrid, tx1 - tx0 > m.cols || ty1 - ty0 > m.rows {
            throw GenerationError.gridTooLarge(rows: ty1 - ty0, cols: tx1 - tx0, maxRows: m.rows, maxCols: m.cols)
        }
        let limit = prior.network.maxGrid ?? (gh, gw)
        let ww = min(gw, limit.cols, tx1 - tx0 + 2 * options.marginTokens)
        let wh = min(gh, limit.rows, ty1 - ty0 + 2 * options.marginTokens)
        let wx0 = min(max(0, (tx0 + tx1 - ww) / 2), gw - ww)
        let wy0 = min(max(0, (ty0 + ty1 - wh) / 2), gh - wh)
        let t = ww * wh
        var window = [Int32](repeating: 0, count: count * t), resample = [Bool](repeating: false, count: t)
        for y in 0..<wh {
            for x in 0..<ww {
                resample[y * ww + x] = hole[(wy0 + y) * gw + wx0 + x]
                // The hole's old tokens must not leak into the fill: the priors overwrite these placeholders.
                let token = resample[y * ww + x] ? 0 : tokens[(wy0 + y) * gw + wx0 + x]
                for b in 0..<count { window[b * t + y * ww + x] = token }
            }
        }
        var rngs = (0..<count).map { RNG(seed: options.seed &+ UInt64($0)) }
        prior.network.sample(&window, batch: count, height: wh, width: ww, resample: resample, options: options.sampling, rngs: &rngs)
        return (0..<count).map { b in
            var one = Array(window[(b * t)..<((b + 1) * t)])
            if prior.kind != .masked && options.context == .all {
                for _ in 0..<options.sweeps {
                    for i in 0..<t where resample[i] { gibbsStep(&one, at: i, rows: wh, cols: ww, options: options, rng: &rngs[b]) }
                }
            }
            var out = tokens
            for y in 0..<wh { for x in 0..<ww { out[(wy0 + y) * gw + wx0 + x] = one[y * ww + x] } }
            return out
        }
    }

    /// Redraws token i from its full conditional under the prior, restricted to the top
    /// candidates of p(x_i | x_<i): score(c) = log p(c | x_<i) + sum_{j > i} log p(x_j | x_<j, x_i = c).
    /// One batched forward scores every candidate, on a band of rows around i: `contextRows` above
    /// (for the PixelCNN all that can reach row y, so its logits are exact) and `options.scoreRows`
    /// below, whose tokens are the ones scored.
    func gibbsStep(_ window: inout [Int32], at i: Int, rows: Int, cols: Int, options: InpaintOptions, rng: inout RNG) {
        let net = prior.network, k = net.config.codebookSize
        let y = i / cols
        let above = (net as? GatedPixelCNN)?.receptiveRows ?? options.contextRows
        let r0 = max(0, y - above), r1 = min(rows, y + options.scoreRows + 1)
        let t = (r1 - r0) * cols, local = i - r0 * cols
        let band = Array(window[(r0 * cols)..<(r1 * cols)])
        // p(x_i | x_<i) does not depend on x_i: a forward of the band as it is gives the candidates.
        let first = net.forward(band, batch: 1, height: r1 - r0, width: cols)
        let (candidates, _) = TokenSampler.candidates(first.data + local * k, count: k,
                                                      options: SamplingOptions(temperature: 1, topK: options.candidates))
        let n = candidates.count
        var batch = [Int32](repeating: 0, count: n * t)
        for (b, c) in candidates.enumerated() {
            for j in 0..<t { batch[b * t + j] = band[j] }
            batch[b * t + local] = c
        }
        let logits = net.forward(batch, batch: n, height: r1 - r0, width: cols)      // [n, T, K]
        var scores = [Double](repeating: 0, count: n)
        for b in 0..<n {
            var s = 0.0
            for j in local..<t {
                let row = logits.data + (b * t + j) * k
                s += Double(TokenSampler.logProbability(row, count: k, of: Int(batch[b * t + j])))
            }
            scores[b] = s
        }
        let temperature = Double(options.sampling.temperature)
        if temperature <= 0 {
            window[i] = candidates[scores.indices.max { scores[$0] < scores[$1] }!]
            return
        }
        let top = scores.max()!
        var probs = scores.map { Float(exp(($0 - top) / temperature)) }
        let sum = probs.reduce(0, +)
        probs = probs.map { $0 / sum }
        window[i] = candidates[TokenSampler.pick(probs, rng: &rng)]
    }

    /// RGB8 pixels of the whole image decoded from `grid` with level 1 alone at the `drawn`
    /// positions (the finer levels' residuals belonged to the old tokens) and every level
    /// elsewhere. Only the drawn tokens' pixels and `around` tokens beyond them (the feather and
    /// the band the draws are judged on) are decoded; the rest stay zero and are never used.
    func decode(_ grid: TokenGrid, drawn: [Bool], around: Int, width: Int, height: Int) throws -> [UInt8] {
        let f = codec.model.downsampling, (gw, gh) = (grid.width, grid.height)
        let net = codec.model.network
        guard let box = PixelRect(bounding: drawn, width: gw, height: gh) else { return [UInt8](repeating: 0, count: width * height * 3) }
        let (tx0, ty0, tx1, ty1) = (box.x, box.y, box.maxX, box.maxY)
        // The decoder's receptive field beyond those: pixels there equal a whole-image decode.
        let m = codec.marginTokens + around
        let rx0 = max(0, tx0 - m), ry0 = max(0, ty0 - m), rx1 = min(gw, tx1 + m), ry1 = min(gh, ty1 + m)
        let (rw, rh) = (rx1 - rx0, ry1 - ry0)
        let levels = grid.levels.map { level -> [Int32] in
            var t = [Int32](repeating: 0, count: rw * rh)
            for y in 0..<rh { for x in 0..<rw { t[y * rw + x] = Int32(level[(ry0 + y) * gw + rx0 + x]) } }
            return t
        }
        let d = net.config.codeDim
        let level1 = net.quantizer.decode([levels[0]], shape: [1, rh, rw, d])
        let zq = net.quantizer.decode(levels, shape: [1, rh, rw, d])
        for y in 0..<rh {
            for x in 0..<rw where drawn[(ry0 + y) * gw + rx0 + x] {
                (zq.data + (y * rw + x) * d).update(from: level1.data + (y * rw + x) * d, count: d)
            }
        }
        let out = net.decoder.infer(zq)                                 // [1, rh*f, rw*f, 3]
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let pw = rw * f
        for py in (ry0 * f)..<min(height, ry1 * f) {
            for px in (rx0 * f)..<min(width, rx1 * f) {
                let src = out.data + ((py - ry0 * f) * pw + (px - rx0 * f)) * 3
                for c in 0..<3 { rgb[(py * width + px) * 3 + c] = toByte(src[c]) }
            }
        }
        return rgb
    }

    /// The mask grown by `r` pixels in every direction (a square neighbourhood).
    func dilate(_ mask: [Bool], width w: Int, height h: Int, by r: Int) -> [Bool] {
        var rows = mask
        for y in 0..<h {
            for x in 0..<w where mask[y * w + x] {
                for xx in max(0, x - r)...min(w - 1, x + r) { rows[y * w + xx] = true }
            }
        }
        var out = rows
        for y in 0..<h {
            for x in 0..<w where rows[y * w + x] {
                for yy in max(0, y - r)...min(h - 1, y + r) { out[yy * w + x] = true }
            }
        }
        return out
    }

    /// How much of the fill each pixel takes: 1 in the hole, fading linearly to 0 across
    /// `feather` pixels outside its edge (by Euclidean distance to the nearest hole pixel).
    func featherWeights(_ hole: [Bool], width w: Int, height h: Int, feather: Int) -> [Double] {
        let r = max(0, feather)
        var alpha = [Double](repeating: 0, count: w * h)
        let near = dilate(hole, width: w, height: h, by: r)
        for y in 0..<h {
            for x in 0..<w where near[y * w + x] {
                if hole[y * w + x] { alpha[y * w + x] = 1; continue }
                var best = Double.infinity
                for dy in -r...r where y + dy >= 0 && y + dy < h {
                    for dx in -r...r where x + dx >= 0 && x + dx < w && hole[(y + dy) * w + x + dx] {
                        best = min(best, Double(dx * dx + dy * dy).squareRoot())
                    }
                }
                alpha[y * w + x] = best <= Double(r) ? 1 - best / Double(r + 1) : 0
            }
        }
        return alpha
    }

    /// The fill (RGB8) with a smooth correction added inside `domain`: the harmonic function that
    /// equals original - fill on the known pixels bordering the domain (Perez et al.'s seamless
    /// cloning). The fill keeps its own detail, but takes the brightness and colour of what
    /// surrounds the hole, so it meets it without a seam.
    public func seamless(_ fill: [UInt8], original: [UInt8], domain: [Bool], width w: Int, height h: Int) -> [UInt8] {
        let difference = zip(original, fill).map { Float($0) - Float($1) }
        let correction = harmonic(difference, domain: domain, width: w, height: h)
        var out = fill
        for i in 0..<(w * h) where domain[i] {
            for c in 0..<3 { out[3 * i + c] = UInt8(min(max((Float(fill[3 * i + c]) + correction[3 * i + c]).rounded(), 0), 255)) }
        }
        return out
    }

    /// alpha * fill + (1 - alpha) * original at every pixel, in the original's channels.
    func blend(original: Image, fill: [UInt8], alpha: [Double]) -> Image {
        let (w, h, ch) = (original.width, original.height, original.channels)
        var out = original.samples8
        let colors = original.colorChannels
        for i in 0..<(w * h) where alpha[i] > 0 {
            var value = [Double](repeating: 0, count: colors)
            if colors == 3 {
                for c in 0..<3 { value[c] = Double(fill[3 * i + c]) }
            } else {
                value[0] = 0.299 * Double(fill[3 * i]) + 0.587 * Double(fill[3 * i + 1]) + 0.114 * Double(fill[3 * i + 2])
            }
            for c in 0..<colors {
                let o = Double(out[i * ch + c])
                out[i * ch + c] = UInt8(min(max((alpha[i] * value[c] + (1 - alpha[i]) * o).rounded(), 0), 255))
            }
        }
        return Image(width: w, height: h, channels: ch, samples8: out, metadata: original.metadata)
    }
}
