/// A small deterministic generator (xoshiro256**) whose whole state can be checkpointed,
/// so a resumed run draws the same numbers as an uninterrupted one.
public struct RNG: RandomNumberGenerator {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitmix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// Standard normal by Box-Muller.
    public mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    public mutating func int(below n: Int) -> Int { Int(next() % UInt64(n)) }

    public var words: [UInt64] { [state.0, state.1, state.2, state.3] }
    public init(words w: [UInt64]) { state = (w[0], w[1], w[2], w[3]) }
}

#if canImport(Glibc)
import Glibc
#endif

/// He-style initial values for a layer with `fanIn` inputs.
public func heUniform(_ count: Int, fanIn: Int, gain: Float = 1, rng: inout RNG) -> [Float] {
    let bound = gain * (6 / Float(max(fanIn, 1))).squareRoot()
    return (0..<count).map { _ in (rng.uniform() * 2 - 1) * bound }
}
