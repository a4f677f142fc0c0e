import Foundation
import Models
import VQZ

/// A model of the shapes captions with a weights file of its own (the text-to-image transformer,
/// the reranker): read from a file or from the binary, and checked against the image tokenizer.
public protocol CaptionModel: AnyObject {
    init(weights bytes: [UInt8]) throws
    /// Its name among the bundled weights (Sources/CBundledModels/weights/NAME.safetensors).
    static var bundledName: String { get }
    /// Throws unless the model reads this tokenizer's tokens.
    func check(_ model: TokenizerModel) throws
}

extension CaptionModel {
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CodecError.cannotReadModel(path) }
        try self.init(weights: [UInt8](data))
    }

    /// The model built into the binary, nil when this build has none.
    public static func bundled() throws -> Self? {
        try BundledWeights.named(bundledName).map { try Self(weights: $0) }
    }
}
