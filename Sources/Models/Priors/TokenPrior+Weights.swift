import NN

/// Making, saving and loading priors of either kind.
public enum Priors {
    public static let weightsKind = "vqz-prior"
    public static let checkpointKind = "vqz-prior-checkpoint"

    public static func make(_ config: PriorConfig, seed: UInt64 = 0) -> any TokenPrior {
        switch config.kind {
        case .pixelcnn: return GatedPixelCNN(config: config, seed: seed)
        case .transformer: return TokenTransformer(config: config, seed: seed)
        }
    }

    /// The shipped form: matrices and embedding tables in float16, biases and norms in float32.
    public static func exportWeights(_ prior: any TokenPrior, name: String, metadata: [String: String] = [:]) -> [UInt8] {
        let store = prior.store
        let entries = store.params.map { p in
            SafeTensors.Entry(name: p.name, dtype: p.name.hasSuffix(".weight") && p.shape.count > 1 ? .f16 : .f32, shape: p.shape,
                              values: Array(UnsafeBufferPointer(start: store.value(p), count: p.count)))
        }
        var meta = metadata
        meta["kind"] = weightsKind
        meta["name"] = name
        meta["config"] = prior.config.json
        return SafeTensors.write(entries, metadata: meta)
    }

    /// A prior from a weights file (shipped weights or a training checkpoint), with the file's metadata.
    public static func load(weights bytes: [UInt8]) throws -> (prior: any TokenPrior, metadata: [String: String]) {
        let file = try ModelFile.read(bytes, kinds: [weightsKind, checkpointKind], config: PriorConfig.self)
        let prior = make(file.config)
        try ModelFile.load(file.tensors, into: prior.store)
        return (prior, file.metadata)
    }
}
