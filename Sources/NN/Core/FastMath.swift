// Elementwise functions without a libm call, so the loops around them vectorize. Glibc's tanhf
// took a quarter of a text-transformer training step in GELU alone.

/// e^x for x in [-87, 0], to within 2e-7 relative: x = k ln 2 + r with |r| <= ln 2 / 2, e^r by
/// its degree-6 Taylor polynomial (the first term left out is r^7 / 7! < 1e-7), 2^k put in the
/// exponent bits. Below -87 the result would be subnormal; the argument is clamped there.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    let x = max(x, -87)
    let k = (x * 1.442695).rounded(.toNearestOrEven)       // x / ln 2 (one instruction, unlike rounded())
    let r = (x - k * 0.693145751953125) - k * 1.4286068e-6 // ln 2 in two parts, so r keeps its bits
    let p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))))
    return p * Float(bitPattern: UInt32(Int32(k) + 127) << 23)
}

/// tanh(x) to within 2e-7 absolute, as (1 - e) / (1 + e) with e = e^(-2|x|); past |x| = 9,
/// tanh is 1 in float.
@inline(__always)
func fastTanh(_ x: Float) -> Float {
    let e = fastExp(-2 * min(abs(x), 9))
    let t = (1 - e) / (1 + e)
    return x < 0 ? -t : t
}
