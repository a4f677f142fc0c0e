import ImageIO
import NN

/// An encoder and a decoder run over an image tile by tile, with context margins as `Codec` runs
/// them, for latents that are float grids: the baselines' (which are not quantized), and the
/// tokenizer's before quantization.
public struct LatentTiling {
    public var downsampling: Int
    public var codeDim: Int
    public var tileTokens: Int
    public var marginTokens: Int

    public init(downsampling: Int, codeDim: Int, tileTokens: Int, marginTokens: Int) {
        self.downsampling = downsampling
        self.codeDim = codeDim
        self.tileTokens = tileTokens
        self.marginTokens = marginTokens
    }

    /// The latent of an image (16-bit reduced to 8): ceil(H/f) x ceil(W/f) positions of `codeDim`
    /// floats, [gh, gw, D]. `encode` maps [1, h, w, 3] to [1, h/f, w/f, D].
    public func latent(of image: Image, encode: (Tensor) -> Tensor) -> Tensor {
        let f = downsampling, d = codeDim
        let gw = (image.width + f - 1) / f, gh = (image.height + f - 1) / f
        let rgb = (image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)).withChannels(3).samples8
        let grid = Tensor([gh, gw, d])
        Codec.forEachTile(gridWidth: gw, gridHeight: gh, tile: tileTokens, margin: marginTokens) { core, ext in
            let x = crop(rgb, width: image.width, height: image.height, x0: ext.x * f, y0: ext.y * f, w: ext.w * f, h: ext.h * f)
            let z = encode(x)
            for ty in core.y..<(core.y + core.h) {
                for tx in core.x..<(core.x + core.w) {
                    let src = z.data + ((ty - ext.y) * ext.w + (tx - ext.x)) * d
                    (grid.data + (ty * gw + tx) * d).update(from: src, count: d)
                }
            }
        }
        return grid
    }

    /// RGB8 pixels [height, width, 3] decoded from a latent grid [gh, gw, D], cropped to
    /// width x height. `decode` maps [1, h, w, D] to [1, h*f, w*f, 3].
    public func pixels(of latent: Tensor, width: Int, height: Int, decode: (Tensor) -> Tensor) -> [UInt8] {
        let f = downsampling, d = codeDim
        let (gh, gw) = (latent.shape[0], latent.shape[1])
        precondition(latent.shape == [gh, gw, d] && gw * f >= width && gh * f >= height, "latent \(latent.shape) for \(width)x\(height)")
        var out = [UInt8](repeating: 0, count: width * height * 3)
        Codec.forEachTile(gridWidth: gw, gridHeight: gh, tile: tileTokens, margin: marginTokens) { core, ext in
            let z = Tensor([1, ext.h, ext.w, d])
            for ty in 0..<ext.h {
                (z.data + ty * ext.w * d).update(from: latent.data + ((ext.y + ty) * gw + ext.x) * d, count: ext.w * d)
            }
            placeTileCore(decode(z), core: core, ext: ext, downsampling: f, into: &out, width: width, height: height)
        }
        return out
    }
}
