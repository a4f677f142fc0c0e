import ArgumentParser
import VQZ

/// --model, shared by every command that runs the tokenizer; the bundled model otherwise.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Tokenizer weights (.safetensors) to use instead of the bundled model.", valueName: "PATH"))
    var model: String?

    func load() throws -> TokenizerModel {
        if let model { return try TokenizerModel(contentsOf: model) }
        return try TokenizerModel.bundled()
    }
}

/// --entropy-prior, for the commands that write or read prior-coded tokens; the bundled prior otherwise.
struct EntropyPriorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Entropy prior weights (from 'vqz train entropy') instead of the bundled one.", valueName: "PATH"))
    var entropyPrior: String?

    /// The prior `--entropy prior` codes with.
    func load() throws -> EntropyPrior {
        if let entropyPrior { return try EntropyPrior(contentsOf: entropyPrior) }
        return try EntropyPrior.bundled()
    }

    /// How a reader finds the prior a file names: --entropy-prior's file, else the bundled one.
    func lookup(_ name: ModelFingerprint) throws -> EntropyPrior? {
        if let entropyPrior {
            let prior = try EntropyPrior(contentsOf: entropyPrior)
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
}
