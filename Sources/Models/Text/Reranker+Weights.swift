import NN

/// Saving and loading rerankers: like the text-to-image model's, the weights carry the config
/// and the text tokenizer (its vocabulary) in their metadata, so one file is the whole model.
public enum RerankerModels {
    public static let weightsKind = "vqz-reranker"
    public static let checkpointKind = "vqz-reranker-checkpoint"

    public static func exportWeights(_ model: Reranker, text: TextTokenizer, name: String,
                                     metadata: [String: String] = [:]) -> [UInt8] {
        var meta = metadata
        meta["kind"] = weightsKind
        meta["name"] = name
        meta["config"] = model.config.json
        meta[TextImageModels.textTokenizerKey] = text.json
        return SafeTensors.write(ModelFile.shippedEntries(model.store), metadata: meta)
    }

    /// A reranker, its text tokenizer and its metadata from weights or a training checkpoint.
    public static func load(weights bytes: [UInt8]) throws -> (model: Reranker, text: TextTokenizer, metadata: [String: String]) {
        let file = try ModelFile.read(bytes, kinds: [weightsKind, checkpointKind], config: RerankerConfig.self)
        let config = file.config
        guard let textJSON = file.metadata[TextImageModels.textTokenizerKey], let text = try? TextTokenizer(json: textJSON),
              text.vocabularySize == config.textVocabulary, text.length == config.textLength
        else { throw ModelError.badConfig("no text tokenizer matching the reranker") }
        let model = Reranker(config: config)
        try ModelFile.load(file.tensors, into: model.store)
        return (model, text, file.metadata)
    }
}
