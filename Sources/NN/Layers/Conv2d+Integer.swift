import CKernels
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The arithmetic a layer's inference runs in.
public enum InferencePrecision: Sendable {
    /// f32 throughout: the reference, and what every CPU runs the same way.
    case float32
    /// int16 weights (one scale per output channel) times int16 activations (one scale per
    /// tensor, from its largest magnitude: dynamic, no calibration), their ranges bounded so the
    /// int32 sums are exact (about 11 bits each for a 3x3x32 reduction, 10 for 3x3x128).
    /// Runs where `IntegerKernels.available`; elsewhere the layer runs f32.
    case int16
}

public enum IntegerKernels {
    /// Whether this CPU runs the integer kernels (AVX2 and FMA, detected at run time).
    public static let available = vqz_int_kernels_available() != 0
}

/// Weights quantized and packed once for vqz_qgemm: [Np * Kp] int16 within
/// +-vqz_weight_limit(K), and one scale per output channel.
final class QuantizedWeights {
    let packed: UnsafeMutablePointer<Int16>
    let scale: [Float]

    init(_ w: UnsafePointer<Float>, k: Int, n: Int) {
        let count = ((k + 1) & ~1) * ((n + 7) & ~7)
        let packed = UnsafeMutablePointer<Int16>.allocate(capacity: count)
        var scale = [Float](repeating: 0, count: n)
        scale.withUnsafeMutableBufferPointer { vqz_pack_weights(packed, $0.baseAddress!, w, Int32(k), Int32(n), vqz_weight_limit(Int32(k))) }
        self.packed = packed
        self.scale = scale
    }

    deinit { packed.deallocate() }
}

/// Int16 scratch for one call, freed when the call returns: the integer path keeps no buffers in
/// the layer, so releaseBuffers (which callers may run from several threads on a shared model)
/// has nothing more to release, and a layer's memory between calls is its weights.
final class Int16Scratch {
    let pointer: UnsafeMutablePointer<Int16>

    init(_ count: Int) { pointer = allocateValues(count, of: Int16.self) }

    deinit { free(pointer) }
}

extension Conv2d {
    var usesIntegerKernels: Bool {
        inferencePrecision == .int16 && IntegerKernels.available && weightMask == nil
    }

    /// The input quantized once, as int16 with one scale: max(0, x) when `relu`, then
    /// x * limit / max|x| rounded. Returns the int16 tensor (same layout as x) and its scale
    /// (the float one integer step stands for).
    private func quantizeInput(_ x: Tensor, relu: Bool, limit: Int32) -> (Int16Scratch, Float) {
        let amax = vqz_absmax(x.data, x.count, relu ? 1 : 0)
        // An all-zero input quantizes to zeros whatever the scale; 1 keeps the division finite.
        let scale = amax > 0 ? amax / Float(limit) : 1
        let scratch = Int16Scratch(x.count)
        let q = scratch.pointer
        let inv = 1 / scale
        parallelFor(x.count, minChunk: 1 << 15) { r in
            vqz_quantize(q + r.lowerBound, x.data + r.lowerBound, r.count, inv, limit, relu ? 1 : 0)
        }
        return (scratch, scale)
    }

    /// The output scale of each channel: one activation step times one weight step.
    private func outputScales(_ weights: QuantizedWeights, activationScale: Float) -> [Float] {
        weights.scale.map { $0 * activationScale }
    }

