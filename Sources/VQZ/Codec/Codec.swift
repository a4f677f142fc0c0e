import ImageIO
import Models
import NN

/// Images to token grids and back through a tokenizer, in tiles so memory stays bounded on any
/// image size. Each tile is processed with a margin of context at least as wide as the network's
/// receptive field, so the tokens and pixels equal those of whole-image processing.
public final class Codec: @unchecked Sendable {
    public let model: TokenizerModel
    /// Tokens on each side of a tile's core (whole-image equality needs >= the receptive field:
    /// about 7 tokens for the encoder and 8 for the decoder of the default model).
    public var marginTokens = 10
    /// Core tile side in tokens: the largest whose widest activation takes no more memory than a
    /// 96-token tile of the first photo tokenizer (32 floats per pixel at full resolution), which
    /// keeps a 768x512 photo in one tile and a 12-megapixel one under 1 GiB. Larger tiles spend
    /// less on their margins: 128 for v2 is 8-10% faster at 12 megapixels than 96.
    public var tileTokens: Int

    public static func tileTokens(for config: TokenizerConfig) -> Int {
        let widest = max(config.widestActivationPerPixel, 1)
        let side = Int(96 * (32 / Double(widest)).squareRoot())
        return min(max(side / 8 * 8, 16), 256)
    }
    /// Called after each tile the encoder or decoder finishes, with tiles done and the total:
    /// a large image takes tens of seconds, and a caller on a terminal shows how far it is.
    public var progress: ((_ done: Int, _ total: Int) -> Void)?
    /// Whether compress adds a tint plane (`TintPlane`) to the tokens.
    public var tintPlanes = true
    /// Tokens chosen by their decoded error instead of nearest codes (`TokenRefinement`; no
    /// rounds: nearest codes, the default).
    public var refinement = TokenRefinement(rounds: 0)

    public init(model: TokenizerModel) {
        self.model = model
        tileTokens = Self.tileTokens(for: model.config)
    }

    /// Compresses an image keeping `levels` levels at every position (nil: all the model has).
    /// The file keeps the image's metadata; set `VQZFile.metadata` to keep less.
    /// `compress(_:to:encode:)` takes the quality scale and the size and fidelity targets.
    public func compress(_ image: Image, levels: Int? = nil, keepAlpha: Bool = true) throws -> VQZFile {
        let quality = Quality.levels(levels ?? model.levels)
        try check(quality)
        return try tinted(refined(analyse(image, keepAlpha: keepAlpha).file(quality: quality), toMatch: image, by: refinement),
                          fittedTo: image).file
    }

