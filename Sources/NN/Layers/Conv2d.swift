/// 2-D convolution over NHWC images. Weights are stored [k, k, Cin, Cout]. The forward pass runs
/// the direct kernel where the CPU has AVX2 and FMA (Conv2d+Direct.swift); elsewhere, and for the
/// backward pass, it is lowered to one large sgemm per block of output pixels: im2col turns each
/// output pixel's receptive field into a row of K = k*k*Cin floats, and
/// out[M, Cout] = col[M, K] * W[K, Cout] + b.
///
/// The im2col buffer is built per block of output rows, so memory stays bounded for any batch,
/// and backward rebuilds it instead of keeping it (bandwidth is cheaper than memory here).
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Param    // [k, k, Cin, Cout]
    public let bias: Param      // [Cout]
    let store: ParameterStore
    /// Masked convolutions (PixelCNN) multiply the weights by this before every use.
    public var weightMask: [Float]?
    /// The first layer of a network skips dX.
    public var computesInputGradient = true
    /// Off where only the input's gradient is wanted (a latent optimised through a fixed decoder):
    /// backward then skips dW and dB, a third of its arithmetic.
    public var computesParameterGradients = true
    /// The arithmetic of `infer` (forward and backward always run in f32). `.int16` runs integer
    /// weights and activations where the CPU has the integer kernels (see Conv2d+Integer.swift)
    /// and f32 elsewhere. The weights are quantized when first used after this
    /// is set: set it again after changing them.
    public var inferencePrecision: InferencePrecision = .float32 { didSet { quantized = [:] } }
    /// Packed integer weights by variant (the plain kernel, or the four phases of the upsampled one).
    var quantized: [Int: QuantizedWeights] = [:]

    private var input: Tensor?                 // [N, H, W, Cin], saved for backward
    private var output = Workspace()
    private var dInput = Workspace()
    var col = Workspace()
    private var dcol = Workspace()
    /// Floats of im2col per block: large enough for BLAS to run at full speed, small enough that the
    /// block im2col writes is still in cache when sgemm reads it. 1 MB (the L2 of one core here)
    /// measured 2-3x faster than 16 MB blocks, whose round trip through memory dominated.
    public var blockElements = 1 << 18

    public init(_ store: ParameterStore, _ name: String, inChannels: Int, outChannels: Int, kernel: Int,
                stride: Int = 1, padding: Int? = nil, initGain: Float = 1, rng: inout RNG) {
        self.store = store
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding ?? (kernel - 1) / 2
        let fanIn = kernel * kernel * inChannels
        weight = store.add("\(name).weight", [kernel, kernel, inChannels, outChannels],
                           heUniform(fanIn * outChannels, fanIn: fanIn, gain: initGain, rng: &rng))
        bias = store.add("\(name).bias", [outChannels], [Float](repeating: 0, count: outChannels))
    }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
    }

    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
    var K: Int { kernel * kernel * inChannels }

    func maskedWeights() -> UnsafeMutablePointer<Float> {
        let w = store.value(weight)
        if let mask = weightMask { for i in 0..<weight.count { w[i] *= mask[i] } }
        return w
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [N,H,W,\(inChannels)], got \(x.shape)")
        input = x
        let (n, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let (ho, wo) = outputSize(height: h, width: w)
        let out = output.tensor([n, ho, wo, outChannels])
        if usesDirectKernel {
            inferDirect(x, out, reluInput: false, upsample: 1, adding: nil, reluOutput: false)
            return out
        }
        let weights = maskedWeights()
        let b = store.value(bias)
        let rows = n * ho * wo
        for r in 0..<rows { (out.data + r * outChannels).update(from: b, count: outChannels) }
        if isPointwise {
            gemm(out.data, x.data, weights, m: rows, n: outChannels, k: K, beta: 1)
            return out
        }
        // Forward needs no whole-image alignment: blocks of rows keep one huge image bounded too.
        let blockRows = max(1, blockElements / K)
        let buffer = col.buffer(min(rows, blockRows) * K)
        var m0 = 0
        while m0 < rows {
            let m1 = min(rows, m0 + blockRows)
            im2col(buffer, x, rows: m0..<m1, ho: ho, wo: wo)
            gemm(out.data + m0 * outChannels, buffer, weights, m: m1 - m0, n: outChannels, k: K, beta: 1)
            m0 = m1
        }
        return out
    }

    public func infer(_ x: Tensor) -> Tensor { infer(x, reluInput: false) }

    /// Inference with its elementwise neighbours folded in, so that no full-size intermediate is
    /// written (Sequential and Residual call it so): `reluInput` applies max(0, x) and
    /// `upsampleInput` nearest-neighbour 2x upsampling to the input as im2col reads it, and
    /// `adding` adds a tensor of the output's shape (a skip connection) and `reluOutput` applies
    /// max(0, y) to each block of output while the block is in cache (a ReLU after the convolution
    /// costs one pass over the output; before the next one, nine over its im2col). The products
    /// and sums are forward's, in the same order, so the result equals forward on the transformed
    /// input, plus `adding`, through the ReLU, bit for bit (except after upsampling, see
    /// inferUpsampled).
    ///
    /// `intoSkip` writes the result over `adding`'s storage instead of a new tensor (a residual
    /// block whose input nothing else reads: one activation fewer to allocate and fault in). Each
    /// output element is written once, after its own skip element is read, on the direct and
    /// integer kernels; the im2col path writes the bias first, so it allocates as before.
    ///
    /// Where the CPU has AVX2 and FMA, forward and infer both run the direct kernel
    /// (Conv2d+Direct.swift), whose sums do not depend on the CPU or the threads. Elsewhere each
    /// thread of our pool takes a contiguous share of the output pixels and runs im2col and a
    /// single-threaded sgemm on blocks of its share, so a block never leaves the core that wrote
    /// it and BLAS's own threads do not spin beside ours.
    public func infer(_ x: Tensor, reluInput: Bool, upsampleInput: Bool = false, adding skip: Tensor? = nil,
                      intoSkip: Bool = false, reluOutput: Bool = false) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [N,H,W,\(inChannels)], got \(x.shape)")
        input = nil   // inference keeps no reference to its input, so it can be freed
        let up = upsampleInput ? 2 : 1
        let (n, h, w) = (x.shape[0], x.shape[1] * up, x.shape[2] * up)
        let (ho, wo) = outputSize(height: h, width: w)
        let integer = usesIntegerKernels
        let out: Tensor
        if intoSkip, let skip, skip !== x, integer || usesDirectKernel {
            out = skip
        } else {
            out = output.uninitializedTensor([n, ho, wo, outChannels])
        }
        if let skip { precondition(skip.shape == out.shape, "conv skip \(skip.shape) for output \(out.shape)") }
        if upsampleInput && kernel == 3 && stride == 1 && padding == 1 {
            if integer {
                inferUpsampledInteger(x, out, reluInput: reluInput, adding: skip, reluOutput: reluOutput)
            } else if usesDirectKernel {
                inferUpsampledDirect(x, out, reluInput: reluInput, adding: skip, reluOutput: reluOutput)
            } else {
                inferUpsampled(x, out, reluInput: reluInput, adding: skip, reluOutput: reluOutput)
            }
            return out
        }
        if integer {
            inferInteger(x, out, reluInput: reluInput, upsample: up, adding: skip, reluOutput: reluOutput)
            return out
        }
        if usesDirectKernel {
            inferDirect(x, out, reluInput: reluInput, upsample: up, adding: skip, reluOutput: reluOutput)
            return out
        }
        let (weights, b, cout, K) = (maskedWeights(), store.value(bias), outChannels, self.K)
        let rows = n * ho * wo
        let direct = isPointwise && !reluInput && !upsampleInput
        let blockRows = max(1, blockElements / K)
        // At least a block per thread, and no thread for fewer than 64 rows.
        let threads = max(1, min(Threads.count, (rows + 63) / 64))
        let share = (rows + threads - 1) / threads
        let perThread = min(share, blockRows) * K
        let buffers = direct ? out.data : col.buffer(threads * perThread)
        parallelBLAS(threads) { t in
            let colBuf = buffers + t * perThread
            var m0 = t * share
            let end = min(rows, m0 + share)
            while m0 < end {
                let m1 = min(end, m0 + blockRows)
                let dst = out.data + m0 * cout
                for r in 0..<(m1 - m0) { (dst + r * cout).update(from: b, count: cout) }
                if direct {
                    gemm(dst, x.data + m0 * K, weights, m: m1 - m0, n: cout, k: K, beta: 1)
                } else {
                    im2col(colBuf, x, rows: m0..<m1, h: h, w: w, ho: ho, wo: wo, relu: reluInput, upsample: up)
                    gemm(dst, colBuf, weights, m: m1 - m0, n: cout, k: K, beta: 1)
                }
                if let skip {
                    let s = skip.data + m0 * cout
                    for i in 0..<((m1 - m0) * cout) { dst[i] = s[i] + dst[i] }
                }
                if reluOutput {
                    for i in 0..<((m1 - m0) * cout) { dst[i] = max(dst[i], 0) }
                }
                m0 = m1
            }
        }
        return out
    }

    /// A 3x3 convolution (stride 1, padding 1) of the 2x-upsampled input, computed on the input
    /// itself: output pixel (2i+a, 2j+b) only sees input rows i-1+a, i+a and columns j-1+b, j+b,
    /// so each of the four phases (a, b) is a 2x2 convolution whose taps sum the 3x3 taps that
    /// fall on the same input pixel. That is 4/9 of the multiply-adds, and im2col reads the input
    /// at its own size. Equal to the upsampled convolution up to float rounding (the weights are
    /// summed before they multiply).
    private func inferUpsampled(_ x: Tensor, _ out: Tensor, reluInput: Bool, adding skip: Tensor?, reluOutput: Bool) {
        let (n, h, w, cin, cout) = (x.shape[0], x.shape[1], x.shape[2], inChannels, outChannels)
        let b = store.value(bias)
        let K = 4 * cin
        let phaseWeights = upsampledPhaseWeights()
        let rows = n * h * w
        let blockRows = max(1, blockElements / K)
        let threads = max(1, min(Threads.count, (rows + 63) / 64))
        let share = (rows + threads - 1) / threads
        let perThread = min(share, blockRows) * (K + cout)
        let buffers = col.buffer(threads * perThread)
        parallelBLAS(threads) { t in
            let colBuf = buffers + t * perThread
            let result = colBuf + min(share, blockRows) * K
            for phase in 0..<4 {
                let (a, bb) = (phase / 2, phase % 2)
                var m0 = t * share
                let end = min(rows, m0 + share)
                while m0 < end {
                    let m1 = min(end, m0 + blockRows)
                    // im2col of the 2x2 window at rows i-1+a..i+a, columns j-1+b..j+b.
                    for local in 0..<(m1 - m0) {
                        let m = m0 + local
                        let img = m / (h * w), i = m % (h * w) / w, j = m % w
                        let dstRow = colBuf + local * K
                        let ix0 = j - 1 + bb
                        for dy in 0..<2 {
                            let iy = i - 1 + a + dy
                            let dstTaps = dstRow + dy * 2 * cin
                            if iy < 0 || iy >= h {
                                dstTaps.update(repeating: 0, count: 2 * cin)
                            } else if ix0 >= 0 && ix0 + 2 <= w {
                                copy(dstTaps, x.data + ((img * h + iy) * w + ix0) * cin, 2 * cin, relu: reluInput)
                            } else {
                                for dx in 0..<2 {
                                    let ix = ix0 + dx
                                    if ix >= 0 && ix < w {
                                        copy(dstTaps + dx * cin, x.data + ((img * h + iy) * w + ix) * cin, cin, relu: reluInput)
                                    } else {
                                        (dstTaps + dx * cin).update(repeating: 0, count: cin)
                                    }
                                }
                            }
                        }
                        (result + local * cout).update(from: b, count: cout)
                    }
                    gemm(result, colBuf, phaseWeights.data + phase * K * cout, m: m1 - m0, n: cout, k: K, beta: 1)
                    for local in 0..<(m1 - m0) {
                        let m = m0 + local
                        let img = m / (h * w), i = m % (h * w) / w, j = m % w
                        let o = ((img * 2 * h + 2 * i + a) * 2 * w + 2 * j + bb) * cout
                        let (dst, src) = (out.data + o, result + local * cout)
                        if let skip {
                            let sk = skip.data + o
                            for c in 0..<cout { dst[c] = sk[c] + src[c] }
                        } else {
                            for c in 0..<cout { dst[c] = src[c] }
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

    /// The weights of the four phases of inferUpsampled, [4, 4 * Cin, Cout]: phase (a, b) as
    /// [dy, dx, Cin, Cout], each tap the sum of the 3x3 taps that fall on the same input pixel.
    func upsampledPhaseWeights() -> Tensor {
        let (cin, cout) = (inChannels, outChannels)
        let w3 = maskedWeights()
        let K = 4 * cin
        // phaseWeights[a][b] as [dy, dx, Cin, Cout]: the 3x3 taps ky that phase a's tap dy covers.
        let taps = [[[0], [1, 2]], [[0, 1], [2]]]
        let phaseWeights = Tensor([4, K, cout])
        for a in 0..<2 {
            for bb in 0..<2 {
                let pw = phaseWeights.data + (a * 2 + bb) * K * cout
                for dy in 0..<2 {
                    for dx in 0..<2 {
                        let dst = pw + (dy * 2 + dx) * cin * cout
                        for ky in taps[a][dy] {
                            for kx in taps[bb][dx] {
                                let src = w3 + (ky * 3 + kx) * cin * cout
                                for i in 0..<(cin * cout) { dst[i] += src[i] }
                            }
                        }
                    }
                }
            }
        }
        return phaseWeights
    }

    /// Multiply-adds x 2 that `infer` executes on an h x w input (before upsampling).
    public func inferenceFLOPs(height: Int, width: Int, upsampleInput: Bool = false) -> Double {
        let up = upsampleInput ? 2 : 1
        let (ho, wo) = outputSize(height: height * up, width: width * up)
        let taps = upsampleInput && kernel == 3 && stride == 1 && padding == 1 ? 4 : kernel * kernel
        return 2 * Double(ho * wo * taps * inChannels * outChannels)
    }

    /// im2col of rows `rows` (flattened n, oy, ox) of one thread, into `col`, reading the input
    /// through max(0, x) when `relu` and through nearest-neighbour upsampling by `upsample`
    /// (h, w are the upsampled sizes).
    private func im2col(_ col: UnsafeMutablePointer<Float>, _ x: Tensor, rows: Range<Int>, h: Int, w: Int,
                        ho: Int, wo: Int, relu: Bool, upsample: Int) {
        let (cin, k, s, p, K) = (inChannels, kernel, stride, padding, self.K)
        let (srcH, srcW) = (x.shape[1], x.shape[2])
        let src = x.data
        for local in 0..<rows.count {
            let m = rows.lowerBound + local
            let img = m / (ho * wo), r = m % (ho * wo)
            let oy = r / wo, ox = r % wo
            let dstRow = col + local * K
            let ix0 = ox * s - p
            for ky in 0..<k {
                let iy = oy * s - p + ky
                let dstTaps = dstRow + ky * k * cin
                if iy < 0 || iy >= h {
                    dstTaps.update(repeating: 0, count: k * cin)
                    continue
                }
                if upsample == 1 && ix0 >= 0 && ix0 + k <= w {
                    // The row's k taps are k * cin consecutive floats of the input.
                    copy(dstTaps, src + ((img * srcH + iy) * srcW + ix0) * cin, k * cin, relu: relu)
                    continue
                }
                for kx in 0..<k {
                    let ix = ix0 + kx
                    let dst = dstTaps + kx * cin
                    if ix >= 0 && ix < w {
                        copy(dst, src + ((img * srcH + iy / upsample) * srcW + ix / upsample) * cin, cin, relu: relu)
                    } else {
                        dst.update(repeating: 0, count: cin)
                    }
                }
            }
        }
    }

    public func releaseBuffers() {
        input = nil
        output = Workspace()
        dInput = Workspace()
        col = Workspace()
        dcol = Workspace()
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("conv backward before forward") }
        let (n, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let (ho, wo) = (dy.shape[1], dy.shape[2])
        let rows = n * ho * wo
        let dW = store.grad(weight), dB = store.grad(bias)
        let weights = maskedWeights()
        let parameters = computesParameterGradients

        // dB[c] += sum over rows of dY[row, c]
        for r in 0..<(parameters ? rows : 0) {
            let src = dy.data + r * outChannels
            for c in 0..<outChannels { dB[c] += src[c] }
        }
        let dx = dInput.tensor(x.shape)
        if isPointwise {
            if parameters { gemm(dW, x.data, dy.data, m: K, n: outChannels, k: rows, transA: true, beta: 1) }
            if computesInputGradient {
                gemm(dx.data, dy.data, weights, m: rows, n: K, k: outChannels, transB: true)
            }
            maskGradient(dW)
            return dx
        }
        // With stride 1, dX is the convolution of dY with the weights turned by 180 degrees (and
        // Cin, Cout swapped), padded by k - 1 - p: the direct kernel runs it, with no col2im.
        let dxByConvolution = computesInputGradient && usesDirectKernel && stride == 1 && padding < kernel
        if dxByConvolution {
            directConvolution(dy, dx, weights: turnedWeights(), bias: nil, kernel: kernel, stride: 1,
                              padding: kernel - 1 - padding)
        }
        let inputGradientByBlocks = computesInputGradient && !dxByConvolution
        if !parameters && !inputGradientByBlocks { return dx }
        // Blocks of output rows, as in forward; col2im adds each block's share into dx.
        let blockRows = max(1, blockElements / K)
        let colBuf = col.buffer(min(rows, blockRows) * K)
        let dcolBuf = inputGradientByBlocks ? dcol.buffer(min(rows, blockRows) * K) : colBuf
        if inputGradientByBlocks { dx.zero() }
        var m0 = 0
        while m0 < rows {
            let m1 = min(rows, m0 + blockRows)
            if parameters {
                im2col(colBuf, x, rows: m0..<m1, ho: ho, wo: wo)
                // dW[K, Cout] += col^T[K, M] * dY[M, Cout]
                gemm(dW, colBuf, dy.data + m0 * outChannels, m: K, n: outChannels, k: m1 - m0, transA: true, beta: 1)
            }
            if inputGradientByBlocks {
                // dcol[M, K] = dY[M, Cout] * W^T[Cout, K], then gathered back into pixels.
                gemm(dcolBuf, dy.data + m0 * outChannels, weights, m: m1 - m0, n: K, k: outChannels, transB: true)
                col2im(dx, dcolBuf, rows: m0..<m1, h: h, w: w, ho: ho, wo: wo)
            }
            m0 = m1
        }
        maskGradient(dW)
        return dx
    }

    private func maskGradient(_ dW: UnsafeMutablePointer<Float>) {
        // Masked-out weights stay exactly zero: their gradient is zero too.
        if let mask = weightMask { for i in 0..<weight.count { dW[i] *= mask[i] } }
    }

    /// Fills col with the receptive fields of output pixels `rows` (flattened n, oy, ox).
    private func im2col(_ col: UnsafeMutablePointer<Float>, _ x: Tensor, rows: Range<Int>, ho: Int, wo: Int) {
        let (h, w, cin, k, s, p, K) = (x.shape[1], x.shape[2], inChannels, kernel, stride, padding, self.K)
        let src = x.data
        parallelFor(rows.count, minChunk: 64) { part in
            for local in part {
                let m = rows.lowerBound + local
                let img = m / (ho * wo), r = m % (ho * wo)
                let oy = r / wo, ox = r % wo
                let dstRow = col + local * K
                for ky in 0..<k {
                    let iy = oy * s - p + ky
                    for kx in 0..<k {
                        let ix = ox * s - p + kx
                        let dst = dstRow + (ky * k + kx) * cin
                        if iy >= 0 && iy < h && ix >= 0 && ix < w {
                            dst.update(from: src + ((img * h + iy) * w + ix) * cin, count: cin)
                        } else {
                            dst.update(repeating: 0, count: cin)
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col for the output pixels `rows` (flattened n, oy, ox), as a gather that
    /// adds into dx: each input pixel sums the dcol entries of this block that read it, so threads
    /// write disjoint pixels and need no locks, and blocks run one after another.
    private func col2im(_ dx: Tensor, _ dcol: UnsafeMutablePointer<Float>, rows: Range<Int>,
                        h: Int, w: Int, ho: Int, wo: Int) {
        let (cin, k, s, p, K) = (inChannels, kernel, stride, padding, self.K)
        // The input pixels the block can touch: from the first output row's receptive field to the last's.
        let (firstImg, firstOy) = (rows.lowerBound / (ho * wo), rows.lowerBound % (ho * wo) / wo)
        let (lastImg, lastOy) = ((rows.upperBound - 1) / (ho * wo), (rows.upperBound - 1) % (ho * wo) / wo)
        let lo = (firstImg * h + min(h, max(0, firstOy * s - p))) * w
        let hi = (lastImg * h + min(h, max(0, lastOy * s - p + k))) * w
        if lo >= hi { return }
        parallelFor(hi - lo, minChunk: 64) { part in
            for local in part {
                let pixel = lo + local
                let img = pixel / (h * w), r = pixel % (h * w)
                let iy = r / w, ix = r % w
                let dst = dx.data + pixel * cin
                for ky in 0..<k {
                    let ty = iy + p - ky
                    if ty < 0 || ty % s != 0 { continue }
                    let oy = ty / s
                    if oy >= ho { continue }
                    for kx in 0..<k {
                        let tx = ix + p - kx
                        if tx < 0 || tx % s != 0 { continue }
                        let ox = tx / s
                        if ox >= wo { continue }
                        let m = (img * ho + oy) * wo + ox
                        if m < rows.lowerBound || m >= rows.upperBound { continue }
                        let src = dcol + (m - rows.lowerBound) * K + (ky * k + kx) * cin
                        for c in 0..<cin { dst[c] += src[c] }
                    }
                }
            }
        }
    }

    /// count floats from src to dst, through max(0, x) when relu.
    @inline(__always)
    private func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int, relu: Bool) {
        if relu {
            for c in 0..<count { dst[c] = max(src[c], 0) }
        } else if count >= 16 {
            dst.update(from: src, count: count)
        } else {
            for c in 0..<count { dst[c] = src[c] }
        }
    }
}

/// Every convolution of a network, in order, through its Sequential and Residual containers.
public func convolutions(in layer: any Layer) -> [Conv2d] {
    switch layer {
    case let conv as Conv2d: return [conv]
    case let seq as Sequential: return seq.layers.flatMap { convolutions(in: $0) }
    case let res as Residual: return convolutions(in: res.body)
    default: return []
    }
}