    /// `infer` on the integer kernels: the input quantized once, im2col of int16 rows of Kp
    /// (K rounded up to even; the pad is 0), vqz_qgemm with the bias added in its epilogue, then the
    /// skip and the ReLU on each block while it is in cache, as the f32 path does.
    func inferInteger(_ x: Tensor, _ out: Tensor, h: Int, w: Int, reluInput: Bool, upsample: Int,
                   adding skip: Tensor?, reluOutput: Bool) {
        let (n, cout, K) = (x.shape[0], outChannels, self.K)
        let (ho, wo) = (out.shape[1], out.shape[2])
        let Kp = (K + 1) & ~1
        if quantized[0] == nil { quantized[0] = QuantizedWeights(maskedWeights(), k: K, n: cout) }
        let qw = quantized[0]!
        let limit = vqz_activation_limit(Int32(K))
        let (input, xs) = quantizeInput(x, relu: reluInput, limit: limit)
        let xq = input.pointer
        let scales = outputScales(qw, activationScale: xs)
        let b = store.value(bias)
        let rows = n * ho * wo
        let blockRows = max(6, blockElements / Kp / 6 * 6)
        let threads = max(1, min(Threads.count, (rows + 63) / 64))
        let share = (rows + threads - 1) / threads
        let perThread = min(share, blockRows) * Kp
        let colScratch = Int16Scratch(threads * perThread)
        let buffers = colScratch.pointer
        defer { withExtendedLifetime((input, colScratch)) {} }
        scales.withUnsafeBufferPointer { sc in
            parallelBLAS(threads) { t in
                let colBuf = buffers + t * perThread
                var m0 = t * share
                let end = min(rows, m0 + share)
                while m0 < end {
                    let m1 = min(end, m0 + blockRows)
                    let dst = out.data + m0 * cout
                    im2colInt16(colBuf, xq, shape: x.shape, rows: m0..<m1, h: h, w: w, ho: ho, wo: wo,
                                upsample: upsample, rowStride: Kp)
                    vqz_qgemm(dst, cout, colBuf, Kp, qw.packed, Int32(m1 - m0), Int32(cout), Int32(K), sc.baseAddress!, b)
                    finish(dst, skip: skip.map { $0.data + m0 * cout }, count: (m1 - m0) * cout, relu: reluOutput)
                    m0 = m1
                }
            }
        }
    }

