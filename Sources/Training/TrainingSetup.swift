import Foundation
import Models
import NN
import VQZ

/// What the training setups refuse, before a step is taken.
public enum TrainingSetupError: Error, Equatable, CustomStringConvertible {
    /// The checkpoint's model was trained on the tokens of another tokenizer.
    case otherTokenizer(checkpoint: String, tokenizer: String)
    /// `--decoder-only` given for a checkpoint that is not of such a run, or missing for one that is.
    case notDecoderOnly(checkpoint: String)
    case decoderOnly(checkpoint: String)
    /// The checkpoint is not of the model the command trains (`what`: "a prior", ...).
    case notACheckpoint(String, of: String)
    case otherPriorKind(checkpoint: String, holds: String, wanted: String)
    /// `--init` weights that cannot start this run.
    case cannotStart(String)
    /// A folder of training pictures that is not a folder, or that holds no picture vqz can read.
    case notAFolder(String)
    case noImages(String)

    public var description: String {
        switch self {
        case .otherTokenizer(let path, let tokenizer): return "\(path) was trained on the tokens of another tokenizer than \(tokenizer)"
        case .notDecoderOnly(let path): return "\(path) is not the checkpoint of a --decoder-only run"
        case .decoderOnly(let path): return "\(path) is the checkpoint of a --decoder-only run; resume it with --decoder-only"
        case .notACheckpoint(let path, let what): return "\(path) is not \(what) checkpoint"
        case .otherPriorKind(let path, let holds, let wanted): return "\(path) holds a \(holds) prior, not a \(wanted) one"
        case .cannotStart(let why): return why
        case .notAFolder(let path): return "\(path) is not a folder"
        case .noImages(let path): return "no readable images in \(path)"
        }
    }
}

/// Steps a model was trained before this run, its whole ancestry: a run started with `--init` counts
/// the initial weights' steps and their own `init_steps`, and keeps the sum in its checkpoints, so a
/// chain of continuations and resumptions still says in its weights how long the model trained in all.
public enum TrainingLineage {
    public static let key = "init_steps"

    /// What a run starting from weights with this metadata has behind it ("?" when they do not say).
    public static func stepsBefore(_ initial: [String: String]) -> String {
        guard let steps = initial["steps"].flatMap(Int.init) else { return "?" }
        guard let before = initial[key] else { return String(steps) }
        return Int(before).map { String($0 + steps) } ?? "?"
    }
}

/// The metadata of a checkpoint or weights file: what a resume reads before building the model
/// (whose shape the checkpoint decides).
public func checkpointMetadata(at path: String) throws -> [String: String] {
    try SafeTensors.read([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))).metadata
}

extension Trainer {
    /// Starts a run for `tokenizer`'s tokens: checkpoints and weights record them.
    public func recordTokens(of tokenizer: TokenizerModel) {
        metadata.merge(TokenizerRecord.metadata(tokenizer)) { _, new in new }
    }

    /// Starts from weights with metadata `initial` (`--init`): the run counts their steps.
    public func continueLineage(of initial: [String: String]) {
        metadata[TrainingLineage.key] = TrainingLineage.stepsBefore(initial)
    }

    /// Continues from a checkpoint, refusing one trained on another tokenizer's tokens than
    /// `tokenizer`'s; the run keeps the checkpoint's lineage.
    public func resume(from path: String, tokenizer: TokenizerModel) throws {
        let saved = try resume(from: path)
        guard saved[TokenizerRecord.digestKey] == tokenizer.tokens.digestHex else {
            throw TrainingSetupError.otherTokenizer(checkpoint: path, tokenizer: tokenizer.tokens.description)
        }
        metadata[TrainingLineage.key] = saved[TrainingLineage.key]
    }
}

/// What `vqz train tokenizer --kind` trains.
public enum TokenizerKind: String, CaseIterable, Sendable {
    case vq, ae, vae

    public var baseline: AutoencoderKind? { AutoencoderKind(rawValue: rawValue) }
}

/// The model a tokenizer run starts from, by the rules of `vqz train tokenizer`: a baseline
/// (--kind ae|vae) fresh; the VQ tokenizer of --init weights (their shape wins; with
/// --decoder-only its tokens are frozen under the initial weights' lineage); or a fresh VQ
/// tokenizer, whose checkpoint, when resumed, must agree with --decoder-only.
public struct TokenizerStart {
    public let model: any TrainableTokenizer
    public let parameterCount: Int
    /// What started it, for the log: nil for a fresh model.
    public let initWeights: String?
    /// The steps the --init weights record having trained (their metadata's "steps"), if they say.
    public private(set) var initialSteps: Int?
    private let export: (String, [String: String]) -> [UInt8]

    public init(kind: TokenizerKind, config: TokenizerConfig, seed: UInt64, beta: Float, initWeights: String?,
                decoderOnly: Bool, resuming checkpoint: String?) throws {
        self.initWeights = initWeights
        if let baseline = kind.baseline {
            let autoencoder = Autoencoder(config: AutoencoderConfig(kind: baseline, sameNetworksAs: config), seed: seed)
            autoencoder.beta = beta
            (model, parameterCount) = (autoencoder, autoencoder.parameterCount)
            export = { autoencoder.exportWeights(name: $0, metadata: $1) }
        } else if let initWeights {
            guard let data = FileManager.default.contents(atPath: initWeights) else { throw CodecError.cannotReadModel(initWeights) }
            let (tokenizer, metadata) = try VQTokenizer.load(weights: [UInt8](data))
            initialSteps = metadata["steps"].flatMap(Int.init).flatMap { $0 >= 0 ? $0 : nil }
            tokenizer.quantizer.adoptLoadedCodebooks()
            if decoderOnly { tokenizer.frozenTokens = try TokenizerModel(weights: [UInt8](data), fallbackName: "init").tokenLineage }
            (model, parameterCount) = (tokenizer, tokenizer.parameterCount)
            export = { tokenizer.exportWeights(name: $0, metadata: $1) }
        } else {
            let tokenizer = VQTokenizer(config: config, seed: seed)
            if let checkpoint { tokenizer.frozenTokens = try Self.frozenTokens(inCheckpoint: checkpoint, decoderOnly: decoderOnly) }
            (model, parameterCount) = (tokenizer, tokenizer.parameterCount)
            export = { tokenizer.exportWeights(name: $0, metadata: $1) }
        }
    }

    /// The shipped weights (float16), named `name`, with `metadata`.
    public func exportWeights(name: String, metadata: [String: String]) -> [UInt8] { export(name, metadata) }

    /// The token lineage a checkpoint was trained under, checked against --decoder-only.
    static func frozenTokens(inCheckpoint path: String, decoderOnly: Bool) throws -> TokenLineage? {
        let lineage = TokenLineage(metadata: try checkpointMetadata(at: path))
        if decoderOnly && lineage == nil { throw TrainingSetupError.notDecoderOnly(checkpoint: path) }
        if !decoderOnly && lineage != nil { throw TrainingSetupError.decoderOnly(checkpoint: path) }
        return lineage
    }
}
