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
