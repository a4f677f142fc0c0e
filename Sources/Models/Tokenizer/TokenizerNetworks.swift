import NN

/// The encoder and decoder CNNs that the VQ-VAE and its baselines (the plain autoencoder and
/// the VAE) share, so the three differ only in what sits between them.
///
/// Encoder: 3x3 stem, then per resolution residual blocks and a stride-2 3x3 convolution, blocks
/// at the bottom, ReLU and a 1x1 projection to `outputDim` channels ([N, H, W, 3] ->
/// [N, H/f, W/f, outputDim]). Decoder: the mirror, from [N, H/f, W/f, codeDim] back to
/// [N, H, W, 3], with nearest-neighbour upsampling and a 3x3 convolution per step up.
public enum TokenizerNetworks {
    /// A residual block (ReLU, 3x3, ReLU, 3x3). The second conv starts small so each block begins
    /// near the identity; with no normalisation layers this keeps early training stable.
    static func block(_ store: ParameterStore, _ name: String, _ ch: Int, rng: inout RNG) -> Residual {
        Residual(Sequential([
            ReLU(), Conv2d(store, "\(name).conv1", inChannels: ch, outChannels: ch, kernel: 3, rng: &rng),
            ReLU(), Conv2d(store, "\(name).conv2", inChannels: ch, outChannels: ch, kernel: 3, initGain: 0.1, rng: &rng),
        ]))
    }

    /// Parameters are named `encoder.*`; `outputDim` is codeDim (VQ-VAE, autoencoder) or 2 x codeDim
    /// (the VAE's mean and log-variance).
    public static func encoder(_ store: ParameterStore, _ config: TokenizerConfig, outputDim: Int, rng: inout RNG) -> Sequential {
        let c = config.channels, bottom = c.count - 1
        var enc: [any Layer] = []
        let s = config.pixelShuffle
        if s > 1 { enc.append(SpaceToDepth(factor: s)) }
        let stem = Conv2d(store, "encoder.stem", inChannels: 3 * s * s, outChannels: c[0], kernel: 3, rng: &rng)
        stem.computesInputGradient = false
        enc.append(stem)
        for level in 0..<bottom {
            for b in 0..<config.blocksPerLevel { enc.append(block(store, "encoder.down\(level).block\(b)", c[level], rng: &rng)) }
            enc.append(Conv2d(store, "encoder.down\(level).conv", inChannels: c[level], outChannels: c[level + 1],
                              kernel: 3, stride: 2, padding: 1, rng: &rng))
        }
        for b in 0..<config.bottomBlocks { enc.append(block(store, "encoder.bottom.block\(b)", c[bottom], rng: &rng)) }
        enc.append(ReLU())
        enc.append(Conv2d(store, "encoder.out", inChannels: c[bottom], outChannels: outputDim, kernel: 1, rng: &rng))
        return Sequential(enc)
    }

    /// Parameters are named `decoder.*`.
    public static func decoder(_ store: ParameterStore, _ config: TokenizerConfig, rng: inout RNG) -> Sequential {
        let c = config.channels, bottom = c.count - 1
        var dec: [any Layer] = []
        dec.append(Conv2d(store, "decoder.in", inChannels: config.codeDim, outChannels: c[bottom], kernel: 3, rng: &rng))
        for b in 0..<config.bottomBlocks { dec.append(block(store, "decoder.bottom.block\(b)", c[bottom], rng: &rng)) }
        for level in stride(from: bottom - 1, through: 0, by: -1) {
            dec.append(Upsample2x())
            dec.append(Conv2d(store, "decoder.up\(level).conv", inChannels: c[level + 1], outChannels: c[level],
                              kernel: 3, rng: &rng))
            for b in 0..<config.blocksPerLevel { dec.append(block(store, "decoder.up\(level).block\(b)", c[level], rng: &rng)) }
        }
        dec.append(ReLU())
        let s = config.pixelShuffle
        dec.append(Conv2d(store, "decoder.out", inChannels: c[0], outChannels: 3 * s * s, kernel: 3, initGain: 0.1, rng: &rng))
        if s > 1 { dec.append(DepthToSpace(factor: s)) }
        return Sequential(dec)
    }
}
