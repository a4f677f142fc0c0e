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
    guard checkpointMetadata[TokenizerRecord.digestKey] == tokenizer.tokens.digestHex else {
        throw CLIError(.model, "\(path) was trained on the tokens of another tokenizer than \(tokenizer.tokens)")
    }
}

/// Steps a model was trained before this run, its whole ancestry: a run started with `--init` counts
/// the initial weights' steps and their own `init_steps`, and keeps the sum in its checkpoints, so a
/// chain of continuations and resumptions still says in its weights how long the model trained in all.
enum TrainingLineage {
    static let key = "init_steps"

    /// What a run starting from weights with this metadata has behind it ("?" when they do not say).
    static func stepsBefore(_ initial: [String: String]) -> String {
        guard let steps = initial["steps"].flatMap(Int.init) else { return "?" }
        guard let before = initial[key] else { return String(steps) }
        return Int(before).map { String($0 + steps) } ?? "?"
    }
}
