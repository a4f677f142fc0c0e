import Foundation

/// The shape of a contrastive reranker. Stored in its weights' metadata.
public struct RerankerConfig: Codable, Equatable, Sendable {
    /// K: the image tokenizer's codebook size.
    public var codebookSize: Int
    /// Text ids 0..<textVocabulary (0 is padding).
    public var textVocabulary: Int
    /// L: text positions.
    public var textLength: Int
    /// The level-1 token grid (rows x cols, raster order).
    public var rows: Int
    public var cols: Int
    /// The text encoder: width and causal transformer blocks.
    public var width: Int
    public var layers: Int
    public var heads: Int
    /// The width of a token's fixed features (the image tokenizer's code vectors).
    public var codeDim: Int
    /// nil: the picture side reads token grids, each token as its code vector. c: it reads
    /// pictures of (cols c) x (rows c) RGB pixels instead, each grid cell's c x c x 3 values as
    /// the cell's features (decoded candidates, scaled down).
    public var pictureCell: Int?
    /// The image encoder's channels.
    public var channels: Int
    /// E: the shared embedding space.
    public var embedding: Int

    public init(codebookSize: Int = 1024, textVocabulary: Int, textLength: Int = 40, rows: Int = 16, cols: Int = 16,
                width: Int = 64, layers: Int = 2, heads: Int = 4, codeDim: Int = 32, pictureCell: Int? = nil, channels: Int = 64, embedding: Int = 64) {
        self.codebookSize = codebookSize
        self.textVocabulary = textVocabulary
        self.textLength = textLength
        self.rows = rows
        self.cols = cols
        self.width = width
        self.layers = layers
        self.heads = heads
        self.codeDim = codeDim
        self.pictureCell = pictureCell
        self.channels = channels
        self.embedding = embedding
    }

    public var isValid: Bool {
        (2...65536).contains(codebookSize) && (1...65536).contains(textVocabulary) && (1...1024).contains(textLength)
            && (1...64).contains(rows) && (1...64).contains(cols) && blocksAreValid(width: width, layers: layers, heads: heads, maxWidth: 1024, maxLayers: 16)
            && (1...1024).contains(codeDim) && (1...16).contains(pictureCell ?? 1) && (1...1024).contains(channels) && (1...1024).contains(embedding)
    }

    /// The width of a grid cell's features: a code vector, or a cell's pixels.
    public var cellFeatures: Int { pictureCell.map { $0 * $0 * 3 } ?? codeDim }

    /// The size of the pictures the reranker reads, when it reads pictures.
    public var pictureSize: (width: Int, height: Int)? { pictureCell.map { (cols * $0, rows * $0) } }
}
