import Foundation

/// The shape of a text-to-image transformer. Stored in its weights' metadata.
public struct TextImageConfig: Codable, Equatable, Sendable {
    /// K: the image tokenizer's codebook size.
    public var codebookSize: Int
    /// Text ids 0..<textVocabulary (0 is padding).
    public var textVocabulary: Int
    /// Text positions before the image (L).
    public var textLength: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    /// The image's token grid (rows x cols, raster order).
    public var rows: Int
    public var cols: Int

    public init(codebookSize: Int = 1024, textVocabulary: Int, textLength: Int = 40, width: Int = 256, layers: Int = 4,
                heads: Int = 4, rows: Int = 16, cols: Int = 16) {
        self.codebookSize = codebookSize
        self.textVocabulary = textVocabulary
        self.textLength = textLength
        self.width = width
        self.layers = layers
        self.heads = heads
        self.rows = rows
        self.cols = cols
    }

    public var isValid: Bool {
        (2...65536).contains(codebookSize) && (1...65536).contains(textVocabulary) && (1...1024).contains(textLength)
            && (1...2048).contains(width) && (1...64).contains(layers) && (1...64).contains(heads) && width % heads == 0
            && (1...64).contains(rows) && (1...64).contains(cols)
    }

    public init(json: String) throws { self = try JSONDecoder().decode(TextImageConfig.self, from: Data(json.utf8)) }
}
