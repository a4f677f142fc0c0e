import Foundation
import ImageIO
import Models
import NN
import VQZ

/// A baseline of the VQ-VAE, ready to reconstruct images and (the VAE) to sample its prior:
/// the plain autoencoder or the VAE of `vqz train tokenizer --kind ae|vae`.
///
/// Not a codec: the latent is `codeDim` floats per f x f block of pixels, with no quantization
/// and no bitstream, so there is nothing to write to a .vqz file. Images go through the encoder
/// and decoder in tiles with context margins as in `Codec`, since the networks are the same.
public final class BaselineModel: @unchecked Sendable {
    public let network: Autoencoder
    public let metadata: [String: String]
    public let name: String
    /// Tokens of context on each side of a tile, and a tile's core side (as `Codec`'s).
    public var marginTokens = 10
    public var tileTokens = 96

    public var kind: AutoencoderKind { network.kind }
    public var downsampling: Int { network.config.downsampling }

    /// Loads a weights file's bytes (`vqz train tokenizer --kind ae|vae --output`).
    public init(weights bytes: [UInt8], fallbackName: String) throws {
        (network, metadata) = try Autoencoder.load(weights: bytes)
        name = metadata["name"] ?? fallbackName
    }

    public convenience init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CodecError.cannotReadModel(path) }
        try self.init(weights: [UInt8](data), fallbackName: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
    }

    private var tiling: LatentTiling {
        LatentTiling(downsampling: downsampling, codeDim: network.config.codeDim, tileTokens: tileTokens, marginTokens: marginTokens)
    }

    /// The latent of an image: ceil(H/f) x ceil(W/f) positions of `codeDim` floats, [gh, gw, D]
    /// (the VAE's posterior mean).
    public func latent(of image: Image) -> Tensor {
        tiling.latent(of: image, encode: network.encode)
    }

    /// RGB8 pixels [height, width, 3] decoded from a latent grid [gh, gw, D], cropped to width x height.
    public func decode(_ latent: Tensor, width: Int, height: Int) -> [UInt8] {
        tiling.pixels(of: latent, width: width, height: height, decode: network.decode)
    }

    /// The image through the encoder and the decoder: same size, gray stays gray, alpha is kept as is.
    public func reconstruct(_ image: Image) throws -> Image {
        guard image.width > 0 && image.height > 0 else { throw CodecError.emptyImage }
        let image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
        var alpha: [UInt8]? = nil
        if image8.hasAlpha {
            let s = image8.samples8, c = image8.channels
            alpha = (0..<image8.pixelCount).map { s[$0 * c + c - 1] }
        }
        let rgb = decode(latent(of: image8), width: image.width, height: image.height)
        return assemble(rgb: rgb, width: image.width, height: image.height, gray: image8.isGray, alpha: alpha)
    }

    /// `count` RGB images decoded from latents drawn from the VAE's prior N(0, I) (their standard
    /// deviation scaled by `temperature`); image i draws from RNG(seed + i). The plain autoencoder
    /// has no prior to sample and refuses.
    public func sample(width: Int, height: Int, count: Int, seed: UInt64, temperature: Float = 1) throws -> [Image] {
        guard kind == .vae else { throw BaselineError.noLatentPrior(name) }
        guard width > 0, height > 0, width <= 8192, height <= 8192 else {
            throw GenerationError.badSize("image size \(width)x\(height) is out of range (1...8192 on each side)")
        }
        guard (1...256).contains(count) else { throw GenerationError.badSize("count \(count) is out of range (1...256)") }
        let f = downsampling, d = network.config.codeDim
        let cols = (width + f - 1) / f, rows = (height + f - 1) / f
        let z = network.samplePrior(count: count, rows: rows, cols: cols, seed: seed, temperature: temperature)
        return (0..<count).map { i in
            let one = Tensor([rows, cols, d])
            one.data.update(from: z.data + i * rows * cols * d, count: rows * cols * d)
            return Image(width: width, height: height, channels: 3, samples8: decode(one, width: width, height: height))
        }
    }
}