    /// `file` with a tint plane fitted to `image`, its cells set by the tokens' depth
    /// (`TintSettings(for:levels:)`), and the picture the result decodes to. `allows`: the plane
    /// is kept only if the file with it passes (a size target).
    public func tinted(_ file: VQZFile, fittedTo image: Image, allows: (VQZFile) throws -> Bool = { _ in true }) throws -> (file: VQZFile, picture: Image) {
        var plain = file
        plain.tint = nil
        let decoded = try decompress(plain)
        let channels = file.colorChannels
        guard tintPlanes,
              let plane = TintPlane.fit(reference: (image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)).withChannels(channels).samples8,
                                        decoded: decoded.withChannels(channels).samples8, width: file.width, height: file.height,
                                        channels: channels, settings: TintSettings(for: file.tokens, levels: model.levels))
        else { return (plain, decoded) }
        var tinted = plain
        tinted.tint = plane
        guard try allows(tinted) else { return (plain, decoded) }
        return (tinted, Self.applying(plane, to: decoded))
    }

    /// The picture with a tint plane added to its colour channels.
    static func applying(_ plane: TintPlane, to picture: Image) -> Image {
        var samples = picture.samples8
        plane.apply(to: &samples, width: picture.width, height: picture.height, stride: picture.channels)
        return Image(width: picture.width, height: picture.height, channels: picture.channels, samples8: samples, metadata: picture.metadata)
    }

    /// Throws unless this model has the levels `quality` asks for.
    func check(_ quality: Quality) throws {
        if case .levels(let n) = quality, !(1...model.levels).contains(n) {
            throw CodecError.levelOutOfRange(n, available: model.levels)
        }
    }

    /// The image through the encoder at every level, with what each level leaves at each position:
    /// every quality can be cut from it without running the encoder again.
    public func analyse(_ image: Image, keepAlpha: Bool = true) throws -> RateControl {
        guard image.width > 0 && image.height > 0 else { throw CodecError.emptyImage }
        let image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
        let (tokens, residual) = tokenizeMeasuringResiduals(image8, levels: model.levels)
        var alpha: [UInt8]? = nil
        if keepAlpha && image8.hasAlpha {
            let s = image8.samples8, c = image8.channels
            alpha = (0..<image8.pixelCount).map { s[$0 * c + c - 1] }
        }
        let scale = model.network.quantizer.codeEnergy
        let file = VQZFile(width: image.width, height: image.height, colorChannels: image8.colorChannels,
                           model: model.fingerprint, tokens: tokens, alpha: alpha, metadata: image.metadata)
        return RateControl(file: file, residual: residual.map { $0.map { $0 / scale } })
    }

    /// Reads and decodes .vqz bytes. The header is checked against this codec's model before
    /// any payload is read, so a file for another model or with a grid of another size costs nothing.
    public func decompress(_ bytes: [UInt8], limits: ContainerLimits = .default,
                           entropyPriors: (ModelFingerprint) throws -> EntropyPrior? = EntropyPrior.bundledIfNamed) throws -> Image {
        try decompress(VQZFile(decoding: bytes, limits: limits, entropyPriors: entropyPriors, decoder: model))
    }

    /// Decodes a .vqz file made by this codec's model.
    public func decompress(_ file: VQZFile) throws -> Image {
        try model.checkGrid(of: file)
        guard file.tokens.levels.count <= model.levels else {
            throw CodecError.levelOutOfRange(file.tokens.levels.count, available: model.levels)
        }
        for (l, level) in file.tokens.levels.enumerated() where level.contains(where: { Int($0) >= model.config.codebookSize }) {
            throw CodecError.tokensOutOfRange(level: l + 1, codebookSize: model.config.codebookSize)
        }
        let rgb = reconstruct(file.tokens, width: file.width, height: file.height)
        var image = assemble(rgb: rgb, width: file.width, height: file.height, gray: file.colorChannels == 1, alpha: file.alpha)
        if let tint = file.tint { image = Self.applying(tint, to: image) }
        image.metadata = file.metadata
        return image
    }

    /// The token grid of an 8-bit image: ceil(W/f) x ceil(H/f) positions, `levels` tokens each.
    public func tokenize(_ image: Image, levels: Int) -> TokenGrid {
        tokenizeMeasuringResiduals(image, levels: levels).tokens
    }

    /// The token grid of an 8-bit image and, per level and position, the latent's squared error
    /// left after that level (`ResidualVectorQuantizer.encodeMeasuringResiduals`).
    public func tokenizeMeasuringResiduals(_ image: Image, levels: Int) -> (tokens: TokenGrid, residual: [[Float]]) {
        let f = model.downsampling
        let gw = (image.width + f - 1) / f, gh = (image.height + f - 1) / f
        let rgb = image.withChannels(3).samples8
        var grid = [[UInt16]](repeating: [UInt16](repeating: 0, count: gw * gh), count: levels)
        var residual = [[Float]](repeating: [Float](repeating: 0, count: gw * gh), count: levels)
        forEachTile(gridWidth: gw, gridHeight: gh) { core, ext in
            let x = crop(rgb, width: image.width, height: image.height, x0: ext.x * f, y0: ext.y * f,
                         w: ext.w * f, h: ext.h * f)
            let (tokens, energy) = model.network.encodeMeasuringResiduals(x, levels: levels)
            for l in 0..<levels {
                core.forEachPosition(in: ext, gridWidth: gw) { g, t in
                    grid[l][g] = UInt16(tokens[l][t])
                    residual[l][g] = energy[l][t]
                }
            }
        }
        let tokens = TokenGrid(width: gw, height: gh, levels: grid, codebookSizes: Array(repeating: model.config.codebookSize, count: levels))
        return (tokens, residual)
    }

    /// RGB8 pixels [height, width, 3] decoded from a token grid, cropped to width x height.
    public func reconstruct(_ tokens: TokenGrid, width: Int, height: Int) -> [UInt8] {
        let f = model.downsampling
        let (gw, gh) = (tokens.width, tokens.height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        forEachTile(gridWidth: gw, gridHeight: gh) { core, ext in
            var levels: [[Int32]] = []
            for l in tokens.levels.indices {
                let level = tokens.decoderIndices(atLevel: l)
                var t = [Int32](repeating: 0, count: ext.w * ext.h)
                ext.forEachPosition(in: ext, gridWidth: gw) { g, i in t[i] = level[g] }
                levels.append(t)
            }
            let y = model.network.decode(levels, batch: 1, gridHeight: ext.h, gridWidth: ext.w)
            placeTileCore(y, core: core, ext: ext, downsampling: f, into: &out, width: width, height: height)
        }
        return out
    }

    /// The RGB picture a level-1 grid (rows x cols codes, raster order) decodes to, cropped to
    /// width x height: what the priors' and the text model's samples look like.
    public func picture(level1 grid: [Int32], rows: Int, cols: Int, width: Int, height: Int) -> Image {
        let tokens = TokenGrid(width: cols, height: rows, levels: [grid.map { UInt16($0) }], codebookSizes: [model.config.codebookSize])
        return Image(width: width, height: height, channels: 3, samples8: reconstruct(tokens, width: width, height: height))
    }

    /// RGB8 pixels [height, width, 3] of an image through the encoder and the decoder with no
    /// quantization: the limit the levels approach as more are added, which tells what the latent
    /// and the decoder allow apart from the codebooks (`vqz eval tokenizer --unquantized`).
    public func reconstructUnquantized(_ image: Image) -> [UInt8] {
        let tiling = LatentTiling(downsampling: model.downsampling, codeDim: model.config.codeDim,
                                  tileTokens: tileTokens, marginTokens: marginTokens)
        let z = tiling.latent(of: image, encode: model.network.latent)
        return tiling.pixels(of: z, width: image.width, height: image.height, decode: model.network.decode(latent:))
    }

    /// A tile's core (whose results are kept) and its extent with context margins, in tokens.
    struct TileRect {
        var x, y, w, h: Int

        /// Each position of this rect, as its index in the whole grid (`gridWidth` wide, raster
        /// order) and in the tile `ext` (raster order within it), which contains this rect.
        func forEachPosition(in ext: TileRect, gridWidth gw: Int, _ body: (_ grid: Int, _ tile: Int) -> Void) {
            for ty in y..<(y + h) {
                for tx in x..<(x + w) { body(ty * gw + tx, (ty - ext.y) * ext.w + (tx - ext.x)) }
            }
        }
    }

    func forEachTile(gridWidth gw: Int, gridHeight gh: Int, _ body: (TileRect, TileRect) -> Void) {
        let total = ((gw + tileTokens - 1) / tileTokens) * ((gh + tileTokens - 1) / tileTokens)
        var done = 0
        Self.forEachTile(gridWidth: gw, gridHeight: gh, tile: tileTokens, margin: marginTokens) { core, ext in
            body(core, ext)
            done += 1
            progress?(done, total)
        }
    }

    /// Tiles of `tile` tokens covering a gw x gh grid, each with up to `margin` tokens of context
    /// (also used by BaselineModel, whose encoder and decoder are the tokenizer's).
    static func forEachTile(gridWidth gw: Int, gridHeight gh: Int, tile: Int, margin: Int, _ body: (TileRect, TileRect) -> Void) {
        var ty = 0
        while ty < gh {
            let th = min(tile, gh - ty)
            var tx = 0
            while tx < gw {
                let tw = min(tile, gw - tx)
                let x0 = max(0, tx - margin), y0 = max(0, ty - margin)
                let x1 = min(gw, tx + tw + margin), y1 = min(gh, ty + th + margin)
                body(TileRect(x: tx, y: ty, w: tw, h: th), TileRect(x: x0, y: y0, w: x1 - x0, h: y1 - y0))
                tx += tw
            }
            ty += th
        }
    }
}

