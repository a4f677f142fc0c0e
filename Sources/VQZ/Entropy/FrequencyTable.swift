import Foundation
import NN

/// A model's distribution over K symbols (optionally mixed with a `TokenCache`) as integer
/// frequencies summing to 2^scaleBits, every symbol at least 1 (so any token stays codable). Made from logits with IEEE-754 additions and
/// multiplications in a fixed order only (NN's fixed-order exp), so encoder and decoder derive
/// the same table from the same logits on any machine.
struct FrequencyTable {
    static let scaleBits = 24
    static let total: UInt32 = 1 << UInt32(scaleBits)

    var frequencies: [UInt32]
    /// The unrounded distribution (weights / weightSum), for the information content.
    private let weights: [Float]
    private let weightSum: Float

    init(logits: UnsafePointer<Float>, count k: Int, cache: TokenCache? = nil, cacheWeight: Float = TokenCache.weight) {
        self.init(ModelDistribution(logits: logits, count: k), cache: cache, cacheWeight: cacheWeight)
    }

    /// The model's distribution mixed with the cache: p = (1 - lambda) p_model + lambda p_cache,
    /// lambda = cacheWeight once many tokens are seen (it grows with them).
    init(_ model: ModelDistribution, cache: TokenCache? = nil, cacheWeight: Float = TokenCache.weight) {
        let k = model.weights.count
        let mix = Mixture(model, cache: cache, cacheWeight: cacheWeight)
        var weights = model.weights
        var sum = model.sum
        if mix.mixes, let counts = cache?.counts {
            sum = 0
            for j in 0..<k {
                weights[j] = mix.weight(weights[j], counts[j])
                sum = sum + weights[j]
            }
        }
        var argmax = 0
        for j in 1..<k where weights[j] > weights[argmax] { argmax = j }
        // Each symbol gets 1 plus its share of what the floors leave; the rounding remainder
        // (a few units either way) goes to the most likely symbol.
        let spare = Self.spare(k, sum)
        var freq = [UInt32](repeating: 1, count: k)
        var used: UInt32 = 0
        for j in 0..<k {
            freq[j] = Self.quantized(weights[j], spare)
            used &+= freq[j]
        }
        if used <= Self.total {
            freq[argmax] += Self.total - used
        } else {
            // The excess is at most about K units and the most likely symbol holds at least
            // 2^24 / K; the loop over the others only guards the bound.
            var excess = used - Self.total
            for j in [argmax] + Array(0..<k) where excess > 0 {
                let take = min(excess, freq[j] - 1)
                freq[j] -= take
                excess -= take
            }
        }
        frequencies = freq
        self.weights = weights
        weightSum = sum
    }

    /// What the table of `init(model, cache:, cacheWeight:)` gives symbol s (its interval and
    /// information), without building the table: the encoder's per-token work, done for every
    /// cache weight it tries. The same expressions in the same order, so the same numbers.
    static func interval(of s: Int, _ model: ModelDistribution, cache: TokenCache?, cacheWeight: Float)
        -> (start: UInt32, frequency: UInt32, information: Double) {
        let k = model.weights.count
        let mix = Mixture(model, cache: cache, cacheWeight: cacheWeight)
        let counts = cache?.counts ?? []
        return model.weights.withUnsafeBufferPointer { w in
            @inline(__always) func weight(_ j: Int) -> Float { mix.mixes ? mix.weight(w[j], counts[j]) : w[j] }
            var sum = model.sum
            if mix.mixes {
                sum = 0
                for j in 0..<k { sum = sum + weight(j) }
            }
            var argmax = 0, top = weight(0)
            for j in 1..<k {
                let v = weight(j)
                if v > top { top = v; argmax = j }
            }
            let spare = Self.spare(k, sum)
            var used: UInt32 = 0, start: UInt32 = 0
            for j in 0..<k {
                let f = quantized(weight(j), spare)
                if j < s { start &+= f }
                used &+= f
            }
            guard used <= total else {
                // The rare excess: take it away exactly as the table does.
                let table = FrequencyTable(model, cache: cache, cacheWeight: cacheWeight)
                let (start, frequency) = table.interval(of: s)
                return (start, frequency, table.information(of: s))
            }
            let remainder = total - used
            var frequency = quantized(weight(s), spare)
            if argmax == s { frequency += remainder } else if argmax < s { start &+= remainder }
            return (start, frequency, -log2(Double(weight(s)) / Double(sum)))
        }
    }

