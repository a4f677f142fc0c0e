import Foundation
import NN

/// A model's shape, stored as JSON under "config" in its weights file's metadata.
public protocol StoredModelConfig: Codable {
    /// Bounds that keep a hostile file from allocating absurd models.
    var isValid: Bool { get }
}

extension StoredModelConfig {
    /// The config as it is stored (`canonicalJSON`).
    public var json: String { canonicalJSON(self) }

    /// The config, which must be valid, for a model's initialiser: files are checked when they are
    /// read, so a bad config here is the caller's bug (`what` names the model in the message).
    func validated(_ what: String) -> Self {
        precondition(isValid, "not a valid \(what) config: \(self)")
        return self
    }
}

/// The bounds a stack of blocks keeps to: its width, depth and attention heads, the heads dividing
/// the width. The priors and the text-to-image transformer allow the widest; the smaller text
/// models less.
func blocksAreValid(width: Int, layers: Int, heads: Int, maxWidth: Int = 2048, maxLayers: Int = 64) -> Bool {
    (1...maxWidth).contains(width) && (1...maxLayers).contains(layers) && (1...64).contains(heads) && width % heads == 0
}

extension PriorConfig {
    /// The config, valid and of `kind`, for the initialiser of that kind's prior.
    func validated(as kind: PriorKind) -> Self {
        precondition(self.kind == kind, "not a \(kind.rawValue) config: \(self)")
        return validated(kind.rawValue)
    }
}

/// JSON with its keys sorted, so a weights file's bytes depend on the model alone (a dictionary's
/// order changes from run to run).
func canonicalJSON(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}

extension TokenizerConfig: StoredModelConfig {}
extension PriorConfig: StoredModelConfig {}
extension ContextPriorConfig: StoredModelConfig {}
extension AutoencoderConfig: StoredModelConfig {}
extension TextImageConfig: StoredModelConfig {}
extension RerankerConfig: StoredModelConfig {}
extension CaptionReaderConfig: StoredModelConfig {}

/// Reading the weights files every model of vqz writes: safetensors whose metadata names the
/// file's kind and the model's config. One reader, so every model refuses a wrong file alike.
enum ModelFile {
    /// The tensors, metadata and checked config of a file whose kind is one of `kinds` (the
    /// first is the one an error names as expected).
    static func read<Config: StoredModelConfig>(_ bytes: [UInt8], kinds: [String], config: Config.Type)
        throws -> (tensors: SafeTensors.File, metadata: [String: String], config: Config) {
        let tensors: SafeTensors.File
        do { tensors = try SafeTensors.File(bytes) } catch let e as SafeTensors.Error { throw ModelError.weights(e) }
        let meta = tensors.metadata
        let kind = meta["kind"]
        guard let kind, kinds.contains(kind) else { throw ModelError.wrongKind(found: kind, expected: kinds[0]) }
        guard let json = meta["config"] else { throw ModelError.badConfig("no config") }
        let config: Config
        do { config = try JSONDecoder().decode(Config.self, from: Data(json.utf8)) } catch { throw ModelError.badConfig("unreadable config") }
        guard config.isValid else { throw ModelError.badConfig(json) }
        return (tensors, meta, config)
    }

    /// The model in a file whose kind is one of `kinds`: made by `make` from the file's checked
    /// config, its parameters (`parameters` of it) filled from the file's tensors; with the file's
    /// metadata. `optional` names the parameters a file may lack.
    static func model<Config: StoredModelConfig, Model>(in bytes: [UInt8], kinds: [String], config: Config.Type,
                                                       make: (Config) -> Model, parameters: (Model) -> ParameterStore,
                                                       optional: (Param) -> Bool = { _ in false }) throws -> (Model, [String: String]) {
        let file = try read(bytes, kinds: kinds, config: Config.self)
        let model = ParameterStore.withoutInitialValues { make(file.config) }
        try load(file.tensors, into: parameters(model), optional: optional)
        return (model, file.metadata)
    }

    /// A weights file: `entries`, with `metadata` and the file's kind, the model's name and config.
    static func write(_ entries: [SafeTensors.Entry], kind: String, name: String, config: some StoredModelConfig,
                      metadata: [String: String]) -> [UInt8] {
        var meta = metadata
        meta["kind"] = kind
        meta["name"] = name
        meta["config"] = config.json
        return SafeTensors.write(entries, metadata: meta)
    }

    /// Fills a model's parameters from a file's tensors; `optional` names those a file may lack.
    static func load(_ tensors: SafeTensors.File, into store: ParameterStore,
                     optional: (Param) -> Bool = { _ in false }) throws {
        do { try store.load(tensors, optional: optional) } catch let e as SafeTensors.Error { throw ModelError.weights(e) }
    }

    /// A model's parameters as shipped: matrices and tables in float16, biases, norms and
    /// scalars in float32.
    static func shippedEntries(_ store: ParameterStore) -> [SafeTensors.Entry] {
        entries(of: store.params, in: store, inFloat16: { $0.name.hasSuffix(".weight") && $0.shape.count > 1 })
    }

    /// The tensors of `params`: those `inFloat16` picks in float16, the others in float32.
    static func entries(of params: [Param], in store: ParameterStore, inFloat16: (Param) -> Bool) -> [SafeTensors.Entry] {
        params.map { p in
            SafeTensors.Entry(name: p.name, dtype: inFloat16(p) ? .f16 : .f32, shape: p.shape,
                              values: Array(UnsafeBufferPointer(start: store.value(p), count: p.count)))
        }
    }
}
