import NN

/// Saving and loading rerankers: like the text-to-image model's, the weights carry the config and
/// the text tokenizer (its vocabulary) in their metadata, so one file is the whole model.
public enum RerankerModels {
    public static let weightsKind = "vqz-reranker"
    public static let checkpointKind = "vqz-reranker-checkpoint"

    public static func exportWeights(_ model: Reranker, text: TextTokenizer, name: String,
                                     metadata: [String: String] = [:]) -> [UInt8] {
        TextImageModels.export(model.store, config: model.config, text: text, kind: weightsKind, name: name, metadata: metadata)
    }

    /// A reranker, its text tokenizer and its metadata from weights or a training checkpoint.
    public static func load(weights bytes: [UInt8]) throws -> (model: Reranker, text: TextTokenizer, metadata: [String: String]) {
        let file = try TextImageModels.read(bytes, kinds: [weightsKind, checkpointKind], config: RerankerConfig.self, what: "the reranker")
        let model = Reranker(config: file.config)
        try ModelFile.load(file.tensors, into: model.store)
        return (model, file.text, file.metadata)
    }
}
