import CKernels

/// The arithmetic a layer's inference runs in.
public enum InferencePrecision: Sendable {
    /// f32 throughout: the reference, and what every CPU runs the same way.
    case float32
    /// int16 weights (one scale per output channel) times int16 activations (one scale per
    /// tensor, from its largest magnitude: dynamic, no calibration), their ranges bounded so the
    /// int32 sums are exact (about 11 bits each for a 3x3x32 reduction, 10 for 3x3x128).
    /// Runs where `VectorKernels.available`; elsewhere the layer runs f32.
    case int16
}

/// Weights quantized and packed once for the integer kernels: [Np * Kp] int16 within
/// +-vqz_weight_limit(K), and one scale per output channel. `rowTaps` (k * Cin, when odd) gets a
/// zero weight after each kernel row, so the row kernel can take every row's taps in pairs.
final class QuantizedWeights {
    let packed: UnsafeMutablePointer<Int16>
    let scale: [Float]
    /// The taps per kernel row as packed (rowTaps rounded up to even), and the packed reduction.
    let rowTaps: Int, k: Int

    init(_ w: UnsafePointer<Float>, rows: Int, rowTaps: Int, n: Int) {
        let padded = (rowTaps + 1) & ~1, k = rows * padded
        var weights = [Float](repeating: 0, count: k * n)
        for r in 0..<rows {
            for t in 0..<rowTaps {
                for c in 0..<n { weights[(r * padded + t) * n + c] = w[(r * rowTaps + t) * n + c] }
            }
        }
        let packed = LargeBuffers.allocate(k * ((n + 7) & ~7), of: Int16.self)
        var scale = [Float](repeating: 0, count: n)
        scale.withUnsafeMutableBufferPointer {
            vqz_pack_weights(packed, $0.baseAddress!, weights, Int32(k), Int32(n), vqz_weight_limit(Int32(k)))
        }
        self.packed = packed
        self.scale = scale
        self.rowTaps = padded
        self.k = k
    }

    deinit { LargeBuffers.release(packed) }
}

extension Conv2d {
    var usesIntegerKernels: Bool {
        inferencePrecision == .int16 && VectorKernels.available && weightMask == nil
    }

    /// The activation scale of the whole input (dynamic: max(0, x) when `relu`, else |x|, over the
    /// tensor), and its reciprocal: the float one integer step stands for, and what quantizes.
    private func activationScale(_ x: Tensor, relu: Bool, limit: Int32) -> (scale: Float, inverse: Float) {
        let parts = max(1, min(Threads.count, x.count >> 16))
        let chunk = (x.count + parts - 1) / parts
        var maxima = [Float](repeating: 0, count: parts)
        maxima.withUnsafeMutableBufferPointer { m in
            parallelFor(parts) { range in
                for part in range where part * chunk < x.count {
                    m[part] = vqz_absmax(x.data + part * chunk, min(chunk, x.count - part * chunk), relu ? 1 : 0)
                }
            }
        }
        let amax = maxima.max() ?? 0
        // An all-zero input quantizes to zeros whatever the scale; 1 keeps the division finite.
        let scale = amax > 0 ? amax / Float(limit) : 1
        return (scale, 1 / scale)
    }

    /// Quantizes row `row` of x ([n, h, w, cin], rows numbered across images) into dst, each pixel
    /// repeated `upsample` times (expanded in place from the back, so no temporary).
    private func quantizeRow(_ dst: UnsafeMutablePointer<Int16>, _ x: Tensor, row: Int, inverse: Float, limit: Int32,
                             relu: Bool, upsample: Int) {
        let (w, cin) = (x.shape[2], x.shape[3])
        vqz_quantize(dst, x.data + row * w * cin, w * cin, inverse, limit, relu ? 1 : 0)
        if upsample == 1 { return }
        for ix in (0..<w).reversed() {
            for r in (0..<upsample).reversed() {
                (dst + (ix * upsample + r) * cin).update(from: dst + ix * cin, count: cin)
            }
        }
    }

