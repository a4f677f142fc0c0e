import ArgumentParser
import Foundation
import Generation
import Models
import NN
import VQZ

/// --model, shared by every command that runs the tokenizer; the bundled model otherwise.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Tokenizer weights (.safetensors) to use instead of the bundled model.", valueName: "path"))
    var model: String?
    @Option(help: ArgumentHelp("Decoder arithmetic: int16 (where the CPU has AVX2, else f32) or f32, the reference.", valueName: "int16|f32"))
    var decoderPrecision: InferencePrecision = .int16
    @Option(help: ArgumentHelp("Encoder arithmetic: f32, or int16 to measure how many tokens it changes.", valueName: "f32|int16"))
    var encoderPrecision: InferencePrecision = .float32

    /// The --model file, else the bundled tokenizer `fallback`, at the chosen precisions.
    func load(default fallback: BundledTokenizer = .photos) throws -> TokenizerModel {
        let loaded = try loadWeights(default: fallback)
        loaded.network.decoderPrecision = decoderPrecision
        loaded.network.encoderPrecision = encoderPrecision
        return loaded
    }

    private func loadWeights(default fallback: BundledTokenizer) throws -> TokenizerModel {
        guard let model else { return try TokenizerModel.bundled(fallback) }
        do {
            return try TokenizerModel(contentsOf: model)
        } catch ModelError.wrongKind(found: Autoencoder.weightsKind, expected: _) {
            // A baseline's float latent has no bitstream: say where it can be used instead.
            throw CLIError(.model, BaselineError.notACodec(model).description)
        } catch let e as ModelError {
            throw CLIError(model: model, e)
        }
    }

    /// For a model of tokens (a prior, a text model, a reranker): the --model file, else the bundled
    /// tokenizer that makes `tokens`, else the bundled `fallback` (which the model's check then refuses by name).
    func load(makingTokens tokens: ModelFingerprint, default fallback: BundledTokenizer) throws -> TokenizerModel {
        if model == nil, let bundled = try TokenizerModel.bundled(tokens: tokens) {
            bundled.network.decoderPrecision = decoderPrecision
            bundled.network.encoderPrecision = encoderPrecision
            return bundled
        }
        return try load(default: fallback)
    }

    /// The --model file as a baseline (autoencoder or VAE), or nil when it is not one (or not given).
    func loadBaseline() throws -> BaselineModel? {
        guard let model, let data = FileManager.default.contents(atPath: model),
              Autoencoder.fileKind(of: [UInt8](data)) == Autoencoder.weightsKind else { return nil }
        return try BaselineModel(weights: [UInt8](data), fallbackName: URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent)
    }
}

/// --entropy-prior, for the commands that write or read prior-coded tokens; the bundled prior otherwise.
struct EntropyPriorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Entropy prior weights (from 'vqz train entropy') instead of the bundled one.", valueName: "path"))
    var entropyPrior: String?

    /// The prior `--entropy prior` codes `model`'s tokens with.
    func load(for model: TokenizerModel) throws -> EntropyPrior {
        if let entropyPrior { return try loadingModel(entropyPrior) { try EntropyPrior(contentsOf: entropyPrior) } }
        return try EntropyPrior.bundled(for: model)
    }

    /// How a reader finds the prior a file names: --entropy-prior's file, else the bundled one.
    func lookup(_ name: ModelFingerprint) throws -> EntropyPrior? {
        if let entropyPrior {
            let prior = try loadingModel(entropyPrior) { try EntropyPrior(contentsOf: entropyPrior) }
            if prior.fingerprint == name { return prior }
        }
        return try EntropyPrior.bundledIfNamed(name)
    }
}

extension InferencePrecision: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "f32": self = .float32
        case "int16": self = .int16
        default: return nil
        }
    }

    public var defaultValueDescription: String { self == .int16 ? "int16" : "f32" }
}

/// `--entropy zstd|prior`: the coder by name (the header stores it as 0 or 1, which the parser
/// would otherwise list and parse).
enum TokenCoding: String, CaseIterable, ExpressibleByArgument {
    case zstd, prior

    var coder: EntropyCoder { self == .zstd ? .zstd : .prior }
}

extension CLIError {
    /// A weights file that is not the model it should be, named: "PATH: what is wrong".
    init(model path: String, _ error: ModelError) { self.init(.model, "\(path): \(error)") }
}

/// Loads a model file, naming it in the error when its contents are not that model.
func loadingModel<T>(_ path: String, _ load: () throws -> T) throws -> T {
    do { return try load() } catch let e as ModelError { throw CLIError(model: path, e) }
}
