/// What the baselines refuse.
public enum BaselineError: Error, Equatable, CustomStringConvertible {
    /// A plain autoencoder's latent has no distribution to sample (a VAE's has: N(0, I)).
    case noLatentPrior(String)
    /// A baseline has no bitstream: it cannot compress or export tokens.
    case notACodec(String)

    public var description: String {
        switch self {
        case .noLatentPrior(let name):
            return "\(name) is a plain autoencoder: its latent has no prior to sample (use a VAE, or the VQ tokenizer with a prior)"
        case .notACodec(let name):
            return "\(name) holds a baseline autoencoder, whose latent is floats with no bitstream, not a codec (compare it with 'vqz reconstruct --model')"
        }
    }
}
