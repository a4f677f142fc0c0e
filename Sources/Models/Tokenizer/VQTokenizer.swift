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

    public init(config: TokenizerConfig, seed: UInt64 = 0) {
        self.config = config
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let c = config.channels
        let bottom = c.count - 1

        func block(_ name: String, _ ch: Int) -> Residual {
            // The second conv starts small so each block begins near the identity; with no
            // normalisation layers this keeps early training stable.
            Residual(Sequential([
                ReLU(), Conv2d(store, "\(name).conv1", inChannels: ch, outChannels: ch, kernel: 3, rng: &rng),
                ReLU(), Conv2d(store, "\(name).conv2", inChannels: ch, outChannels: ch, kernel: 3, initGain: 0.1, rng: &rng),
            ]))
        }

        var enc: [any Layer] = []
        let stem = Conv2d(store, "encoder.stem", inChannels: 3, outChannels: c[0], kernel: 3, rng: &rng)
        stem.computesInputGradient = false
        enc.append(stem)
        for level in 0..<bottom {
            for b in 0..<config.blocksPerLevel { enc.append(block("encoder.down\(level).block\(b)", c[level])) }
            enc.append(Conv2d(store, "encoder.down\(level).conv", inChannels: c[level], outChannels: c[level + 1],
                              kernel: 3, stride: 2, padding: 1, rng: &rng))
        }
        for b in 0..<config.bottomBlocks { enc.append(block("encoder.bottom.block\(b)", c[bottom])) }
        enc.append(ReLU())
        enc.append(Conv2d(store, "encoder.out", inChannels: c[bottom], outChannels: config.codeDim, kernel: 1, rng: &rng))
        encoder = Sequential(enc)

        quantizer = ResidualVectorQuantizer(store, "quantizer", levels: config.levels,
                                            codebookSize: config.codebookSize, dim: config.codeDim, rng: &rng)

        var dec: [any Layer] = []
        dec.append(Conv2d(store, "decoder.in", inChannels: config.codeDim, outChannels: c[bottom], kernel: 3, rng: &rng))
        for b in 0..<config.bottomBlocks { dec.append(block("decoder.bottom.block\(b)", c[bottom])) }
        for level in stride(from: bottom - 1, through: 0, by: -1) {
            dec.append(Upsample2x())
            dec.append(Conv2d(store, "decoder.up\(level).conv", inChannels: c[level + 1], outChannels: c[level],
                              kernel: 3, rng: &rng))
            for b in 0..<config.blocksPerLevel { dec.append(block("decoder.up\(level).block\(b)", c[level])) }
        }
        dec.append(ReLU())
        dec.append(Conv2d(store, "decoder.out", inChannels: c[0], outChannels: 3, kernel: 3, initGain: 0.1, rng: &rng))
        decoder = Sequential(dec)
        store.seal()
    }

    /// Token grids, one per level, for a batch of images [N, H, W, 3] (H, W multiples of f).
    public func encode(_ images: Tensor, levels: Int) -> [[Int32]] {
        let z = encoder.infer(images)
        defer { encoder.releaseBuffers() }
        return quantizer.encode(z, levels: levels)
    }

    /// Images [N, H, W, 3] from token grids of shape [N, H/f, W/f].
    public func decode(_ tokens: [[Int32]], batch: Int, gridHeight: Int, gridWidth: Int) -> Tensor {
        let zq = quantizer.decode(tokens, shape: [batch, gridHeight, gridWidth, config.codeDim])
        let y = decoder.infer(zq).copy()
        decoder.releaseBuffers()
        return y
    }

    public var parameterCount: Int {
        store.params.filter(\.trainable).reduce(0) { $0 + $1.count }
    }
}
