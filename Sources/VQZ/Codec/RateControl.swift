import Foundation

/// What a compress keeps of the model's residual levels.
public enum Quality: Equatable, Sendable {
    /// Every position keeps the first n levels.
    case levels(Int)
    /// A point of the 0-100 scale: 0 keeps level 1 everywhere, 100 every level everywhere; in
    /// between, each position keeps the levels whose gain in fidelity is worth their bits there.
    case scale(Double)

    public static let scaleRange = 0.0...100.0
    public static let `default` = Quality.scale(75)
}

/// Rate control: how many levels each grid position keeps. The encoder runs once at every level
/// and records what each level leaves of the latent at each position; a point of the quality scale
/// is a price per bit, lambda, and each position keeps the depth d that minimises
/// residual(d) + lambda * bits(d). Smooth sky stops at level 1, fine detail takes every level.
/// A lower lambda never makes a position shallower, so bytes and fidelity grow with the quality.
public struct RateControl: Sendable {
    /// The image at every level and every position.
    public let file: VQZFile
    /// residual[l][i]: the squared latent error left at position i after level l + 1, in units of
    /// level 1's mean code energy (so one scale fits every model).
    public let residual: [[Float]]

    public init(file: VQZFile, residual: [[Float]]) {
        precondition(residual.count == file.tokens.levels.count && residual.allSatisfy { $0.count == file.tokens.count })
        self.file = file
        self.residual = residual
    }

    public var levels: Int { file.tokens.levels.count }

    /// The file at a quality, with the positions cut to their depths (a depth map when they differ).
    public func file(quality: Quality) -> VQZFile { file(depth: depth(quality: quality)) }

    /// The file with each position cut to its depth.
    public func file(depth: [UInt8]) -> VQZFile {
        var out = file
        out.tokens = file.tokens.cut(toDepth: depth)
        return out
    }

    /// Each position's depth at a quality.
    public func depth(quality: Quality) -> [UInt8] {
        switch quality {
        case .levels(let n):
            return [UInt8](repeating: UInt8(min(max(n, 1), levels)), count: file.tokens.count)
        case .scale(let q) where q >= Quality.scaleRange.upperBound:
            // Every level, even where one happens not to lower the latent's error.
            return [UInt8](repeating: UInt8(levels), count: file.tokens.count)
        case .scale(let q):
            return depth(lambda: Self.lambda(quality: q))
        }
    }

    /// The positions where `upper` (deeper or equal everywhere) is deeper than `lower`, ordered by
    /// what their extra levels buy per bit, best first: deepening the first n of them
    /// (`depth(_:deepening:to:)`) is the cheapest way to n. Where a whole region changes depth at
    /// one price (a smooth sky), the scale jumps in bytes from one quality to the next; these maps
    /// fill the jump, for a size target inside it.
    public func steps(from lower: [UInt8], to upper: [UInt8]) -> [Int] {
        let bits = log2(Float(file.tokens.codebookSizes[0]))
        let differing = lower.indices.filter { upper[$0] > lower[$0] }
        func gainPerBit(_ i: Int) -> Float {
            (residual[Int(lower[i]) - 1][i] - residual[Int(upper[i]) - 1][i]) / (bits * Float(upper[i] - lower[i]))
        }
        return differing.sorted { (gainPerBit($0), $1) > (gainPerBit($1), $0) }
    }

    /// `lower` with the positions of `steps` at `upper`'s depth.
    public static func depth(_ lower: [UInt8], deepening steps: ArraySlice<Int>, to upper: [UInt8]) -> [UInt8] {
        var depth = lower
        for i in steps { depth[i] = upper[i] }
        return depth
    }

