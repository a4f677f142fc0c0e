import NN

/// Saving and loading caption readers, the way the other text models' files are.
public enum CaptionReaderModels {
    public static let weightsKind = "vqz-caption-reader"
    public static let checkpointKind = "vqz-caption-reader-checkpoint"

    public static func exportWeights(_ model: CaptionReader, text: TextTokenizer, name: String,
                                     metadata: [String: String] = [:]) -> [UInt8] {
        TextImageModels.export(model.store, config: model.config, text: text, kind: weightsKind, name: name, metadata: metadata)
    }

    /// A caption reader, its text tokenizer and its metadata from weights or a training checkpoint.
    public static func load(weights bytes: [UInt8]) throws -> (model: CaptionReader, text: TextTokenizer, metadata: [String: String]) {
        let file = try TextImageModels.read(bytes, kinds: [weightsKind, checkpointKind], config: CaptionReaderConfig.self,
                                            what: "the caption reader")
        let model = CaptionReader(config: file.config)
        try ModelFile.load(file.tensors, into: model.store)
        return (model, file.text, file.metadata)
    }
}
