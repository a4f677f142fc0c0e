import NN

/// The VQ-VAE of vqz: encoder CNN -> residual vector quantizer -> decoder CNN.
///
/// Images are NHWC floats in [-0.5, 0.5]. The encoder maps [N, H, W, 3] to
/// [N, H/f, W/f, D]; each quantizer level picks one of K codes per position.
public final class VQTokenizer {
    public let config: TokenizerConfig
    public let store: ParameterStore
    public let encoder: Sequential
    public let quantizer: ResidualVectorQuantizer
    public let decoder: Sequential
    /// Set while only the decoder trains: the tokens stay those of the model named here, so
    /// priors trained on them stay valid (recorded in the checkpoint and the exported weights).
    public var frozenTokens: TokenLineage?
    /// The arithmetic of the decoder's inference (training always runs f32). `.int16` changes the
    /// pixels by about a thousandth of a dB (docs/SPEED.md) and depends on the CPU's integer kernels.
    public var decoderPrecision: InferencePrecision = .float32 {
        didSet { setInferencePrecision(decoderPrecision, in: decoder) }
    }
    /// The same for the encoder. Keep it f32 where tokens are written: integers change some of them,
    /// and tokens must not depend on the CPU.
    public var encoderPrecision: InferencePrecision = .float32 {
        didSet { setInferencePrecision(encoderPrecision, in: encoder) }
    }

    public init(config: TokenizerConfig, seed: UInt64 = 0) {
        self.config = config
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        encoder = TokenizerNetworks.encoder(store, config, outputDim: config.codeDim, rng: &rng)
        quantizer = ResidualVectorQuantizer(store, "quantizer", levels: config.levels,
                                            codebookSize: config.codebookSize, dim: config.codeDim, rng: &rng)
        decoder = TokenizerNetworks.decoder(store, config, rng: &rng)
        store.seal()
    }

    /// Token grids, one per level, for a batch of images [N, H, W, 3] (H, W multiples of f).
    public func encode(_ images: Tensor, levels: Int) -> [[Int32]] {
        let z = encoder.infer(images)
        defer { encoder.releaseBuffers() }
        return quantizer.encode(z, levels: levels)
    }

    /// Token grids as `encode` gives them, and the residual energy left at each position after
    /// each level (`ResidualVectorQuantizer.encodeMeasuringResiduals`).
    public func encodeMeasuringResiduals(_ images: Tensor, levels: Int) -> (tokens: [[Int32]], residualEnergy: [[Float]]) {
        let z = encoder.infer(images)
        defer { encoder.releaseBuffers() }
        return quantizer.encodeMeasuringResiduals(z, levels: levels)
    }

    /// Images [N, H, W, 3] from token grids of shape [N, H/f, W/f].
    public func decode(_ tokens: [[Int32]], batch: Int, gridHeight: Int, gridWidth: Int) -> Tensor {
        decode(latent: quantizer.decode(tokens, shape: [batch, gridHeight, gridWidth, config.codeDim]))
    }

    /// The encoder's output [N, H/f, W/f, D] for images [N, H, W, 3], before quantization: what
    /// the levels approximate, one residual at a time.
    public func latent(_ images: Tensor) -> Tensor {
        let z = encoder.infer(images).copy()
        encoder.releaseBuffers()
        return z
    }

    /// Images [N, H, W, 3] from latents [N, H/f, W/f, D], quantized or not.
    public func decode(latent z: Tensor) -> Tensor {
        let y = decoder.infer(z).copy()
        decoder.releaseBuffers()
        return y
    }

    /// The mean squared error of `latent` decoded against `target` [N, H, W, 3], and its gradient
    /// with respect to the latent: what choosing tokens by their decoded error descends. The
    /// decoder runs in f32 and its parameters get no gradient.
    public func decodedError(latent z: Tensor, target: Tensor) -> (error: Float, gradient: Tensor) {
        let convs = convolutions(in: decoder)
        let saved = convs.map(\.computesParameterGradients)
        for conv in convs { conv.computesParameterGradients = false }
        defer { for (conv, flag) in zip(convs, saved) { conv.computesParameterGradients = flag } }
        let y = decoder.forward(z)
        let dy = Tensor(y.shape)
        let error = mseLoss(y, target, dpred: dy)
        return (error, decoder.backward(dy).copy())
    }

    public var parameterCount: Int {
        store.params.filter(\.trainable).reduce(0) { $0 + $1.count }
    }
}

/// The tokenizer whose encoder and codebooks define a model's tokens. A model whose decoder alone
/// was retrained records the one it started from, so its tokens keep their identity.
public struct TokenLineage: Equatable, Sendable {
    public static let nameKey = "tokens_name", digestKey = "tokens_digest"
    public var name: String
    public var digestHex: String

    public init(name: String, digestHex: String) {
        self.name = name
        self.digestHex = digestHex
    }

    /// The lineage a weights file or checkpoint records, if any.
    public init?(metadata: [String: String]) {
        guard let name = metadata[Self.nameKey], let hex = metadata[Self.digestKey] else { return nil }
        self.init(name: name, digestHex: hex)
    }

    public var metadata: [String: String] { [Self.nameKey: name, Self.digestKey: digestHex] }
}
