#if canImport(Glibc)
import Glibc
#endif
import NN

/// The VAE's latent (Kingma and Welling 2014): the encoder's 2D output channels are a mean mu and
/// a log-variance lv per latent dimension; the reparameterization trick draws
/// z = mu + exp(lv / 2) * eps with eps ~ N(0, I) fixed during the step, so z is a differentiable
/// function of the encoder's output; the KL term pulls q(z|x) = N(mu, exp(lv)) towards the prior
/// N(0, I):  KL = sum over latent elements of (mu^2 + exp(lv) - 1 - lv) / 2  (nats).
///
/// Shapes: input h [N, H, W, 2D] (mu in channels 0..<D, lv in D..<2D), output z [N, H, W, D];
/// M = N*H*W latent vectors.
///
/// The layer's loss is  L_up(z) + klWeight * KL: `forward` computes `kl`, and `backward` adds the
/// KL term's gradient to the one coming from above. Noise is drawn by `forward(_:rng:)` and kept,
/// so `forward(_:)` repeats the same draw (what a finite-difference test needs); `infer` returns mu.
public final class GaussianLatent: Layer {
    public let dim: Int
    /// Weight of the KL sum in the loss (the trainer sets beta / pixel elements).
    public var klWeight: Float = 0
    /// The last forward's KL divergence, summed over all latent elements, in nats.
    public private(set) var kl: Double = 0
    /// log-variance is clamped to this range, where exp stays finite; its gradient is zero outside.
    public static let logVarianceRange: ClosedRange<Float> = -30...20

    // Saved by forward for backward.
    private var input: Tensor?               // h [N, H, W, 2D]
    private var noise: [Float] = []          // eps [M, D]
    private var std: [Float] = []            // exp(lv / 2) [M, D], after the clamp
    private var output: Tensor?              // z [N, H, W, D]
    private var dInput: Tensor?              // dh [N, H, W, 2D]

    public init(dim: Int) { self.dim = dim }

    /// Draws fresh noise eps ~ N(0, I), then samples z.
    public func forward(_ h: Tensor, rng: inout RNG) -> Tensor {
        let m = h.count / (2 * dim)
        noise = (0..<(m * dim)).map { _ in rng.normal() }
        return forward(h)
    }

    /// z = mu + exp(lv / 2) * eps with the noise of the last `forward(_:rng:)`.
    public func forward(_ h: Tensor) -> Tensor {
        precondition(h.columns == 2 * dim, "Gaussian latent expects [..., \(2 * dim)], got \(h.shape)")
        let m = h.count / (2 * dim)
        precondition(noise.count == m * dim, "draw the noise with forward(_:rng:) first")
        input = h
        var shape = h.shape
        shape[shape.count - 1] = dim
        let z = output?.shape == shape ? output! : Tensor(shape)
        output = z
        if std.count != m * dim { std = [Float](repeating: 0, count: m * dim) }
        var sum: Double = 0
        for i in 0..<m {
            for c in 0..<dim {
                let mu = h.data[i * 2 * dim + c]
                let lv = min(max(h.data[i * 2 * dim + dim + c], Self.logVarianceRange.lowerBound), Self.logVarianceRange.upperBound)
                let s = expf(0.5 * lv)
                std[i * dim + c] = s
                z.data[i * dim + c] = mu + s * noise[i * dim + c]
                sum += Double(0.5 * (mu * mu + s * s - 1 - lv))
            }
        }
        kl = sum
        return z
    }

    /// dmu = dz + w * mu;  dlv = dz * eps * exp(lv / 2) / 2 + w * (exp(lv) - 1) / 2  (0 where lv was clamped).
    public func backward(_ dz: Tensor) -> Tensor {
        let h = input!
        let m = h.count / (2 * dim)
        let dh = dInput?.shape == h.shape ? dInput! : Tensor(h.shape)
        dInput = dh
        let w = klWeight
        for i in 0..<m {
            for c in 0..<dim {
                let (j, mu, raw) = (i * dim + c, h.data[i * 2 * dim + c], h.data[i * 2 * dim + dim + c])
                let s = std[j]
                dh.data[i * 2 * dim + c] = dz.data[j] + w * mu
                dh.data[i * 2 * dim + dim + c] = Self.logVarianceRange.contains(raw)
                    ? dz.data[j] * noise[j] * 0.5 * s + w * 0.5 * (s * s - 1) : 0
            }
        }
        return dh
    }

    /// KL(N(mu, exp(lv)) || N(0, I)) summed over the latent elements of h [..., 2D], in nats.
    public static func divergence(_ h: Tensor, dim: Int) -> Double {
        let m = h.count / (2 * dim)
        var sum: Double = 0
        for i in 0..<m {
            for c in 0..<dim {
                let mu = h.data[i * 2 * dim + c]
                let lv = min(max(h.data[i * 2 * dim + dim + c], logVarianceRange.lowerBound), logVarianceRange.upperBound)
                sum += Double(0.5 * (mu * mu + expf(lv) - 1 - lv))
            }
        }
        return sum
    }

    /// The posterior mean: what reconstruction uses.
    public func infer(_ h: Tensor) -> Tensor {
        precondition(h.columns == 2 * dim, "Gaussian latent expects [..., \(2 * dim)], got \(h.shape)")
        let m = h.count / (2 * dim)
        var shape = h.shape
        shape[shape.count - 1] = dim
        let z = Tensor(shape)
        for i in 0..<m { for c in 0..<dim { z.data[i * dim + c] = h.data[i * 2 * dim + c] } }
        return z
    }

    public func releaseBuffers() {
        input = nil
        noise = []
        std = []
        output = nil
        dInput = nil
    }
}