    /// inferUpsampled on the integer kernels: each phase's weights quantized on their own.
    func inferUpsampledInteger(_ x: Tensor, _ out: Tensor, reluInput: Bool, adding skip: Tensor?, reluOutput: Bool) {
        let (n, h, w, cin, cout) = (x.shape[0], x.shape[1], x.shape[2], inChannels, outChannels)
        let K = 4 * cin, Kp = (K + 1) & ~1
        if quantized[1] == nil {
            let pw = upsampledPhaseWeights()
            for phase in 0..<4 { quantized[1 + phase] = QuantizedWeights(pw.data + phase * K * cout, k: K, n: cout) }
        }
        let limit = vqz_activation_limit(Int32(K))
        let (input, xs) = quantizeInput(x, relu: reluInput, limit: limit)
        let xq = input.pointer
        let phaseScales = (0..<4).map { outputScales(quantized[1 + $0]!, activationScale: xs) }
        let b = store.value(bias)
        let rows = n * h * w
        let blockRows = max(6, blockElements / Kp / 6 * 6)
        let threads = max(1, min(Threads.count, (rows + 63) / 64))
        let share = (rows + threads - 1) / threads
        let block = min(share, blockRows)
        let colScratch = Int16Scratch(threads * block * Kp)
        let colBuffers = colScratch.pointer
        let results = col.buffer(threads * block * cout)
        defer { withExtendedLifetime((input, colScratch)) {} }
        parallelBLAS(threads) { t in
            let colBuf = colBuffers + t * block * Kp
            let result = results + t * block * cout
            for phase in 0..<4 {
                let (a, bb) = (phase / 2, phase % 2)
                let qw = quantized[1 + phase]!
                var m0 = t * share
                let end = min(rows, m0 + share)
                while m0 < end {
                    let m1 = min(end, m0 + blockRows)
                    // im2col of the 2x2 window at rows i-1+a..i+a, columns j-1+b..j+b.
                    for local in 0..<(m1 - m0) {
                        let m = m0 + local
                        let img = m / (h * w), i = m % (h * w) / w, j = m % w
                        let dstRow = colBuf + local * Kp
                        if Kp > K { dstRow[K] = 0 }
                        for dy in 0..<2 {
                            let iy = i - 1 + a + dy
                            for dx in 0..<2 {
                                let ix = j - 1 + bb + dx
                                let dst = dstRow + (dy * 2 + dx) * cin
                                if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                    dst.update(from: xq + ((img * h + iy) * w + ix) * cin, count: cin)
                                } else {
                                    dst.update(repeating: 0, count: cin)
                                }
                            }
                        }
                    }
                    phaseScales[phase].withUnsafeBufferPointer { sc in
                        vqz_qgemm(result, cout, colBuf, Kp, qw.packed, Int32(m1 - m0), Int32(cout), Int32(K), sc.baseAddress!, b)
                    }
                    for local in 0..<(m1 - m0) {
                        let m = m0 + local
                        let img = m / (h * w), i = m % (h * w) / w, j = m % w
                        let o = ((img * 2 * h + 2 * i + a) * 2 * w + 2 * j + bb) * cout
                        let (dst, src) = (out.data + o, result + local * cout)
                        if let skip {
                            let sk = skip.data + o
                            for c in 0..<cout { dst[c] = sk[c] + src[c] }
                        } else {
                            dst.update(from: src, count: cout)
                        }
                        if reluOutput {
                            for c in 0..<cout { dst[c] = max(dst[c], 0) }
                        }
                    }
                    m0 = m1
                }
            }
        }
    }

    /// Adds the skip connection and applies the output ReLU to a block the kernel just wrote.
    private func finish(_ dst: UnsafeMutablePointer<Float>, skip: UnsafeMutablePointer<Float>?, count: Int, relu: Bool) {
        if let skip {
            for i in 0..<count { dst[i] = skip[i] + dst[i] }
        }
        if relu {
            for i in 0..<count { dst[i] = max(dst[i], 0) }
        }
    }

    /// im2col of int16 input (already through the ReLU) for output pixels `rows` into rows of
    /// `rowStride` int16 (K, then a zero where K is odd); h, w are the upsampled sizes.
    private func im2colInt16(_ col: UnsafeMutablePointer<Int16>, _ src: UnsafeMutablePointer<Int16>, shape: [Int],
                             rows: Range<Int>, h: Int, w: Int, ho: Int, wo: Int, upsample: Int, rowStride: Int) {
        let (cin, k, s, p, K) = (inChannels, kernel, stride, padding, self.K)
        let (srcH, srcW) = (shape[1], shape[2])
        for local in 0..<rows.count {
            let m = rows.lowerBound + local
            let img = m / (ho * wo), r = m % (ho * wo)
            let oy = r / wo, ox = r % wo
            let dstRow = col + local * rowStride
            if rowStride > K { dstRow[K] = 0 }
            let ix0 = ox * s - p
            for ky in 0..<k {
                let iy = oy * s - p + ky
                let dstTaps = dstRow + ky * k * cin
                if iy < 0 || iy >= h {
                    dstTaps.update(repeating: 0, count: k * cin)
                    continue
                }
                if upsample == 1 && ix0 >= 0 && ix0 + k <= w {
                    // The row's k taps are k * cin consecutive values of the input.
                    dstTaps.update(from: src + ((img * srcH + iy) * srcW + ix0) * cin, count: k * cin)
                    continue
                }
                for kx in 0..<k {
                    let ix = ix0 + kx
                    let dst = dstTaps + kx * cin
                    if ix >= 0 && ix < w {
                        dst.update(from: src + ((img * srcH + iy / upsample) * srcW + ix / upsample) * cin, count: cin)
                    } else {
                        dst.update(repeating: 0, count: cin)
                    }
                }
            }
        }
    }
}

/// Sets `inferencePrecision` on every Conv2d in `layer`, through Sequential and Residual.
public func setInferencePrecision(_ precision: InferencePrecision, in layer: any Layer) {
    switch layer {
    case let conv as Conv2d: conv.inferencePrecision = precision
    case let seq as Sequential: for l in seq.layers { setInferencePrecision(precision, in: l) }
    case let res as Residual: setInferencePrecision(precision, in: res.body)
    default: break
    }
}
