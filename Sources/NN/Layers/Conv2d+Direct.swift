import CKernels

/// f32 inference on the direct convolution kernel (vqz_conv_row): no im2col. Each thread takes a
/// contiguous share of the output rows and keeps the k input rows their windows read in a ring of
/// padded copies (the ReLU applied as they are copied), so every input row is copied about once per
/// thread, and the kernel reads the windows in place.
///
/// The kernel's sums are fused multiply-adds in a fixed order, equal to its naive twin's to the bit:
/// the result depends neither on the CPU nor on the threads, which keeps the encoder's tokens the
/// same everywhere the kernel runs.
public enum DirectKernels {
    /// Whether this CPU runs the direct kernel fast (AVX2 and FMA, detected at run time); elsewhere
    /// Conv2d keeps im2col and sgemm.
    public static let available = vqz_int_kernels_available() != 0
}

/// f32 scratch for one call, freed when the call returns (see Int16Scratch).
final class FloatScratch {
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int) {
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}

/// A thread's ring of padded input rows: slot `iy % slots` holds row iy of image `img` of the
/// input as the convolution sees it (through max(0, x) when `relu`, nearest-neighbour upsampled by
/// `upsample`), with `padding` zero pixels each side; rows outside the image read a shared zero row.
private struct PaddedRows {
    let base: UnsafeMutablePointer<Float>
    let zero: UnsafePointer<Float>
    let slots: Int, rowFloats: Int, padding: Int, cin: Int, upsample: Int, relu: Bool
    var keys: [Int]

    init(base: UnsafeMutablePointer<Float>, zero: UnsafePointer<Float>, slots: Int, width: Int, padding: Int,
         cin: Int, upsample: Int, relu: Bool) {
        self.base = base
        self.zero = zero
        self.slots = slots
        self.padding = padding
        self.cin = cin
        self.upsample = upsample
        self.relu = relu
        rowFloats = (width + 2 * padding) * cin
        keys = [Int](repeating: -1, count: slots)
    }

    /// Row iy (of the upsampled input) of image img of x ([n, h, w, cin] before upsampling).
    mutating func row(_ x: Tensor, img: Int, iy: Int) -> UnsafePointer<Float> {
        let (h, w) = (x.shape[1], x.shape[2])
        if iy < 0 || iy >= h * upsample { return zero }
        let slot = iy % slots, key = img * h * upsample + iy
        let dst = base + slot * rowFloats
        if keys[slot] != key {
            keys[slot] = key
            let src = x.data + (img * h + iy / upsample) * w * cin
            var out = dst + padding * cin
            if upsample == 1 {
                if relu {
                    for i in 0..<(w * cin) { out[i] = max(src[i], 0) }
                } else {
                    out.update(from: src, count: w * cin)
                }
                return UnsafePointer(dst)
            }
            for ix in 0..<w {
                let pixel = src + ix * cin
                for _ in 0..<upsample {
                    if relu {
                        for c in 0..<cin { out[c] = max(pixel[c], 0) }
                    } else {
                        out.update(from: pixel, count: cin)
                    }
                    out += cin
                }
            }
            // The pads stay zero: nothing else writes there.
        }
        return UnsafePointer(dst)
    }
}

extension Conv2d {
    /// Whether forward and infer take the direct kernel (the CPU has AVX2 and FMA).
    var usesDirectKernel: Bool { DirectKernels.available }

    private func packedDirectWeights(_ w: UnsafePointer<Float>, k: Int, n: Int) -> FloatScratch {
        let packed = FloatScratch(vqz_conv_packed_count(Int32(k), Int32(n)))
        vqz_conv_pack(packed.pointer, w, Int32(k), Int32(n))
        return packed
    }

