import NN

extension ContextPrior {
    public static let weightsKind = "vqz-context-prior"
    public static let checkpointKind = "vqz-context-prior-checkpoint"

    /// The shipped form: embedding tables and matrices in float16, biases in float32. Coding
    /// uses the loaded (rounded) values on both sides, so the rounding costs bits, never exactness.
    public func exportWeights(name: String, metadata: [String: String] = [:]) -> [UInt8] {
        ModelFile.write(ModelFile.entries(of: store.params, in: store, inFloat16: { $0.shape.count > 1 }),
                        kind: Self.weightsKind, name: name, config: config, metadata: metadata)
    }

    /// A context prior from a weights file (shipped weights or a training checkpoint), with its metadata.
    public static func load(weights bytes: [UInt8]) throws -> (prior: ContextPrior, metadata: [String: String]) {
        try ModelFile.model(in: bytes, kinds: [weightsKind, checkpointKind], config: ContextPriorConfig.self,
                            make: { ContextPrior(config: $0) }, parameters: \.store)
    }
}
