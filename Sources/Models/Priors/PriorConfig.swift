import Foundation

/// The priors over token grids: the VQ-VAE paper's gated PixelCNN, DALL-E's causal transformer
/// and MaskGIT's bidirectional masked-token transformer.
public enum PriorKind: String, Codable, CaseIterable, Sendable {
    case pixelcnn, transformer, masked
}

/// The shape of a prior. Stored in the weights' metadata so a file says what it is.
public struct PriorConfig: Codable, Equatable, Sendable {
    public var kind: PriorKind
    /// K: the tokenizer's codebook size (tokens are 0..<K).
    public var codebookSize: Int
    /// PixelCNN: channels of each stack. Transformers: model width D.
    public var width: Int
    public var layers: Int
    /// PixelCNN: the masked convolutions' kernel side (odd).
    public var kernel: Int
    /// Transformers: attention heads.
    public var heads: Int
    /// Transformers: the largest grid their row and column embeddings cover (the raster one's
    /// context is maxRows * maxCols tokens plus the start token). The PixelCNN is convolutional and takes any size.
    public var maxRows: Int
    public var maxCols: Int

    public init(kind: PriorKind, codebookSize: Int = 1024, width: Int? = nil, layers: Int? = nil,
                kernel: Int = 3, heads: Int = 4, maxRows: Int = 16, maxCols: Int = 16) {
        self.kind = kind
        self.codebookSize = codebookSize
        self.width = width ?? (kind == .pixelcnn ? 128 : 256)
        self.layers = layers ?? (kind == .pixelcnn ? 6 : 4)
        self.kernel = kernel
        self.heads = heads
        self.maxRows = maxRows
        self.maxCols = maxCols
    }

    /// Bounds that keep a hostile config from allocating absurd models.
    public var isValid: Bool {
        (2...65536).contains(codebookSize) && blocksAreValid(width: width, layers: layers, heads: heads)
            && kernel % 2 == 1 && (1...9).contains(kernel) && (1...256).contains(maxRows) && (1...256).contains(maxCols)
    }


    public init(json: String) throws { self = try JSONDecoder().decode(PriorConfig.self, from: Data(json.utf8)) }
}
