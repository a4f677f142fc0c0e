import Models
import VQZ

/// A prior and the codec whose tokenizer makes the tokens it models, checked to match once: what
/// the generator and the inpainter both sample from.
public class PriorSampler {
    public let codec: Codec
    public let prior: PriorModel

    /// Throws when the prior models another tokenizer's tokens than the codec's.
    public init(codec: Codec, prior: PriorModel) throws {
        try prior.check(codec.model)
        self.codec = codec
        self.prior = prior
    }
}
