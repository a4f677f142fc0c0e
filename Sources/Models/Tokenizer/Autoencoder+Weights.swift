import Foundation
import NN

extension Autoencoder {
    public static let weightsKind = "vqz-autoencoder"
    public static let checkpointKind = "vqz-autoencoder-checkpoint"

    /// The shipped form: convolution weights in float16, biases in float32 (as the tokenizer's).
    /// Metadata: kind `vqz-autoencoder`, `model_kind` (ae or vae), name and config.
    public func exportWeights(name: String, metadata: [String: String] = [:]) -> [UInt8] {
        let entries = store.params.map { p in
            SafeTensors.Entry(name: p.name, dtype: p.name.hasSuffix(".weight") ? .f16 : .f32, shape: p.shape,
                              values: Array(UnsafeBufferPointer(start: store.value(p), count: p.count)))
        }
        var meta = metadata
        meta["kind"] = Self.weightsKind
        meta["model_kind"] = config.kind.rawValue
        meta["name"] = name
        meta["config"] = config.json
        return SafeTensors.write(entries, metadata: meta)
    }

    /// A model from a weights file (shipped weights or a training checkpoint), with the file's metadata.
    public static func load(weights bytes: [UInt8]) throws -> (model: Autoencoder, metadata: [String: String]) {
        let file = try ModelFile.read(bytes, kinds: [weightsKind, checkpointKind], config: AutoencoderConfig.self)
        let model = Autoencoder(config: file.config)
        try ModelFile.load(file.tensors, into: model.store)
        return (model, file.metadata)
    }

    /// The `kind` a weights file's metadata names (vqz-tokenizer, vqz-autoencoder, ...), read
    /// from the header alone; nil when the bytes are not safetensors or carry none.
    public static func fileKind(of bytes: [UInt8]) -> String? {
        (try? SafeTensors.read(bytes))?.metadata["kind"]
    }
}