    /// `infer` on the integer kernels, the input upsampled by `upsample` (the 3x3 case has
    /// inferUpsampledInteger): the rows of each window quantized into a per-thread ring as
    /// inferDirect copies them, and vqz_qconv_row with the bias, the skip and the ReLU in its epilogue.
    func inferInteger(_ x: Tensor, _ out: Tensor, reluInput: Bool, upsample: Int, adding skip: Tensor?, reluOutput: Bool) {
        if usesWinograd(kernel: kernel, stride: stride, padding: padding, upsample: upsample, cin: inChannels, cout: outChannels)
            && inChannels % 2 == 0 {
            inferWinogradInteger(x, out, reluInput: reluInput, adding: skip, reluOutput: reluOutput)
            return
        }
        let (n, h, w, cin, cout, k) = (x.shape[0], x.shape[1] * upsample, x.shape[2] * upsample, inChannels, outChannels, kernel)
        let (ho, wo) = (out.shape[1], out.shape[2])
        if quantized[0] == nil { quantized[0] = QuantizedWeights(maskedWeights(), rows: k, rowTaps: k * cin, n: cout) }
        let qw = quantized[0]!
        let limit = vqz_activation_limit(Int32(qw.k))
        let (xs, inverse) = activationScale(x, relu: reluInput, limit: limit)
        let scales = qw.scale.map { $0 * xs }
        let b = store.value(bias)
        // One value more than the padded row: the pair of a row's odd last tap reads it (times 0).
        let shares = RowShares<Int16>(rows: n * ho, width: wo, slots: k, rowElements: (w + 2 * padding) * cin + 1,
                                      padding: padding * cin, height: h)
        scales.withUnsafeBufferPointer { sc in
            shares.forEach { ring, rows in
                var pointers = [UnsafePointer<Int16>?](repeating: nil, count: k)
                for r in rows {
                    let (img, oy) = (r / ho, r % ho)
                    ring.window(img: img, first: oy * stride - padding, into: &pointers) {
                        quantizeRow($0, x, row: img * x.shape[1] + $1 / upsample, inverse: inverse, limit: limit,
                                    relu: reluInput, upsample: upsample)
                    }
                    let o = r * wo * cout
                    vqz_qconv_row(out.data + o, cout, skip.map { UnsafePointer($0.data + o) }, pointers, stride * cin,
                                  Int32(qw.rowTaps), Int32(k), Int32(wo), qw.packed, Int32(cout), sc.baseAddress!, b,
                                  reluOutput ? 1 : 0)
                }
            }
        }
    }

    /// The key of Winograd point p's weights in `quantized` (after the plain kernel's and the phases').
    private static func winogradKey(_ p: Int) -> Int { 16 + p }

