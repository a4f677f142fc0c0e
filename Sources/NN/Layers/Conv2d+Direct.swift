import CKernels

/// Copies row `row` of x ([n, h, w, cin], rows numbered across images) to dst, through max(0, x)
/// when `relu`, each pixel repeated `upsample` times.
func copyRow(_ dst: UnsafeMutablePointer<Float>, _ x: Tensor, row: Int, relu: Bool, upsample: Int) {
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

/// f32 convolution on the direct kernel (vqz_conv_row): no im2col, the input rows of each thread's
/// windows kept in a ring of padded copies (RowShares), the ReLU or upsampling applied as they are
/// copied, and the kernel reading the windows in place. Its sums are fused multiply-adds in a fixed
/// order, equal to its naive twin's to the bit: the result depends neither on the CPU nor on the
/// threads, which keeps the encoder's tokens the same everywhere the kernel runs.
extension Conv2d {
    /// Whether forward and infer take the direct kernel (the CPU has AVX2 and FMA).
    var usesDirectKernel: Bool { VectorKernels.available }

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
        let phases = (0..<4).map { packedConvWeights(phaseWeights.data + $0 * K * cout, k: K, n: cout) }
        let b = store.value(bias)
        let shares = RowShares<Float>(rows: n * h, width: w, slots: 3, rowElements: (w + 2) * cin, padding: cin, height: h)
        withExtendedLifetime(phases) {
            shares.forEach { ring, rows in
                var pointers = [UnsafePointer<Float>?](repeating: nil, count: 2)
                var window = [UnsafePointer<Float>?](repeating: nil, count: 3)
                for r in rows {
                    let (img, i) = (r / h, r % h)
                    ring.window(img: img, first: i - 1, into: &window) { copyRow($0, x, row: img * h + $1, relu: reluInput, upsample: 1) }
                    for phase in 0..<4 {
                        let (a, bb) = (phase / 2, phase % 2)
                        pointers[0] = window[a]! + bb * cin
                        pointers[1] = window[a + 1]! + bb * cin
                        let o = ((img * 2 * h + 2 * i + a) * 2 * w + bb) * cout
                        vqz_conv_row(out.data + o, 2 * cout, skip.map { UnsafePointer($0.data + o) }, pointers,
                                     cin, Int32(2 * cin), 2, Int32(w), phases[phase].pointer, Int32(cout), b,
                                     reluOutput ? 1 : 0)
                    }
                }
            }
        }
    }

    /// The weights of the convolution whose output is dX for stride 1: turned by 180 degrees, with
    /// Cin and Cout swapped ([k, k, Cout, Cin]).
    func turnedWeights() -> [Float] {
        let (k, cin, cout) = (kernel, inChannels, outChannels)
        let weights = maskedWeights()
        var turned = [Float](repeating: 0, count: weight.count)
        for ky in 0..<k {
            for kx in 0..<k {
                let src = weights + ((k - 1 - ky) * k + (k - 1 - kx)) * cin * cout
                for co in 0..<cout {
                    for ci in 0..<cin { turned[((ky * k + kx) * cout + co) * cin + ci] = src[ci * cout + co] }
                }
            }
        }
        return turned
    }
}

/// A convolution of x ([n, h, w, cin]) with weights [k, k, cin, cout] (row-major, as Conv2d
/// stores them) into out ([n, ho, wo, cout]) on the direct kernel, the input through the ReLU and
/// the upsampling when asked: each input row is copied into its thread's ring about once. The
/// 3x3 convolutions with many channels go through Winograd F(2x2, 3x3) (usesWinograd).
func directConvolution(_ x: Tensor, _ out: Tensor, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                       kernel k: Int, stride: Int, padding: Int, reluInput: Bool = false, upsample: Int = 1,
                       adding skip: Tensor? = nil, reluOutput: Bool = false) {
    let (n, h, w, cin, cout) = (x.shape[0], x.shape[1] * upsample, x.shape[2] * upsample, x.shape[3], out.shape[3])
    let (ho, wo) = (out.shape[1], out.shape[2])
    if usesWinograd(kernel: k, stride: stride, padding: padding, upsample: upsample, cin: cin, cout: cout) {
        winogradConvolution(x, out, weights: weights, bias: bias, reluInput: reluInput, adding: skip, reluOutput: reluOutput)
        return
    }
    let packed = packedConvWeights(weights, k: k * k * cin, n: cout)
    let shares = RowShares<Float>(rows: n * ho, width: wo, slots: k, rowElements: (w + 2 * padding) * cin,
                                  padding: padding * cin, height: h)
    withExtendedLifetime(packed) {
        shares.forEach { ring, rows in
            var pointers = [UnsafePointer<Float>?](repeating: nil, count: k)
            for r in rows {
                let (img, oy) = (r / ho, r % ho)
                ring.window(img: img, first: oy * stride - padding, into: &pointers) {
                    copyRow($0, x, row: img * x.shape[1] + $1 / upsample, relu: reluInput, upsample: upsample)
                }
                let o = r * wo * cout
                vqz_conv_row(out.data + o, cout, skip.map { UnsafePointer($0.data + o) }, pointers, stride * cin,
                             Int32(k * cin), Int32(k), Int32(wo), packed.pointer, Int32(cout), bias, reluOutput ? 1 : 0)
            }
        }
    }
}

