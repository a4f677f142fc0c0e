import NN

extension ContextPrior {
    public static let weightsKind = "vqz-context-prior"
    public static let checkpointKind = "vqz-context-prior-checkpoint"

    /// The shipped form: embedding tables and matrices in float16, biases in float32. Coding
    /// uses the loaded (rounded) values on both sides, so the rounding costs bits, never exactness.
    public func exportWeights(name: String, metadata: [String: String] = [:]) -> [UInt8] {
        let entries = store.params.map { p in
            SafeTensors.Entry(name: p.name, dtype: p.shape.count > 1 ? .f16 : .f32, shape: p.shape,
                              values: Array(UnsafeBufferPointer(start: store.value(p), count: p.count)))
        }
        var meta = metadata
        meta["kind"] = Self.weightsKind
        meta["name"] = name
        meta["config"] = config.json
        return SafeTensors.write(entries, metadata: meta)
    }

    /// A context prior from a weights file (shipped weights or a training checkpoint), with its metadata.
    public static func load(weights bytes: [UInt8]) throws -> (prior: ContextPrior, metadata: [String: String]) {
        let file = try ModelFile.read(bytes, kinds: [weightsKind, checkpointKind], config: ContextPriorConfig.self)
        let prior = ContextPrior(config: file.config)
        try ModelFile.load(file.tensors, into: prior.store)
        return (prior, file.metadata)
    }
}
