import NN

/// Making, saving and loading priors of either kind.
public enum Priors {
    public static let weightsKind = "vqz-prior"
    public static let checkpointKind = "vqz-prior-checkpoint"

    public static func make(_ config: PriorConfig, seed: UInt64 = 0) -> any TokenPrior {
        switch config.kind {
        case .pixelcnn: return GatedPixelCNN(config: config, seed: seed)
        case .transformer: return TokenTransformer(config: config, seed: seed)
        case .masked: return MaskedTokenTransformer(config: config, seed: seed)
        }
    }

    /// The shipped form: matrices and embedding tables in float16, biases and norms in float32.
    public static func exportWeights(_ prior: any TokenPrior, name: String, metadata: [String: String] = [:]) -> [UInt8] {
        ModelFile.write(ModelFile.shippedEntries(prior.store), kind: weightsKind, name: name, config: prior.config, metadata: metadata)
    }

    /// A prior from a weights file (shipped weights or a training checkpoint), with the file's metadata.
    public static func load(weights bytes: [UInt8]) throws -> (prior: any TokenPrior, metadata: [String: String]) {
        try ModelFile.model(in: bytes, kinds: [weightsKind, checkpointKind], config: PriorConfig.self,
                            make: { make($0) }, parameters: { $0.store })
    }
}
