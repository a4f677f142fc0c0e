import Foundation
import Generation
import ImageIO
import Models
import VQZ

/// The inpainting measurement of `vqz eval inpaint`: a square hole cut at the centre of a
/// picture, filled by a diffusion of its border and by the prior (an autoregressive one in
/// raster order and with context from all sides; the masked one as it is), and compared with the
/// original: PSNR over the hole's pixels, MS-SSIM over the 176x176 square centred on the hole
/// (the smallest with 5 scales).
public struct InpaintingEvaluation {
    public enum Method: String, CaseIterable, Sendable { case diffusion, raster, all, masked }

    /// The methods measured, in the order of a Result's figures.
    public var methods: [Method] { inpainter.prior.kind == .masked ? [.diffusion, .masked] : [.diffusion, .raster, .all] }

    /// One picture's figures, per method in `methods` order, and the side-by-side sheet
    /// of the square around the hole: the original, then each fill.
    public struct Result {
        public var psnr: [Double]
        public var msssim: [Double]
        public var seconds: [Double]
        public var sheet: Image
    }

    /// The side of the square MS-SSIM is measured over.
    public static let window = 176

    public let inpainter: Inpainter
    /// The hole's side in pixels.
    public var hole = 48
    /// The prior's fills' options; their context is set per method.
    public var options = InpaintOptions()

    public init(inpainter: Inpainter) { self.inpainter = inpainter }

    /// The figures of `picture`, nil when it is smaller than the MS-SSIM window.
    public func evaluate(_ picture: RGBPicture) throws -> Result? {
        let (w, h, s) = (picture.width, picture.height, Self.window)
        guard w >= s && h >= s else { return nil }
        let image = Image(width: w, height: h, channels: 3, samples8: picture.pixels)
        let (hx, hy) = ((w - hole) / 2, (h - hole) / 2)
        let (cx, cy) = (min(max(0, hx + hole / 2 - s / 2), w - s), min(max(0, hy + hole / 2 - s / 2), h - s))
        let mask = try Inpainter.rectangle(x: hx, y: hy, w: hole, h: hole, imageWidth: w, imageHeight: h)
        var result = Result(psnr: [], msssim: [], seconds: [], sheet: image)
        var tiles = [Image(width: s, height: s, channels: 3, samples8: crop(picture.pixels, width: w, x: cx, y: cy, w: s, h: s))]
        for method in methods {
            let t0 = Date()
            let out: [UInt8]
            if method == .diffusion {
                out = harmonicFill(picture.pixels, width: w, height: h, hole: mask)
            } else {
                var options = self.options
                options.context = method == .raster ? .raster : .all
                out = try inpainter.inpaint(image, hole: mask, options: options).samples8
            }
            result.seconds.append(Date().timeIntervalSince(t0))
            result.psnr.append(psnr(crop(picture.pixels, width: w, x: hx, y: hy, w: hole, h: hole), crop(out, width: w, x: hx, y: hy, w: hole, h: hole)))
            let window = crop(out, width: w, x: cx, y: cy, w: s, h: s)
            result.msssim.append(msssim(tiles[0].samples8, window, width: s, height: s))
            tiles.append(Image(width: s, height: s, channels: 3, samples8: window))
        }
        result.sheet = Generator.contactSheet(tiles, columns: tiles.count, gap: 4)
        return result
    }
}

/// The w x h rectangle at (x, y) of an RGB8 picture `width` pixels wide.
func crop(_ rgb: [UInt8], width: Int, x x0: Int, y y0: Int, w: Int, h: Int) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(w * h * 3)
    for y in y0..<(y0 + h) { out.append(contentsOf: rgb[((y * width + x0) * 3)..<((y * width + x0 + w) * 3)]) }
    return out
}