/// Writes the core of a decoded tile, y [1, ext.h * f, ext.w * f, 3] in [-0.5, 0.5], into RGB8
/// pixels [height, width, 3], cut at the image's right and bottom edges.
func placeTileCore(_ y: Tensor, core: Codec.TileRect, ext: Codec.TileRect, downsampling f: Int,
                   into out: inout [UInt8], width: Int, height: Int) {
    let pw = ext.w * f
    out.withUnsafeMutableBufferPointer { dst in
        for py in (core.y * f)..<min(height, (core.y + core.h) * f) {
            for px in (core.x * f)..<min(width, (core.x + core.w) * f) {
                let src = y.data + ((py - ext.y * f) * pw + (px - ext.x * f)) * 3
                for c in 0..<3 { dst[(py * width + px) * 3 + c] = toByte(src[c]) }
            }
        }
    }
}

/// A [1, h, w, 3] tensor in [-0.5, 0.5] of the region at (x0, y0); pixels past the image's right
/// and bottom edges repeat the last column and row, so padding to the grid adds no false edges.
func crop(_ rgb: [UInt8], width: Int, height: Int, x0: Int, y0: Int, w: Int, h: Int) -> Tensor {
    let t = Tensor([1, h, w, 3])
    rgb.withUnsafeBufferPointer { src in
        for y in 0..<h {
            let sy = min(y0 + y, height - 1)
            for x in 0..<w {
                let sx = min(x0 + x, width - 1)
                let s = (sy * width + sx) * 3, d = (y * w + x) * 3
                for c in 0..<3 { t.data[d + c] = Float(src[s + c]) * (1 / 255) - 0.5 }
            }
        }
    }
    return t
}

