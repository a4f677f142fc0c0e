/// The codebook indices of one image: `levels[l]` holds the gw x gh grid of level l in raster
/// order (row by row, left to right). Level 0 is the coarsest; each further residual level
/// refines it. `codebookSizes[l]` is K for level l, so every index of level l is < K.
public struct TokenGrid: Equatable, Sendable {
    /// Largest grid side the container stores (a 16-bit field).
    public static let maxSide = 65535
    public static let maxLevels = 16
    /// K is 2...65536, so an index always fits in 16 bits.
    public static let codebookSizeRange = 2...65536

    public var width: Int
    public var height: Int
    public var levels: [[UInt16]]
    public var codebookSizes: [Int]

    public init(width: Int, height: Int, levels: [[UInt16]], codebookSizes: [Int]) {
        self.width = width
        self.height = height
        self.levels = levels
        self.codebookSizes = codebookSizes
    }

    public var count: Int { width * height }

    /// The first `n` levels: what a file of quality level n holds (residual levels are a prefix).
    public func prefix(levels n: Int) -> TokenGrid {
        TokenGrid(width: width, height: height, levels: Array(levels.prefix(n)), codebookSizes: Array(codebookSizes.prefix(n)))
    }

    public subscript(level: Int, x: Int, y: Int) -> UInt16 {
        get { levels[level][y * width + x] }
        set { levels[level][y * width + x] = newValue }
    }

    /// Throws the error the reader would give for a file holding this grid.
    public func validate() throws {
        try Self.checkShape(width: width, height: height, codebookSizes: codebookSizes)
        guard levels.count == codebookSizes.count else {
            throw ContainerError.inconsistent("\(levels.count) levels but \(codebookSizes.count) codebook sizes")
        }
        for (l, (tokens, k)) in zip(levels, codebookSizes).enumerated() {
            try Self.checkLevel(tokens, level: l, codebookSize: k, count: count)
        }
    }

    /// The header's part of the rules: grid sides, number of levels, codebook sizes.
    static func checkShape(width: Int, height: Int, codebookSizes: [Int]) throws {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height) else {
            throw ContainerError.overLimit("grid \(width)x\(height) (each side must be 1...\(maxSide))")
        }
        guard (1...maxLevels).contains(codebookSizes.count) else {
            throw ContainerError.overLimit("\(codebookSizes.count) quality levels (must be 1...\(maxLevels))")
        }
        for (l, k) in codebookSizes.enumerated() where !codebookSizeRange.contains(k) {
            throw ContainerError.overLimit("codebook size \(k) at level \(l) (must be 2...65536)")
        }
    }

    /// The payload's part: the right number of indices, each below its codebook size.
    static func checkLevel(_ tokens: [UInt16], level: Int, codebookSize k: Int, count: Int) throws {
        guard tokens.count == count else {
            throw ContainerError.inconsistent("level \(level) has \(tokens.count) tokens, grid needs \(count)")
        }
        if let bad = tokens.first(where: { Int($0) >= k }) {
            throw ContainerError.inconsistent("token \(bad) at level \(level) is not below codebook size \(k)")
        }
    }
}
