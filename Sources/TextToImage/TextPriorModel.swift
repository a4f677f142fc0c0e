import Foundation
import Generation
import Models
import Shapes
import VQZ

/// A text-to-image transformer ready to sample, with its text tokenizer and the fingerprint of
/// the image tokenizer whose tokens it models.
public final class TextPriorModel: CaptionModel, @unchecked Sendable {
    public static let bundledName = "text-shapes"

    public let network: TextImageTransformer
    public let text: TextTokenizer
    public let metadata: [String: String]
    public let tokenizer: ModelFingerprint

    public init(weights bytes: [UInt8]) throws {
        let (model, text, meta) = try TextImageModels.load(weights: bytes)
        guard let tokenizer = TokenizerRecord.read(meta) else {
            throw ModelError.badConfig("the text model's weights do not say which tokenizer they were trained for")
        }
        if model.config.hasLayout && (model.config.layoutLength, model.config.layoutVocabulary) != (SceneLayout.length, SceneLayout.vocabulary) {
            throw ModelError.badConfig("the text model draws layouts of \(model.config.layoutLength) ids of \(model.config.layoutVocabulary), not this version's scene layouts (\(SceneLayout.length) of \(SceneLayout.vocabulary))")
        }
        if model.config.hasMap && SceneLayout.MapStyle(vocabularies: model.config.mapVocabularies) == nil {
            let known = SceneLayout.MapStyle.allCases.map { "\($0.vocabularies)" }.joined(separator: " or ")
            throw ModelError.badConfig("the text model reads layout maps of \(model.config.mapVocabularies) ids, not this version's (\(known))")
        }
        if !model.config.mapParts.isEmpty && model.config.mapParts != SceneLayout.mapParts {
            throw ModelError.badConfig("the text model composes map parts \(model.config.mapParts), not this version's (\(SceneLayout.mapParts))")
        }
        network = model
        self.text = text
        metadata = meta
        self.tokenizer = tokenizer
    }

    /// Throws unless the model draws this tokenizer's tokens.
    public func check(_ model: TokenizerModel) throws {
        try PriorModel.requireTokens(tokenizer, codebookSize: network.config.codebookSize, of: model)
    }
}