    /// `infer` on the direct kernel, of the input upsampled by `upsample` (the 3x3 case has
    /// inferUpsampledDirect). The weights are packed on every call (a few hundred KB at most), so
    /// training that changes them never meets a stale copy.
    func inferDirect(_ x: Tensor, _ out: Tensor, reluInput: Bool, upsample: Int, adding skip: Tensor?, reluOutput: Bool) {
        let (n, w, cin, cout, k) = (x.shape[0], x.shape[2] * upsample, inChannels, outChannels, kernel)
        let (ho, wo) = (out.shape[1], out.shape[2])
        let weights = packedDirectWeights(maskedWeights(), k: K, n: cout)
        let b = store.value(bias)
        let rows = n * ho
        let threads = max(1, min(Threads.count, rows, (rows * wo + 63) / 64))
        let share = (rows + threads - 1) / threads
        let rowFloats = (w + 2 * padding) * cin
        let ring = FloatScratch(threads * k * rowFloats + rowFloats)
        let zero = UnsafePointer(ring.pointer + threads * k * rowFloats)
        withExtendedLifetime((weights, ring)) {
            parallelFor(threads) { part in
                for t in part {
                    var padded = PaddedRows(base: ring.pointer + t * k * rowFloats, zero: zero, slots: k, width: w,
                                            padding: padding, cin: cin, upsample: upsample, relu: reluInput)
                    var pointers = [UnsafePointer<Float>?](repeating: nil, count: k)
                    for r in (t * share)..<min(rows, (t + 1) * share) {
                        let (img, oy) = (r / ho, r % ho)
                        for ky in 0..<k {
                            pointers[ky] = padded.row(x, img: img, iy: oy * stride - padding + ky)
                        }
                        let o = r * wo * cout
                        vqz_conv_row(out.data + o, cout, skip.map { UnsafePointer($0.data + o) }, pointers,
                                     stride * cin, Int32(k * cin), Int32(k), Int32(wo), weights.pointer,
                                     Int32(cout), b, reluOutput ? 1 : 0)
                    }
                }
            }
        }
    }

    /// inferUpsampled on the direct kernel: for each input row i, the four phases (a, b) are 2x2
    /// convolutions of padded rows i + a and i + a + 1 (padded coordinates), starting at column b,
    /// written to every other pixel of output row 2i + a.
    func inferUpsampledDirect(_ x: Tensor, _ out: Tensor, reluInput: Bool, adding skip: Tensor?, reluOutput: Bool) {
        let (n, h, w, cin, cout) = (x.shape[0], x.shape[1], x.shape[2], inChannels, outChannels)
        let K = 4 * cin
        let phaseWeights = upsampledPhaseWeights()
        let phases = (0..<4).map { packedDirectWeights(phaseWeights.data + $0 * K * cout, k: K, n: cout) }
        let b = store.value(bias)
        let rows = n * h
        let threads = max(1, min(Threads.count, rows, (rows * w + 63) / 64))
        let share = (rows + threads - 1) / threads
        let rowFloats = (w + 2) * cin
        let ring = FloatScratch(threads * 3 * rowFloats + rowFloats)
        let zero = UnsafePointer(ring.pointer + threads * 3 * rowFloats)
        withExtendedLifetime((phases, ring)) {
            parallelFor(threads) { part in
                for t in part {
                    var padded = PaddedRows(base: ring.pointer + t * 3 * rowFloats, zero: zero, slots: 3, width: w,
                                            padding: 1, cin: cin, upsample: 1, relu: reluInput)
                    var pointers = [UnsafePointer<Float>?](repeating: nil, count: 2)
                    for r in (t * share)..<min(rows, (t + 1) * share) {
                        let (img, i) = (r / h, r % h)
                        let window = (0..<3).map { padded.row(x, img: img, iy: i - 1 + $0) }
                        for phase in 0..<4 {
                            let (a, bb) = (phase / 2, phase % 2)
                            pointers[0] = window[a] + bb * cin
                            pointers[1] = window[a + 1] + bb * cin
                            let o = ((img * 2 * h + 2 * i + a) * 2 * w + bb) * cout
                            vqz_conv_row(out.data + o, 2 * cout, skip.map { UnsafePointer($0.data + o) }, pointers,
                                         cin, Int32(2 * cin), 2, Int32(w), phases[phase].pointer, Int32(cout), b,
                                         reluOutput ? 1 : 0)
                        }
                    }
                }
            }
        }
    }
}
