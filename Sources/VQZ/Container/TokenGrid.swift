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
    /// How many levels each position has (1...levels.count, raster order), where rate control
    /// stopped some positions early; nil when every position has every level. A position's
    /// tokens beyond its depth are not stored and read as 0 here.
    public var depth: [UInt8]?

    public init(width: Int, height: Int, levels: [[UInt16]], codebookSizes: [Int], depth: [UInt8]? = nil) {
        self.width = width
        self.height = height
        self.levels = levels
        self.codebookSizes = codebookSizes
        self.depth = depth
    }

    public var count: Int { width * height }

    /// The tokens stored at every level together.
    public var tokenCount: Int {
        depth.map { $0.reduce(0) { $0 + Int($1) } } ?? levels.count * count
    }

    /// The positions that have a token at level l, in raster order.
    public func positions(atLevel l: Int) -> [Int] {
        guard let depth else { return Array(0..<count) }
        return depth.indices.filter { Int(depth[$0]) > l }
    }

    /// Level l's stored tokens: those of `positions(atLevel: l)`.
    public func storedTokens(atLevel l: Int) -> [UInt16] {
        guard depth != nil else { return levels[l] }
        return positions(atLevel: l).map { levels[l][$0] }
    }

    /// The grid with each position cut to `depth` levels (1...levels.count), in the canonical form
    /// the container stores: levels no position reaches dropped, tokens beyond a depth zeroed, and
    /// no depth map when every position keeps every remaining level.
    public func cut(toDepth depth: [UInt8]) -> TokenGrid {
        precondition(depth.count == count && depth.allSatisfy { (1...levels.count).contains(Int($0)) })
        let deepest = Int(depth.max() ?? 1)
        var kept = Array(levels.prefix(deepest))
        for l in 1..<deepest {
            for i in 0..<count where Int(depth[i]) <= l { kept[l][i] = 0 }
        }
        let uniform = depth.allSatisfy { Int($0) == deepest }
        return TokenGrid(width: width, height: height, levels: kept, codebookSizes: Array(codebookSizes.prefix(deepest)),
                         depth: uniform ? nil : depth)
    }

    /// Level l's tokens as the decoder's networks take them: -1 where a position has no token.
    public func decoderIndices(atLevel l: Int) -> [Int32] {
        guard let depth else { return levels[l].map { Int32($0) } }
        return (0..<count).map { Int(depth[$0]) > l ? Int32(levels[l][$0]) : -1 }
    }

    /// The first `n` levels: what a file of quality level n holds (residual levels are a prefix).
    public func prefix(levels n: Int) -> TokenGrid {
        guard let depth else {
            return TokenGrid(width: width, height: height, levels: Array(levels.prefix(n)), codebookSizes: Array(codebookSizes.prefix(n)))
        }
        return cut(toDepth: depth.map { min($0, UInt8(n)) })
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
        if let depth { try Self.checkDepth(depth, levels: levels.count, count: count) }
    }

    /// A depth map's rules: one entry per position, each 1...L, some position at L (else the
    /// deepest level would hold nothing) and not all at L (else the map says nothing).
    static func checkDepth(_ depth: [UInt8], levels: Int, count: Int) throws {
        guard depth.count == count else {
            throw ContainerError.inconsistent("depth map of \(depth.count) entries for \(count) positions")
        }
        if let bad = depth.first(where: { $0 < 1 || Int($0) > levels }) {
            throw ContainerError.inconsistent("depth \(bad) in the depth map (must be 1...\(levels))")
        }
        guard depth.contains(UInt8(levels)) else {
            throw ContainerError.inconsistent("depth map reaches no position of level \(levels)")
        }
        guard depth.contains(where: { Int($0) < levels }) else {
            throw ContainerError.inconsistent("depth map gives every position all \(levels) levels")
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
