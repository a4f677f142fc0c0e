/// The shape of a VQ-VAE tokenizer. Stored in the weights' metadata so a file says what it is.
public struct TokenizerConfig: Codable, Equatable, Sendable {
    /// Channels at each resolution, full resolution first; each step down halves H and W,
    /// so the downsampling factor is 2^(channels.count - 1).
    public var channels: [Int]
    /// Residual blocks at each resolution above the bottom, and at the bottom.
    public var blocksPerLevel: Int
    public var bottomBlocks: Int
    public var codeDim: Int
    public var codebookSize: Int
    public var levels: Int
    /// The side of the pixel blocks that the encoder folds into channels before its first
    /// convolution (SpaceToDepth) and the decoder unfolds at its end (DepthToSpace); 1: none.
    public var pixelShuffle: Int

    public init(channels: [Int] = [32, 64, 128, 128], blocksPerLevel: Int = 1, bottomBlocks: Int = 2,
                codeDim: Int = 32, codebookSize: Int = 1024, levels: Int = 4, pixelShuffle: Int = 1) {
        self.pixelShuffle = pixelShuffle
        self.channels = channels
        self.blocksPerLevel = blocksPerLevel
        self.bottomBlocks = bottomBlocks
        self.codeDim = codeDim
        self.codebookSize = codebookSize
        self.levels = levels
    }

    public var downsampling: Int { pixelShuffle << (channels.count - 1) }

    /// Floats per input pixel of the largest activation, the one that sizes a tile's memory: the
    /// full-resolution 32 channels of the first photo tokenizer, 16 for v2's 64 at half resolution.
    public var widestActivationPerPixel: Int {
        channels.enumerated().map { i, c in c / ((pixelShuffle << i) * (pixelShuffle << i)) }.max() ?? 0
    }

    /// Bits one level's tokens take per pixel before entropy coding.
    public var bitsPerPixelPerLevel: Double {
        log2(Double(codebookSize)) / Double(downsampling * downsampling)
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension TokenizerConfig {
    private enum CodingKeys: String, CodingKey {
        case channels, blocksPerLevel, bottomBlocks, codeDim, codebookSize, levels, pixelShuffle
    }

    /// Files written before `pixelShuffle` existed have none: they are 1.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(channels: try c.decode([Int].self, forKey: .channels),
                  blocksPerLevel: try c.decode(Int.self, forKey: .blocksPerLevel),
                  bottomBlocks: try c.decode(Int.self, forKey: .bottomBlocks),
                  codeDim: try c.decode(Int.self, forKey: .codeDim),
                  codebookSize: try c.decode(Int.self, forKey: .codebookSize),
                  levels: try c.decode(Int.self, forKey: .levels),
                  pixelShuffle: try c.decodeIfPresent(Int.self, forKey: .pixelShuffle) ?? 1)
    }

    /// Writes `pixelShuffle` only where it is not 1, so a shape that existed before it is
    /// written as it always was (its checkpoints still resume).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(channels, forKey: .channels)
        try c.encode(blocksPerLevel, forKey: .blocksPerLevel)
        try c.encode(bottomBlocks, forKey: .bottomBlocks)
        try c.encode(codeDim, forKey: .codeDim)
        try c.encode(codebookSize, forKey: .codebookSize)
        try c.encode(levels, forKey: .levels)
        if pixelShuffle != 1 { try c.encode(pixelShuffle, forKey: .pixelShuffle) }
    }
}
