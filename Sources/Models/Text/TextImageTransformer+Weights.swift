import NN

/// The shape of a model that reads the captions' text tokens: its file must carry a text
/// tokenizer of the same vocabulary and length.
public protocol TextModelConfig: StoredModelConfig {
    var textVocabulary: Int { get }
    var textLength: Int { get }
}

extension TextImageConfig: TextModelConfig {}
extension RerankerConfig: TextModelConfig {}
extension CaptionReaderConfig: TextModelConfig {}

/// A model that reads captions: its parameters, and the config its files record.
public protocol TextModel: AnyObject {
    associatedtype Config: TextModelConfig
    var config: Config { get }
    var store: ParameterStore { get }
}

extension TextImageTransformer: TextModel {}
extension Reranker: TextModel {}
extension CaptionReader: TextModel {}

/// The files of one kind of text model, saved and loaded alike: the weights carry the config and
/// the text tokenizer (its vocabulary) in their metadata, so one file is the whole model.
public protocol TextModelFiles {
    associatedtype Model: TextModel
    static var weightsKind: String { get }
    static var checkpointKind: String { get }
    /// How an error names the model ("the reranker").
    static var modelName: String { get }
    /// A model of `config`, whose parameters a file then fills.
    static func model(of config: Model.Config) -> Model
}

extension TextModelFiles {
    /// The shipped form: matrices and tables in float16, biases and norms in float32.
    public static func exportWeights(_ model: Model, text: TextTokenizer, name: String, metadata: [String: String] = [:]) -> [UInt8] {
        TextImageModels.export(model.store, config: model.config, text: text, kind: weightsKind, name: name, metadata: metadata)
    }

    /// A model, its text tokenizer and its metadata from weights or a training checkpoint.
    public static func load(weights bytes: [UInt8]) throws -> (model: Model, text: TextTokenizer, metadata: [String: String]) {
        let file = try TextImageModels.read(bytes, kinds: [weightsKind, checkpointKind], config: Model.Config.self, what: modelName)
        let loaded = ParameterStore.withoutInitialValues { model(of: file.config) }
        try ModelFile.load(file.tensors, into: loaded.store)
        return (loaded, file.text, file.metadata)
    }
}

/// Saving and loading text-to-image transformers.
public enum TextImageModels: TextModelFiles {
    public static let weightsKind = "vqz-text-prior"
    public static let checkpointKind = "vqz-text-prior-checkpoint"
    public static let modelName = "the model"
    public static let textTokenizerKey = "text_tokenizer"

    public static func model(of config: TextImageConfig) -> TextImageTransformer { TextImageTransformer(config: config) }

    /// Any text model's file: its parameters as shipped, with its kind, name, config and text
    /// tokenizer in the metadata.
    static func export(_ store: ParameterStore, config: some TextModelConfig, text: TextTokenizer, kind: String, name: String,
                       metadata: [String: String]) -> [UInt8] {
        var meta = metadata
        meta["kind"] = kind
        meta["name"] = name
        meta["config"] = config.json
        meta[textTokenizerKey] = text.json
        return SafeTensors.write(ModelFile.shippedEntries(store), metadata: meta)
    }

    /// Any text model's file read back: its tensors, metadata, checked config, and the text
    /// tokenizer that matches it (`what` names the model in the error when none does).
    static func read<Config: TextModelConfig>(_ bytes: [UInt8], kinds: [String], config: Config.Type, what: String) throws
        -> (tensors: SafeTensors.File, metadata: [String: String], config: Config, text: TextTokenizer) {
        let file = try ModelFile.read(bytes, kinds: kinds, config: Config.self)
        guard let textJSON = file.metadata[textTokenizerKey], let text = try? TextTokenizer(json: textJSON),
              text.vocabularySize == file.config.textVocabulary, text.length == file.config.textLength
        else { throw ModelError.badConfig("no text tokenizer matching \(what)") }
        return (file.tensors, file.metadata, file.config, text)
    }
}
