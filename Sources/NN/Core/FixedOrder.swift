// Kernels whose results do not depend on thread count, batch size or call order.
//
// Entropy coding with a model needs the decoder to compute bit for bit the probabilities the
// encoder used, although the encoder scores every position in one batch and the decoder scores
// a few at a time. sgemm cannot promise that (its blocking, and so its summation order, changes
// with the matrix sizes and the threads). These kernels fix the order: every output is
// bias + sum over inputs in ascending order, one multiply and one add per term (no fused
// multiply-add, no reassociation), so each row's result is a function of that row alone.
// Vectorisation runs across outputs, never across a sum.
//
// Shape letters: M rows, Din / Dout feature widths.

import CKernels

/// out[M, Dout] = bias[Dout] + inp[M, Din] * weight[Din, Dout], each output summed over Din in
/// ascending order. Rows are spread over threads; a row's result is the same on any thread count.
/// The kernel is C (`vqz_fixed_affine`: AVX-512 or AVX2 across outputs, where the CPU has them).
public func fixedOrderAffine(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                             _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                             rows m: Int, inFeatures din: Int, outFeatures dout: Int) {
    // Groups of four rows share each load of a weight row: the weights are the memory traffic.
    let groups = (m + 3) / 4
    parallelFor(groups, minChunk: max(1, 4096 / max(din * dout / 1024, 1))) { range in
        let r0 = range.lowerBound * 4, n = min(range.upperBound * 4, m) - r0
        vqz_fixed_affine(out + r0 * dout, inp + r0 * din, weight, bias, Int32(n), Int32(din), Int32(dout))
    }
}

/// The naive twin of `fixedOrderAffine`: the same order of operations, one scalar at a time.
public func fixedOrderAffineNaive(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                  _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                  rows m: Int, inFeatures din: Int, outFeatures dout: Int) {
    for r in 0..<m {
        for j in 0..<dout {
            var acc = bias[j]
            for i in 0..<din {
                let p = inp[r * din + i] * weight[i * dout + j]
                acc = acc + p
            }
            out[r * dout + j] = acc
        }
    }
}

/// e^(x[j] - offset) for count values (arguments <= 0) into dst, from IEEE-754 float additions and
/// multiplications only, so that it gives the same bits on every machine (libm's expf may differ
/// between C libraries): relative error under 3e-7, 0 below e^-87. The steps are defined once, by
/// `vqz_fixed_exp_naive` (one value at a time); `vqz_fixed_exp` takes them on many lanes at once.
public func fixedOrderExp(_ x: UnsafePointer<Float>, count: Int, minus offset: Float, into dst: UnsafeMutablePointer<Float>) {
    vqz_fixed_exp(dst, x, Int32(count), offset)
}