/// A decoder output in [-0.5, 0.5] as an 8-bit sample.
@inlinable public func toByte(_ v: Float) -> UInt8 {
    UInt8(min(max(((v + 0.5) * 255).rounded(), 0), 255))
}

/// The output image: RGB or gray (BT.601 luma of the reconstruction), with the alpha plane if any.
public func assemble(rgb: [UInt8], width: Int, height: Int, gray: Bool, alpha: [UInt8]?) -> Image {
    let n = width * height
    let colors = gray ? 1 : 3
    let channels = colors + (alpha == nil ? 0 : 1)
    var out = [UInt8](repeating: 0, count: n * channels)
    for i in 0..<n {
        if gray {
            let y = 0.299 * Float(rgb[3 * i]) + 0.587 * Float(rgb[3 * i + 1]) + 0.114 * Float(rgb[3 * i + 2])
            out[i * channels] = UInt8(min(max(y.rounded(), 0), 255))
        } else {
            out[i * channels] = rgb[3 * i]
            out[i * channels + 1] = rgb[3 * i + 1]
            out[i * channels + 2] = rgb[3 * i + 2]
        }
        if let a = alpha { out[i * channels + colors] = a[i] }
    }
    return Image(width: width, height: height, channels: channels, samples8: out)
}

extension Codec {
    /// FLOPs the encoder executes on an image, margins of every tile included (as inference runs
    /// them: NN.inferenceFLOPs).
    public func encoderFLOPs(width: Int, height: Int) -> Double {
        let f = model.downsampling
        var total = 0.0
        forEachTile(gridWidth: (width + f - 1) / f, gridHeight: (height + f - 1) / f) { _, ext in
            total += inferenceFLOPs(model.network.encoder, height: ext.h * f, width: ext.w * f).flops
        }
        return total
    }

    /// FLOPs the decoder executes on an image, margins of every tile included. An upsampling
    /// convolution runs as four 2x2 phases, 4/9 of the 3x3 convolution's multiply-adds; that
    /// smaller count is the one used, so GFLOP/s against sgemm stays a measure of efficiency.
    public func decoderFLOPs(width: Int, height: Int) -> Double {
        let f = model.downsampling
        var total = 0.0
        forEachTile(gridWidth: (width + f - 1) / f, gridHeight: (height + f - 1) / f) { _, ext in
            total += inferenceFLOPs(model.network.decoder, height: ext.h, width: ext.w).flops
        }
        return total
    }
}
