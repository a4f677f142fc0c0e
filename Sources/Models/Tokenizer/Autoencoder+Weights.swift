import Foundation
import NN

extension Autoencoder {
    public static let weightsKind = "vqz-autoencoder"
    public static let checkpointKind = "vqz-autoencoder-checkpoint"

    /// The shipped form: convolution weights in float16, biases in float32 (as the tokenizer's).
    /// Metadata: kind `vqz-autoencoder`, `model_kind` (ae or vae), name and config.
    public func exportWeights(name: String, metadata: [String: String] = [:]) -> [UInt8] {
        ModelFile.write(ModelFile.entries(of: store.params, in: store, inFloat16: { $0.name.hasSuffix(".weight") }),
                        kind: Self.weightsKind, name: name, config: config,
                        metadata: metadata.merging(["model_kind": config.kind.rawValue]) { _, modelKind in modelKind })
    }

    /// A model from a weights file (shipped weights or a training checkpoint), with the file's metadata.
    public static func load(weights bytes: [UInt8]) throws -> (model: Autoencoder, metadata: [String: String]) {
        try ModelFile.model(in: bytes, kinds: [weightsKind, checkpointKind], config: AutoencoderConfig.self,
                            make: { Autoencoder(config: $0) }, parameters: \.store)
    }

    /// The `kind` a weights file's metadata names (vqz-tokenizer, vqz-autoencoder, ...), read
    /// from the header alone; nil when the bytes are not safetensors or carry none.
    public static func fileKind(of bytes: [UInt8]) -> String? {
        (try? SafeTensors.read(bytes))?.metadata["kind"]
    }
}
