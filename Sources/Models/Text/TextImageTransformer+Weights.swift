import NN

/// Saving and loading text-to-image transformers: the weights carry the config and the text
/// tokenizer (its vocabulary) in their metadata, so one file is the whole model.
public enum TextImageModels {
    public static let weightsKind = "vqz-text-prior"
    public static let checkpointKind = "vqz-text-prior-checkpoint"
    public static let textTokenizerKey = "text_tokenizer"

    /// The shipped form: matrices and tables in float16, biases and norms in float32.
    public static func exportWeights(_ model: TextImageTransformer, text: TextTokenizer, name: String,
                                     metadata: [String: String] = [:]) -> [UInt8] {
        let entries = ModelFile.shippedEntries(model.store)
        var meta = metadata
        meta["kind"] = weightsKind
        meta["name"] = name
        meta["config"] = model.config.json
        meta[textTokenizerKey] = text.json
        return SafeTensors.write(entries, metadata: meta)
    }

    /// A model, its text tokenizer and its metadata from weights or a training checkpoint.
    public static func load(weights bytes: [UInt8]) throws -> (model: TextImageTransformer, text: TextTokenizer, metadata: [String: String]) {
        let file = try ModelFile.read(bytes, kinds: [weightsKind, checkpointKind], config: TextImageConfig.self)
        let config = file.config
        guard let textJSON = file.metadata[textTokenizerKey], let text = try? TextTokenizer(json: textJSON),
              text.vocabularySize == config.textVocabulary, text.length == config.textLength
        else { throw ModelError.badConfig("no text tokenizer matching the model") }
        let model = TextImageTransformer(config: config)
        try ModelFile.load(file.tensors, into: model.store)
        return (model, text, file.metadata)
    }
}