/// Whether directConvolution takes Winograd F(2x2, 3x3): 3x3, stride 1, padding 1, and channels
/// enough that its products (a matrix product over Cin per point) beat the direct kernel's 9 * Cin
/// taps. Measured by nnbench: 1.3-1.4x faster from 64 input channels; about even at 32 (slower on
/// batches of small crops), and 3-5x slower for the 3-channel stem and 3-channel output.
func usesWinograd(kernel: Int, stride: Int, padding: Int, upsample: Int, cin: Int, cout: Int) -> Bool {
    kernel == 3 && stride == 1 && padding == 1 && upsample == 1 && cin >= 64 && cout >= 32
}

/// directConvolution for a 3x3, stride-1, padding-1 kernel, by Winograd F(2x2, 3x3)
/// (vqz_winograd_rows): 16 products per 2x2 outputs instead of 36.
private func winogradConvolution(_ x: Tensor, _ out: Tensor, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                 reluInput: Bool, adding skip: Tensor?, reluOutput: Bool) {
    let (w, cin, cout) = (x.shape[2], x.shape[3], out.shape[3])
    let packed = Scratch<Float>(vqz_winograd_packed_count(Int32(cin), Int32(cout)))
    vqz_winograd_pack(packed.pointer, weights, Int32(cin), Int32(cout))
    withExtendedLifetime(packed) {
        forEachWinogradGroup(x, outChannels: cout, reluInput: reluInput,
                             workspace: vqz_winograd_scratch_count(Int32(cin), Int32(cout))) { rows, workspace, first, count in
            let o = first * w * cout
            vqz_winograd_rows(out.data + o, w * cout, Int32(count), skip.map { UnsafePointer($0.data + o) },
                              rows, Int32(cin), Int32(w), packed.pointer, Int32(cout), bias, reluOutput ? 1 : 0, workspace)
        }
    }
}

/// The groups of output rows a Winograd F(2x2, 3x3) call takes (f32 or integer), in parallel:
/// two rows per pair of tiles, and enough pairs to fill a chunk of tiles when the rows are narrow
/// (so the transformed weights serve many tiles). Each thread takes a share of the groups and
/// keeps the input rows of a group's windows in its ring (through the ReLU when `reluInput`);
/// `body(rows, workspace, first, count)` gets the padded input rows of the window, the thread's
/// `workspace` floats of scratch, the group's first output row (rows numbered across images) and
/// its number of rows.
func forEachWinogradGroup(_ x: Tensor, outChannels cout: Int, reluInput: Bool, workspace: Int,
                          _ body: ([UnsafePointer<Float>?], UnsafeMutablePointer<Float>, Int, Int) -> Void) {
    let (n, h, w, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let tilesPerPair = (w + 1) / 2, pairs = (h + 1) / 2
    let pairsPerGroup = min(pairs, max(1, Int(vqz_winograd_chunk(Int32(cin), Int32(cout))) / tilesPerPair))
    let groupRows = 2 * pairsPerGroup, groups = (pairs + pairsPerGroup - 1) / pairsPerGroup
    let shares = RowShares<Float>(rows: n * groups, width: groupRows * w, slots: groupRows + 2,
                                  rowElements: (2 * tilesPerPair + 2) * cin, padding: cin, height: h, workspace: workspace)
    shares.forEach { ring, share in
        var pointers = [UnsafePointer<Float>?](repeating: nil, count: groupRows + 2)
        for r in share {
            let (img, oy) = (r / groups, groupRows * (r % groups))
            ring.window(img: img, first: oy - 1, into: &pointers) {
                copyRow($0, x, row: img * h + $1, relu: reluInput, upsample: 1)
            }
            body(pointers, ring.workspace, img * h + oy, min(groupRows, h - oy))
        }
    }
}
