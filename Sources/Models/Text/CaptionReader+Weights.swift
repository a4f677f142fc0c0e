import NN

/// Saving and loading caption readers: the weights carry the config and the text tokenizer in
/// their metadata, like the other text models', so one file is the whole model.
public enum CaptionReaderModels {
    public static let weightsKind = "vqz-caption-reader"
    public static let checkpointKind = "vqz-caption-reader-checkpoint"

    public static func exportWeights(_ model: CaptionReader, text: TextTokenizer, name: String,
                                     metadata: [String: String] = [:]) -> [UInt8] {
        var meta = metadata
        meta["kind"] = weightsKind
        meta["name"] = name
        meta["config"] = model.config.json
        meta[TextImageModels.textTokenizerKey] = text.json
        return SafeTensors.write(ModelFile.shippedEntries(model.store), metadata: meta)
    }

    /// A caption reader, its text tokenizer and its metadata from weights or a training checkpoint.
    public static func load(weights bytes: [UInt8]) throws -> (model: CaptionReader, text: TextTokenizer, metadata: [String: String]) {
        let file = try ModelFile.read(bytes, kinds: [weightsKind, checkpointKind], config: CaptionReaderConfig.self)
        let config = file.config
        guard let textJSON = file.metadata[TextImageModels.textTokenizerKey], let text = try? TextTokenizer(json: textJSON),
              text.vocabularySize == config.textVocabulary, text.length == config.textLength
        else { throw ModelError.badConfig("no text tokenizer matching the caption reader") }
        let model = CaptionReader(config: config)
        try ModelFile.load(file.tensors, into: model.store)
        return (model, text, file.metadata)
    }
}
