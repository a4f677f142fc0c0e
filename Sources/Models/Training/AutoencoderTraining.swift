import Foundation
import NN

extension Autoencoder: TrainableTokenizer {
    public var checkpointMetadata: [String: String] {
        var meta = ["kind": Self.checkpointKind, "config": config.json]
        if kind == .vae { meta["beta"] = String(beta) }
        return meta
    }

    /// Autoencoder: MSE(decoder(encoder(x)), x). VAE: the same through z = mu + sigma * eps, plus
    /// beta * KL / (pixels x 3), so beta weighs the KL in nats per pixel channel against the MSE on
    /// [-0.5, 0.5] pixels (beta = 2 sigma^2 makes the loss the ELBO of a Gaussian decoder of std sigma).
    public func lossAndGradients(_ x: Tensor, rng: inout RNG) -> TokenizerStepFigures {
        let h = encoder.forward(x)
        var z = h
        if let latent {
            latent.klWeight = beta / Float(x.count)
            z = latent.forward(h, rng: &rng)
        }
        let y = decoder.forward(z)
        let dy = Tensor(y.shape)
        let loss = mseLoss(y, x, dpred: dy)
        var dz = decoder.backward(dy)
        if let latent { dz = latent.backward(dz) }
        _ = encoder.backward(dz)
        let pixels = Double(x.count / 3)
        return TokenizerStepFigures(loss: loss, klBitsPerPixel: Float((latent?.kl ?? 0) / pixels / log(2)))
    }

    public func trains(_ param: Param) -> Bool { true }
    public func afterUpdate(rng: inout RNG) -> [Int] { [] }

    /// PSNR (RGB, 8-bit rounding) of the reconstructions (the VAE decodes its posterior mean) and,
    /// for the VAE, the mean KL of the posteriors in bits per pixel.
    public func validate(_ images: [Tensor]) -> TokenizerValidation {
        var sqErr: Double = 0, kl: Double = 0
        var samples = 0
        for x in images {
            let h = encoder.infer(x)
            encoder.releaseBuffers()
            let z: Tensor
            if let latent {
                kl += GaussianLatent.divergence(h, dim: latent.dim)
                z = latent.infer(h)
            } else {
                z = h.copy()
            }
            sqErr += squaredError8Bit(x, decode(z))
            samples += x.count
        }
        return TokenizerValidation(psnr: [psnr8Bit(squaredError: sqErr, samples: samples)], codesUsed: [], perplexity: [],
                                   klBitsPerPixel: latent == nil ? nil : kl / Double(samples / 3) / log(2))
    }
}
