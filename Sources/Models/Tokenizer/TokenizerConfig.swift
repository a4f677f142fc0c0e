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

    public init(channels: [Int] = [32, 64, 128, 128], blocksPerLevel: Int = 1, bottomBlocks: Int = 2,
                codeDim: Int = 32, codebookSize: Int = 1024, levels: Int = 4) {
        self.channels = channels
        self.blocksPerLevel = blocksPerLevel
        self.bottomBlocks = bottomBlocks
        self.codeDim = codeDim
        self.codebookSize = codebookSize
        self.levels = levels
    }

    public var downsampling: Int { 1 << (channels.count - 1) }

    /// Bits one level's tokens take per pixel before entropy coding.
    public var bitsPerPixelPerLevel: Double {
        log2(Double(codebookSize)) / Double(downsampling * downsampling)
    }
}

#if canImport(Glibc)
import Glibc
#endif