    /// inferInteger for the convolutions the f32 path runs by Winograd F(2x2, 3x3): 16 integer
    /// products per 2x2 outputs instead of 36 (vqz_qwinograd_rows). Each point's transformed weights
    /// are quantized on their own (a reduction over Cin, so more bits than the direct kernel's 9 Cin
    /// allow); the transformed inputs share one scale, four times the input's, since each is a sum
    /// of four inputs with signs. The input rows are kept in f32, as the f32 Winograd keeps them.
    func inferWinogradInteger(_ x: Tensor, _ out: Tensor, reluInput: Bool, adding skip: Tensor?, reluOutput: Bool) {
        let (w, cin, cout) = (x.shape[2], inChannels, outChannels)
        if quantized[Self.winogradKey(0)] == nil {
            var u = [Float](repeating: 0, count: 16 * cin * cout)
            vqz_winograd_transform_weights(&u, maskedWeights(), Int32(cin), Int32(cout))
            u.withUnsafeBufferPointer { u in
                for p in 0..<16 {
                    quantized[Self.winogradKey(p)] = QuantizedWeights(u.baseAddress! + p * cin * cout, rows: 1, rowTaps: cin, n: cout)
                }
            }
        }
        let points = (0..<16).map { quantized[Self.winogradKey($0)]! }
        let limit = vqz_activation_limit(Int32(cin))
        let inputScale = 4 * activationScale(x, relu: reluInput, limit: limit).scale
        let scales = points.flatMap { $0.scale.map { $0 * inputScale } }
        let packed: [UnsafePointer<Int16>?] = points.map { UnsafePointer($0.packed) }
        let b = store.value(bias)
        withExtendedLifetime(points) {
            scales.withUnsafeBufferPointer { sc in
                let scalePointers: [UnsafePointer<Float>?] = (0..<16).map { sc.baseAddress! + $0 * cout }
                forEachWinogradGroup(x, outChannels: cout, reluInput: reluInput,
                                     workspace: vqz_qwinograd_scratch_count(Int32(cin), Int32(cout))) { rows, workspace, first, count in
                    let o = first * w * cout
                    vqz_qwinograd_rows(out.data + o, w * cout, Int32(count), skip.map { UnsafePointer($0.data + o) },
                                       rows, Int32(cin), Int32(w), packed, scalePointers, Int32(cout), 1 / inputScale, limit,
                                       b, reluOutput ? 1 : 0, workspace)
                }
            }
        }
    }

    /// inferUpsampledDirect on the integer kernels: each phase's weights quantized on their own.
    func inferUpsampledInteger(_ x: Tensor, _ out: Tensor, reluInput: Bool, adding skip: Tensor?, reluOutput: Bool) {
        let (n, h, w, cin, cout) = (x.shape[0], x.shape[1], x.shape[2], inChannels, outChannels)
        let K = 4 * cin
        if quantized[1] == nil {
            let pw = upsampledPhaseWeights()
            for phase in 0..<4 {
                quantized[1 + phase] = QuantizedWeights(pw.data + phase * K * cout, rows: 2, rowTaps: 2 * cin, n: cout)
            }
        }
        let phases = (0..<4).map { quantized[1 + $0]! }
        let limit = vqz_activation_limit(Int32(phases[0].k))
        let (xs, inverse) = activationScale(x, relu: reluInput, limit: limit)
        let phaseScales = phases.map { $0.scale.map { $0 * xs } }
        let b = store.value(bias)
        let shares = RowShares<Int16>(rows: n * h, width: w, slots: 3, rowElements: (w + 2) * cin, padding: cin, height: h)
        shares.forEach { ring, rows in
            var pointers = [UnsafePointer<Int16>?](repeating: nil, count: 2)
            var window = [UnsafePointer<Int16>?](repeating: nil, count: 3)
            for r in rows {
                let (img, i) = (r / h, r % h)
                ring.window(img: img, first: i - 1, into: &window) {
                    quantizeRow($0, x, row: img * h + $1, inverse: inverse, limit: limit, relu: reluInput, upsample: 1)
                }
                for phase in 0..<4 {
                    let (a, bb) = (phase / 2, phase % 2)
                    pointers[0] = window[a]! + bb * cin
                    pointers[1] = window[a + 1]! + bb * cin
                    let o = ((img * 2 * h + 2 * i + a) * 2 * w + bb) * cout
                    phaseScales[phase].withUnsafeBufferPointer { sc in
                        vqz_qconv_row(out.data + o, 2 * cout, skip.map { UnsafePointer($0.data + o) }, pointers, cin,
                                      Int32(phases[phase].rowTaps), 2, Int32(w), phases[phase].packed, Int32(cout),
                                      sc.baseAddress!, b, reluOutput ? 1 : 0)
                    }
                }
            }
        }
    }
}

/// Sets `inferencePrecision` on every Conv2d in `layer`, through Sequential and Residual.
public func setInferencePrecision(_ precision: InferencePrecision, in layer: any Layer) {
    for conv in convolutions(in: layer) { conv.inferencePrecision = precision }
}
