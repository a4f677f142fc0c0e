import ArgumentParser
import VQZ

/// --scales, shared by the commands that tokenize a folder of pictures for a prior.
struct ScaleOptions: ParsableArguments {
    @Option(help: "Scales to tokenize the pictures at, comma-separated: 1 full size, 2 half, 4 quarter, 8.")
    var scales = "2,4"

    var factors: [Int] { scales.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        if factors.isEmpty || factors.count != scales.split(separator: ",").count || !factors.allSatisfy([1, 2, 4, 8].contains) {
            throw ValidationError("--scales takes factors from 1, 2, 4, 8 separated by commas")
        }
    }
}

/// Refuses to continue a checkpoint trained on another tokenizer's tokens.
func requireSameTokenizer(_ checkpointMetadata: [String: String], path: String, tokenizer: TokenizerModel) throws {
    guard checkpointMetadata[PriorModel.tokenizerDigestKey] == tokenizer.tokens.digestHex else {
        throw CLIError(.model, "\(path) was trained on the tokens of another tokenizer than \(tokenizer.tokens)")
    }
}