    /// Each position's depth at price `lambda` per bit: the smallest d in 1...L minimising
    /// residual(d) + lambda * bits(d), where bits(d) counts d tokens of log2(K) bits and the
    /// depth map's own cost, about `boundaryBits` for each level by which a 4-neighbour's depth
    /// differs (DPTH codes a depth as one flag per level, each in the context of the neighbours
    /// that go past it, so an edge costs for every level it spans). That cost depends on the
    /// neighbours' choices, so the map is refined by a few sweeps that each move a position to
    /// its best depth given the others (iterated conditional modes), starting from the choice
    /// without it.
    ///
    /// Maps are nested: a lower lambda's is at least as deep everywhere. A position's best depth
    /// rises with 1/lambda and with its neighbours' depths (its cost has increasing differences in
    /// both, the edge term being a function of the depths' difference), so the start and every
    /// move of the sweeps, made in the same order, keep the deeper map deeper. An edge priced
    /// once, whatever levels it spans, broke this (a position could drop a level to match a
    /// neighbour), and a higher quality could write a smaller file.
    public func depth(lambda: Float) -> [UInt8] {
        let (w, h) = (file.tokens.width, file.tokens.height)
        let tokenBits = log2(Float(file.tokens.codebookSizes[0]))
        guard lambda.isFinite else { return [UInt8](repeating: 1, count: w * h) }
        func bestDepth(_ i: Int, neighbours: [Int]) -> UInt8 {
            var best = 0, bestCost = Float.infinity
            for l in 0..<levels {
                var bits = tokenBits * Float(l)
                for n in neighbours { bits += Self.boundaryBits * Float(abs(n - (l + 1))) }
                let cost = residual[l][i] + lambda * bits
                if cost < bestCost { best = l; bestCost = cost }
            }
            return UInt8(best + 1)
        }
        var depth = (0..<(w * h)).map { bestDepth($0, neighbours: []) }
        for _ in 0..<Self.refinementSweeps {
            for i in 0..<(w * h) {
                let y = i / w, x = i % w
                var around: [Int] = []
                if x > 0 { around.append(Int(depth[i - 1])) }
                if x + 1 < w { around.append(Int(depth[i + 1])) }
                if y > 0 { around.append(Int(depth[i - w])) }
                if y + 1 < h { around.append(Int(depth[i + w])) }
                depth[i] = bestDepth(i, neighbours: around)
            }
        }
        return depth
    }

    /// The depth map's price of each level between a position's depth and a 4-neighbour's, in
    /// bits (a round figure of the order DPTH spends on a ragged edge), and the sweeps that
    /// settle the map.
    static let boundaryBits: Float = 1.5
    static let refinementSweeps = 2

    /// The price per bit at a point of the scale: infinite at 0, zero at 100, and log-linear from
    /// `lambdaRange.upperBound` to `lambdaRange.lowerBound` in between.
    public static func lambda(quality q: Double) -> Float {
        if q <= Quality.scaleRange.lowerBound { return .infinity }
        if q >= Quality.scaleRange.upperBound { return 0 }
        let (lo, hi) = (log(Double(lambdaRange.lowerBound)), log(Double(lambdaRange.upperBound)))
        return Float(exp(hi + (lo - hi) * q / 100))
    }

    /// Prices per bit that span the scale: at the upper bound almost no position of data/val's
    /// photos pays for level 2, at the lower bound almost every position keeps every level.
    public static let lambdaRange: ClosedRange<Float> = 3e-5...1e-2

    /// How close the size and fidelity searches bring two qualities of the scale.
    public static let searchTolerance = 0.05

    /// The highest quality in 0...100 (to `tolerance`) whose result `fits`, by bisection, assuming
    /// that what fits at q also fits below q; nil when not even quality 0 fits.
    public static func highestQuality(tolerance: Double = searchTolerance, where fits: (Double) throws -> Bool) rethrows -> Double? {
        let (low, high) = (Quality.scaleRange.lowerBound, Quality.scaleRange.upperBound)
        guard try fits(low) else { return nil }
        if try fits(high) { return high }
        return try bisect(tolerance: tolerance) { try !fits($0) }.below
    }

    /// The lowest quality in 0...100 (to `tolerance`) whose result `suffices`, assuming that what
    /// suffices at q also suffices above q; nil when not even quality 100 suffices.
    public static func lowestQuality(tolerance: Double = searchTolerance, where suffices: (Double) throws -> Bool) rethrows -> Double? {
        let (low, high) = (Quality.scaleRange.lowerBound, Quality.scaleRange.upperBound)
        guard try suffices(high) else { return nil }
        if try suffices(low) { return low }
        return try bisect(tolerance: tolerance, suffices).above
    }

    /// Qualities no more than `tolerance` apart around where `holds` turns true, for a property
    /// false at 0 and true at 100.
    private static func bisect(tolerance: Double, _ holds: (Double) throws -> Bool) rethrows -> (below: Double, above: Double) {
        var (below, above) = (Quality.scaleRange.lowerBound, Quality.scaleRange.upperBound)
        while above - below > tolerance {
            let mid = (below + above) / 2
            if try holds(mid) { above = mid } else { below = mid }
        }
        return (below, above)
    }
}
