import ArgumentParser
import Foundation
import Models
import VQZ

/// --model, shared by every command that runs the tokenizer; the bundled model otherwise.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Tokenizer weights (.safetensors) to use instead of the bundled model.", valueName: "PATH"))
    var model: String?

    /// The --model file, else the bundled tokenizer `fallback`.
    func load(default fallback: BundledTokenizer = .photos) throws -> TokenizerModel {
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

    /// For a model of tokens (a text model, a reranker): the --model file, else the bundled
    /// tokenizer that makes `tokens`, else the bundled `fallback` (which the model's check then refuses by name).
    func load(makingTokens tokens: ModelFingerprint, default fallback: BundledTokenizer) throws -> TokenizerModel {
        if model == nil, let bundled = try TokenizerModel.bundled(tokens: tokens) { return bundled }
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
    @Option(help: ArgumentHelp("Entropy prior weights (from 'vqz train entropy') instead of the bundled one.", valueName: "PATH"))
    var entropyPrior: String?

    /// The prior `--entropy prior` codes with.
    func load() throws -> EntropyPrior {
        if let entropyPrior { return try loadingModel(entropyPrior) { try EntropyPrior(contentsOf: entropyPrior) } }
        return try EntropyPrior.bundled()
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

extension EntropyCoder: ExpressibleByArgument {
    public init?(argument: String) {
        guard let coder = EntropyCoder.allCases.first(where: { $0.description == argument }) else { return nil }
        self = coder
    }

    // The names, not the header's raw values 0 and 1, which the parser would list by default.
    public static var allValueStrings: [String] { allCases.map(\.description) }
    public var defaultValueDescription: String { description }
}

extension CLIError {
    /// A weights file that is not the model it should be, named: "PATH: what is wrong".
    init(model path: String, _ error: ModelError) { self.init(.model, "\(path): \(error)") }
}

/// Loads a model file, naming it in the error when its contents are not that model.
func loadingModel<T>(_ path: String, _ load: () throws -> T) throws -> T {
    do { return try load() } catch let e as ModelError { throw CLIError(model: path, e) }
}
