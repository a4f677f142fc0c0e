import Foundation
import NN

/// The two baselines of the VQ-VAE: a plain autoencoder and a VAE.
public enum AutoencoderKind: String, Codable, CaseIterable, Sendable {
    /// Reconstruction only: z = encoder(x), trained on ||x - decoder(z)||^2.
    case ae
    /// Gaussian latent with the KL term and the reparameterization trick; samples decode z ~ N(0, I).
    case vae
}

/// The shape of a baseline: the VQ-VAE's encoder and decoder (channels, blocks, code dimension),
/// no codebooks. Stored in the weights' metadata.
public struct AutoencoderConfig: Codable, Equatable, Sendable {
    public var kind: AutoencoderKind
    public var channels: [Int]
    public var blocksPerLevel: Int
    public var bottomBlocks: Int
    /// Floats per latent position (per f x f block of pixels).
    public var codeDim: Int

    public init(kind: AutoencoderKind, channels: [Int] = [32, 64, 128, 128], blocksPerLevel: Int = 1,
                bottomBlocks: Int = 2, codeDim: Int = 32) {
        self.kind = kind
        self.channels = channels
        self.blocksPerLevel = blocksPerLevel
        self.bottomBlocks = bottomBlocks
        self.codeDim = codeDim
    }

    /// The same encoder and decoder as a VQ-VAE of this shape.
    public init(kind: AutoencoderKind, sameNetworksAs t: TokenizerConfig) {
        self.init(kind: kind, channels: t.channels, blocksPerLevel: t.blocksPerLevel, bottomBlocks: t.bottomBlocks, codeDim: t.codeDim)
    }

    public var downsampling: Int { 1 << (channels.count - 1) }

    /// The VQ-VAE shape whose encoder and decoder these are (its codebook fields are unused).
    var networks: TokenizerConfig {
        TokenizerConfig(channels: channels, blocksPerLevel: blocksPerLevel, bottomBlocks: bottomBlocks, codeDim: codeDim,
                        codebookSize: 2, levels: 1)
    }

    public var isValid: Bool { networks.isValid }

    public init(json: String) throws {
        self = try JSONDecoder().decode(AutoencoderConfig.self, from: Data(json.utf8))
    }
}

/// A plain autoencoder or a VAE over the VQ-VAE's encoder and decoder (TokenizerNetworks).
///
/// Images are NHWC floats in [-0.5, 0.5]. The encoder maps [N, H, W, 3] to [N, H/f, W/f, D]
/// (autoencoder) or [N, H/f, W/f, 2D] (VAE: mean and log-variance); the decoder maps a latent
/// [N, H/f, W/f, D] back to [N, H, W, 3].
public final class Autoencoder {
    public let config: AutoencoderConfig
    public let store: ParameterStore
    public let encoder: Sequential
    /// The VAE's sampling layer; nil for the plain autoencoder.
    public let latent: GaussianLatent?
    public let decoder: Sequential
    /// VAE training: the KL term's weight (see `lossAndGradients`); recorded in checkpoints.
    public var beta: Float = 0.005

    public init(config: AutoencoderConfig, seed: UInt64 = 0) {
        self.config = config
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let isVAE = config.kind == .vae
        encoder = TokenizerNetworks.encoder(store, config.networks, outputDim: (isVAE ? 2 : 1) * config.codeDim, rng: &rng)
        latent = isVAE ? GaussianLatent(dim: config.codeDim) : nil
        decoder = TokenizerNetworks.decoder(store, config.networks, rng: &rng)
        store.seal()
    }

    public var kind: AutoencoderKind { config.kind }

    /// The latent of a batch of images [N, H, W, 3] (H, W multiples of f): z, or the VAE's mean.
    public func encode(_ images: Tensor) -> Tensor {
        let h = encoder.infer(images)
        encoder.releaseBuffers()
        return latent?.infer(h) ?? h.copy()
    }

    /// Images [N, H, W, 3] from latents [N, H/f, W/f, D].
    public func decode(_ z: Tensor) -> Tensor {
        let y = decoder.infer(z).copy()
        decoder.releaseBuffers()
        return y
    }

    /// `count` latents [count, rows, cols, D] from the VAE's prior N(0, I), scaled by `temperature`;
    /// latent i draws from RNG(seed + i).
    public func samplePrior(count: Int, rows: Int, cols: Int, seed: UInt64, temperature: Float = 1) -> Tensor {
        let per = rows * cols * config.codeDim
        let z = Tensor([count, rows, cols, config.codeDim])
        for i in 0..<count {
            var rng = RNG(seed: seed &+ UInt64(i))
            for j in 0..<per { z.data[i * per + j] = temperature * rng.normal() }
        }
        return z
    }

    public var parameterCount: Int { store.trainableCount }
}
