import Foundation
import NN

/// What goes wrong when a weights file is not the model it claims to be.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case wrongKind(found: String?, expected: String)
    case badConfig(String)
    case weights(SafeTensors.Error)

    public var description: String {
        switch self {
        case .wrongKind(let found, let expected):
            return "weights file is \(found.map { "a \($0)" } ?? "not a vqz model") (expected a \(expected))"
        case .badConfig(let why): return "weights file has a bad model config: \(why)"
        case .weights(let e): return e.description
        }
    }
}

extension VQTokenizer {
    public static let weightsKind = "vqz-tokenizer"

    /// The shipped form of the model: conv weights and codebooks in float16 (each below 0.01 dB,
    /// see docs/MODELS.md), biases in float32, no training state.
    public func exportWeights(name: String, metadata: [String: String] = [:]) -> [UInt8] {
        let shipped = store.params.filter { !$0.name.contains(".ema_") && !$0.name.hasSuffix(".initialized") }
        let inFloat16 = { (p: Param) in p.name.hasSuffix(".weight") || p.name.contains(".codebook.") }
        return ModelFile.write(ModelFile.entries(of: shipped, in: store, inFloat16: inFloat16),
                               kind: Self.weightsKind, name: name, config: config,
                               metadata: metadata.merging(frozenTokens?.metadata ?? [:]) { a, _ in a })
    }

    /// A model from a weights file (shipped weights or a training checkpoint), with the file's metadata.
    public static func load(weights bytes: [UInt8]) throws -> (model: VQTokenizer, metadata: [String: String]) {
        // Training state is absent from shipped weights; a loaded model is fully initialised.
        try ModelFile.model(in: bytes, kinds: [weightsKind, "vqz-tokenizer-checkpoint"], config: TokenizerConfig.self,
                            make: { VQTokenizer(config: $0) }, parameters: \.store,
                            optional: { $0.name.contains(".ema_") || $0.name.hasSuffix(".initialized") })
    }
}

extension TokenizerConfig {
    /// Bounds that keep a hostile config from allocating absurd models.
    public var isValid: Bool {
        (2...6).contains(channels.count) && channels.allSatisfy { (1...1024).contains($0) }
            && (0...8).contains(blocksPerLevel) && (0...16).contains(bottomBlocks)
            && (1...1024).contains(codeDim) && (2...65536).contains(codebookSize) && (1...16).contains(levels)
            && [1, 2, 4].contains(pixelShuffle)
    }
}
