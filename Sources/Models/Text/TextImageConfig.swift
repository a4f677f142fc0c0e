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
    /// Layout positions between the text and the image (P; 0: none) and their ids
    /// 0..<layoutVocabulary: a scene's plan the model draws first and then paints (Make-A-Scene's
    /// scene tokens), so that how many shapes and where is decided before the first image token.
    public var layoutLength: Int
    public var layoutVocabulary: Int
    /// The layout's map: per image position, one id in each channel's 0..<vocabulary (0: nothing
    /// there), a function of the layout the caller supplies, whose embeddings the position's input
    /// adds (Make-A-Scene's segmentation tokens, given rather than drawn). Empty: no map.
    public var mapVocabularies: [Int]
    /// Parts of the map (sets of its channels, e.g. the shapes' kinds alone) that the empty caption
    /// was also trained to read alone, so that sampling can compose them: each part's pull on the
    /// picture added to the caption's (composable guidance). Empty: the empty caption reads no map.
    public var mapParts: [[Int]]

    public init(codebookSize: Int = 1024, textVocabulary: Int, textLength: Int = 40, width: Int = 256, layers: Int = 4,
                heads: Int = 4, rows: Int = 16, cols: Int = 16, layoutLength: Int = 0, layoutVocabulary: Int = 0,
                mapVocabularies: [Int] = [], mapParts: [[Int]] = []) {
        self.codebookSize = codebookSize
        self.textVocabulary = textVocabulary
        self.textLength = textLength
        self.width = width
        self.layers = layers
        self.heads = heads
        self.rows = rows
        self.cols = cols
        self.layoutLength = layoutLength
        self.layoutVocabulary = layoutVocabulary
        self.mapVocabularies = mapVocabularies
        self.mapParts = mapParts
    }

    /// Whether the model draws a layout before the image.
    public var hasLayout: Bool { layoutLength > 0 }
    /// Whether the image positions read a map of the layout.
    public var hasMap: Bool { !mapVocabularies.isEmpty }

    public var isValid: Bool {
        (2...65536).contains(codebookSize) && (1...65536).contains(textVocabulary) && (1...1024).contains(textLength)
            && blocksAreValid(width: width, layers: layers, heads: heads)
            && (1...64).contains(rows) && (1...64).contains(cols)
            && (0...256).contains(layoutLength) && (layoutLength == 0 ? layoutVocabulary == 0 : (2...4096).contains(layoutVocabulary))
            && (mapVocabularies.isEmpty || (layoutLength > 0 && mapVocabularies.count <= 8 && mapVocabularies.allSatisfy { (2...65536).contains($0) }))
            && mapParts.count <= 8
            && mapParts.allSatisfy { !$0.isEmpty && Set($0).count == $0.count && $0.allSatisfy { mapVocabularies.indices.contains($0) } }
    }

    public init(json: String) throws { self = try JSONDecoder().decode(TextImageConfig.self, from: Data(json.utf8)) }

    private enum CodingKeys: String, CodingKey {
        case codebookSize, textVocabulary, textLength, width, layers, heads, rows, cols, layoutLength, layoutVocabulary, mapVocabularies, mapParts
    }

    /// Files written before layouts (or maps, or their parts) existed have no such keys: they draw none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        codebookSize = try c.decode(Int.self, forKey: .codebookSize)
        textVocabulary = try c.decode(Int.self, forKey: .textVocabulary)
        textLength = try c.decode(Int.self, forKey: .textLength)
        width = try c.decode(Int.self, forKey: .width)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        rows = try c.decode(Int.self, forKey: .rows)
        cols = try c.decode(Int.self, forKey: .cols)
        layoutLength = try c.decodeIfPresent(Int.self, forKey: .layoutLength) ?? 0
        layoutVocabulary = try c.decodeIfPresent(Int.self, forKey: .layoutVocabulary) ?? 0
        mapVocabularies = try c.decodeIfPresent([Int].self, forKey: .mapVocabularies) ?? []
        mapParts = try c.decodeIfPresent([[Int]].self, forKey: .mapParts) ?? []
    }
}
