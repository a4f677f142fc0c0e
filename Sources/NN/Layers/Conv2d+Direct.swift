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

/// Scratch memory for one call, freed when the call returns: the kernels keep no buffers in the
/// layer, so releaseBuffers (which callers may run from several threads on a shared model) has
/// nothing more to release, and a layer's memory between calls is its weights.
final class Scratch<Element> {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    /// `zeroed` fills it with zero bits (0 for floats and integers alike).
    init(_ count: Int, zeroed: Bool = false) {
        self.count = count
        pointer = LargeBuffers.allocate(count, of: Element.self)
        if zeroed { UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * MemoryLayout<Element>.stride) }
    }

    deinit { LargeBuffers.release(pointer, count: count) }
}

/// A thread's ring of padded input rows: slot `iy % slots` holds row iy of image `img` of the
/// input as the convolution sees it, with `padding` zero values (pixels times channels) each side.
/// A row in the ring is filled once by `fill` and reused by every output row whose window it is
/// in; rows outside the image read a shared zero row. Window rows are consecutive, so k slots
/// hold a k-row window without collisions.
struct RowRing<Element> {
    let base: UnsafeMutablePointer<Element>
    let zero: UnsafePointer<Element>
    let slots: Int, rowElements: Int, padding: Int, height: Int
    private var keys: [Int]

    /// `scratch` holds `slots` rows of `rowElements` for this ring and is zeroed (the pads are never written).
    init(_ scratch: UnsafeMutablePointer<Element>, zero: UnsafePointer<Element>, slots: Int, rowElements: Int,
         padding: Int, height: Int) {
        base = scratch
        self.zero = zero
        self.slots = slots
        self.rowElements = rowElements
        self.padding = padding
        self.height = height
        keys = [Int](repeating: -1, count: slots)
    }

    /// Row iy (of `height`) of image img; `fill` writes its values after the left pad.
    mutating func row(img: Int, iy: Int, fill: (UnsafeMutablePointer<Element>) -> Void) -> UnsafePointer<Element> {
        if iy < 0 || iy >= height { return zero }
        let slot = iy % slots, key = img * height + iy
        let dst = base + slot * rowElements
        if keys[slot] != key {
            keys[slot] = key
            fill(dst + padding)
        }
        return UnsafePointer(dst)
    }
}

/// Copies row `row` of x ([n, h, w, cin], rows numbered across images) to dst, through max(0, x)
/// when `relu`, each pixel repeated `upsample` times.
private func copyRow(_ dst: UnsafeMutablePointer<Float>, _ x: Tensor, row: Int, relu: Bool, upsample: Int) {
    let (w, cin) = (x.shape[2], x.shape[3])
    let src = x.data + row * w * cin
    if upsample == 1 {
        if relu {
            for i in 0..<(w * cin) { dst[i] = max(src[i], 0) }
        } else {
            dst.update(from: src, count: w * cin)
        }
        return
    }
    var out = dst
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
}

extension Conv2d {
    /// Whether forward and infer take the direct kernel (the CPU has AVX2 and FMA).
    var usesDirectKernel: Bool { DirectKernels.available }

    func packedDirectWeights(_ w: UnsafePointer<Float>, k: Int, n: Int) -> Scratch<Float> {
        let packed = Scratch<Float>(vqz_conv_packed_count(Int32(k), Int32(n)))
        vqz_conv_pack(packed.pointer, w, Int32(k), Int32(n))
        return packed
    }

    /// `infer` on the direct kernel, of the input upsampled by `upsample` (the 3x3 case has
    /// inferUpsampledDirect). The weights are packed on every call (a few hundred KB at most), so
    /// training that changes them never meets a stale copy.
    func inferDirect(_ x: Tensor, _ out: Tensor, reluInput: Bool, upsample: Int, adding skip: Tensor?, reluOutput: Bool) {
        directConvolution(x, out, weights: maskedWeights(), bias: store.value(bias), kernel: kernel, stride: stride,
                          padding: padding, reluInput: reluInput, upsample: upsample, adding: skip, reluOutput: reluOutput)
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
        let ring = Scratch<Float>(threads * 3 * rowFloats + rowFloats, zeroed: true)
        let zero = UnsafePointer(ring.pointer + threads * 3 * rowFloats)
        withExtendedLifetime((phases, ring)) {
            parallelFor(threads) { part in
                for t in part {
                    var padded = RowRing(ring.pointer + t * 3 * rowFloats, zero: zero, slots: 3, rowElements: rowFloats,
                                         padding: cin, height: h)
                    var pointers = [UnsafePointer<Float>?](repeating: nil, count: 2)
                    for r in (t * share)..<min(rows, (t + 1) * share) {
                        let (img, i) = (r / h, r % h)
                        let window = (0..<3).map { dy in
                            padded.row(img: img, iy: i - 1 + dy) { copyRow($0, x, row: img * h + i - 1 + dy, relu: reluInput, upsample: 1) }
                        }
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

/// A convolution of x ([n, h, w, cin]) with weights [k, k, cin, cout] (row-major, as Conv2d
/// stores them) into out ([n, ho, wo, cout]) on the direct kernel: each thread takes a contiguous
/// share of the output rows and keeps the input rows of their windows in a ring of padded copies
/// (through the ReLU and the upsampling, when asked), so every input row is copied about once.
func directConvolution(_ x: Tensor, _ out: Tensor, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                       kernel k: Int, stride: Int, padding: Int, reluInput: Bool = false, upsample: Int = 1,
                       adding skip: Tensor? = nil, reluOutput: Bool = false) {
    let (n, h, w, cin, cout) = (x.shape[0], x.shape[1] * upsample, x.shape[2] * upsample, x.shape[3], out.shape[3])
    let (ho, wo) = (out.shape[1], out.shape[2])
    let packed = Scratch<Float>(vqz_conv_packed_count(Int32(k * k * cin), Int32(cout)))
    vqz_conv_pack(packed.pointer, weights, Int32(k * k * cin), Int32(cout))
    let rows = n * ho
    let threads = max(1, min(Threads.count, rows, (rows * wo + 63) / 64))
    let share = (rows + threads - 1) / threads
    let rowFloats = (w + 2 * padding) * cin
    let ring = Scratch<Float>(threads * k * rowFloats + rowFloats, zeroed: true)
    let zero = UnsafePointer(ring.pointer + threads * k * rowFloats)
    withExtendedLifetime((packed, ring)) {
        parallelFor(threads) { part in
            for t in part {
                var padded = RowRing(ring.pointer + t * k * rowFloats, zero: zero, slots: k, rowElements: rowFloats,
                                     padding: padding * cin, height: h)
                var pointers = [UnsafePointer<Float>?](repeating: nil, count: k)
                for r in (t * share)..<min(rows, (t + 1) * share) {
                    let (img, oy) = (r / ho, r % ho)
                    for ky in 0..<k {
                        let iy = oy * stride - padding + ky
                        pointers[ky] = padded.row(img: img, iy: iy) {
                            copyRow($0, x, row: img * x.shape[1] + iy / upsample, relu: reluInput, upsample: upsample)
                        }
                    }
                    let o = r * wo * cout
                    vqz_conv_row(out.data + o, cout, skip.map { UnsafePointer($0.data + o) }, pointers, stride * cin,
                                 Int32(k * cin), Int32(k), Int32(wo), packed.pointer, Int32(cout), bias, reluOutput ? 1 : 0)
                }
            }
        }
    }
}