    @inline(__always) static func spare(_ k: Int, _ sum: Float) -> Float { Float(total - UInt32(k)) / sum }

    /// A symbol's frequency before the remainder: 1 plus its share of what the floors leave.
    @inline(__always) static func quantized(_ weight: Float, _ spare: Float) -> UInt32 {
        1 + UInt32(min(weight * spare, Float(total)))
    }

    /// -log2 p(s) under the unrounded distribution: what an ideal coder would spend on s.
    func information(of s: Int) -> Double { -log2(Double(weights[s]) / Double(weightSum)) }

    /// (start, frequency) of symbol s.
    func interval(of s: Int) -> (start: UInt32, frequency: UInt32) {
        var start: UInt32 = 0
        for j in 0..<s { start &+= frequencies[j] }
        return (start, frequencies[s])
    }

    /// The symbol whose interval holds `slot`, with that interval.
    func symbol(at slot: UInt32) -> (symbol: Int, start: UInt32, frequency: UInt32) {
        var start: UInt32 = 0
        for (j, f) in frequencies.enumerated() {
            if slot < start &+ f { return (j, start, f) }
            start &+= f
        }
        // Unreachable: the frequencies sum to 2^scaleBits and slot is below it.
        return (frequencies.count - 1, start &- frequencies[frequencies.count - 1], frequencies[frequencies.count - 1])
    }
}

/// p = (1 - lambda) p_model + lambda p_cache as e_j a + c_j b on the model's unnormalised weights,
/// lambda = cacheWeight n / (n + rampIn) after n tokens; no mixing before the first token or at weight 0.
struct Mixture {
    let mixes: Bool
    let a: Float, b: Float

    init(_ model: ModelDistribution, cache: TokenCache?, cacheWeight: Float) {
        guard let cache, cache.seen > 0, cacheWeight > 0 else { (mixes, a, b) = (false, 1, 0); return }
        let n = Float(cache.seen)
        let lambda = cacheWeight * n / (n + TokenCache.rampIn)
        (mixes, a, b) = (true, (1 - lambda) / model.sum, lambda / n)
    }

    @inline(__always) func weight(_ e: Float, _ count: UInt32) -> Float { e * a + Float(count) * b }
}

/// exp(logit - max) of each symbol and their sum: the unnormalised softmax that every mixture
/// with the cache starts from (computed once per position, whichever cache weight is tried).
struct ModelDistribution {
    var weights: [Float]
    var sum: Float

    init(logits: UnsafePointer<Float>, count k: Int) {
        precondition(k >= 2 && k <= 1 << 16, "frequency table for \(k) symbols")
        var top = logits[0]
        for j in 1..<k where logits[j] > top { top = logits[j] }
        var weights = [Float](repeating: 0, count: k)
        fixedOrderExp(logits, count: k, minus: top, into: &weights)
        // The sum in ascending order, one add at a time (a vector sum would reorder it).
        var sum: Float = 0
        for j in 0..<k { sum = sum + weights[j] }
        self.weights = weights
        self.sum = sum
    }
}

/// The tokens of one level coded so far, counted: an adaptive unigram model of the image at hand
/// that the frequency tables mix in (zstd's strength, repeated tokens, made available to the prior).
struct TokenCache {
    /// Coding revision 1's cache share once many tokens are seen: 0.15 was the best of 0, 0.15
    /// and 0.3 on five training pictures at 768x512 (docs/MODELS.md).
    static let weight: Float = 0.15
    /// Revision 2's choices: the encoder tries each on the level and names the one it used in
    /// the stream's first byte, since how much an image repeats itself varies from image to image.
    /// Each choice costs the encoder one more table per token (about 10 microseconds), so few.
    static let weights: [Float] = [0, 0.05, 0.1, 0.2, 0.35]
    /// How many tokens it takes for the cache's share to reach half of its weight.
    static let rampIn: Float = 64

    var counts: [UInt32]
    var seen: UInt32 = 0

    init(codebookSize k: Int) { counts = [UInt32](repeating: 0, count: k) }

    mutating func add(_ token: Int) {
        counts[token] += 1
        seen += 1
    }
}
