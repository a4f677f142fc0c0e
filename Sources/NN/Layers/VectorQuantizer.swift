import CKernels

/// Residual vector quantization: level 1 replaces each D-dim vector by its nearest entry of
/// codebook 1, level 2 quantizes what level 1 left, and so on; the sum of the chosen entries
/// is z_q. Any prefix of levels decodes, which gives quality levels.
///
/// Training uses the straight-through estimator (dL/dz := dL/dz_q), the commitment loss
/// beta * mean||z - sg(z_q)||^2, and EMA codebook updates (van den Oord et al. 2017, appendix)
/// with dead-code restarts: a code whose EMA usage falls below `deadUsage` is moved onto a
/// random residual of the current batch, which keeps nearly every code in use.
public final class ResidualVectorQuantizer {
    public let levels: Int, codebookSize: Int, dim: Int
    public var beta: Float = 0.25
    public var decay: Float = 0.99
    public var deadUsage: Float = 0.03
    public let codebooks: [Param]      // each [K, D]
    let clusterSize: [Param]           // each [K], EMA of assignment counts
    let embedSum: [Param]              // each [K, D], EMA of assigned vectors' sum
    let initialized: Param             // [levels]: 0 until a level is initialised from data
    let store: ParameterStore

    // Saved by forward for backward and the codebook update.
    private var input: Tensor?
    private var output = Workspace()
    private var dInput = Workspace()
    private var residuals: [[Float]] = []      // per used level, [M, D]
    public private(set) var indices: [[Int32]] = []
    public private(set) var commitmentLoss: Float = 0
    private var scores = Workspace()

    public init(_ store: ParameterStore, _ name: String, levels: Int, codebookSize: Int, dim: Int, rng: inout RNG) {
        self.store = store
        self.levels = levels
        self.codebookSize = codebookSize
        self.dim = dim
        var books: [Param] = [], sizes: [Param] = [], sums: [Param] = []
        for l in 0..<levels {
            // Drawn once for the codebook and its EMA sum, and not at all for a model built to be loaded.
            var drawn: [Float]? = nil
            func initial() -> [Float] {
                if drawn == nil { drawn = (0..<(codebookSize * dim)).map { _ in rng.normal() * 0.1 } }
                return drawn!
            }
            books.append(store.add("\(name).codebook.\(l)", [codebookSize, dim], trainable: false, initial()))
            sizes.append(store.add("\(name).ema_cluster_size.\(l)", [codebookSize], trainable: false,
                                   [Float](repeating: 1, count: codebookSize)))
            sums.append(store.add("\(name).ema_embed_sum.\(l)", [codebookSize, dim], trainable: false, initial()))
        }
        codebooks = books
        clusterSize = sizes
        embedSum = sums
        initialized = store.add("\(name).initialized", [levels], trainable: false, [Float](repeating: 0, count: levels))
    }

    /// Index of the nearest codebook entry for each row of r [M, D]: argmin ||e||^2 - 2 r.e, in
    /// blocks of rows so memory stays bounded. Where the CPU has AVX2 and FMA the scores come from
    /// the direct kernel (a 1x1 convolution of r with the codebook scaled by -2, exactly, and the
    /// norms as its bias): fused multiply-adds in a fixed order, so the chosen codes do not depend
    /// on the CPU or the threads. Elsewhere from sgemm.
    public func nearest(_ r: UnsafePointer<Float>, rows m: Int, level: Int, into out: UnsafeMutablePointer<Int32>) {
        let (k, d) = (codebookSize, dim)
        let e = store.value(codebooks[level])
        var norms = [Float](repeating: 0, count: k)
        for j in 0..<k {
            var s: Float = 0
            for c in 0..<d { s += e[j * d + c] * e[j * d + c] }
            norms[j] = s
        }
        // The codebook as the weights of a 1x1 convolution, [D, K], times -2.
        var packed: Scratch<Float>? = nil
        if VectorKernels.available {
            var w = [Float](repeating: 0, count: d * k)
            for j in 0..<k {
                for c in 0..<d { w[c * k + j] = -2 * e[j * d + c] }
            }
            packed = packedConvWeights(w, k: d, n: k)
        }
        let block = max(1, min(m, (1 << 22) / k))
        let buf = scores.buffer(block * k)
        var r0 = 0
        while r0 < m {
            let r1 = min(m, r0 + block)
            norms.withUnsafeBufferPointer { nrm in
                if let packed {
                    parallelFor(r1 - r0, minChunk: 64) { rows in
                        let pointers: [UnsafePointer<Float>?] = [r + (r0 + rows.lowerBound) * d]
                        vqz_conv_row(buf + rows.lowerBound * k, k, nil, pointers, d, Int32(d), 1, Int32(rows.count),
                                     packed.pointer, Int32(k), nrm.baseAddress, 0)
                    }
                } else {
                    gemm(buf, r + r0 * d, e, m: r1 - r0, n: k, k: d, transB: true, alpha: -2)
                    for i in 0..<(r1 - r0) {
                        for j in 0..<k { buf[i * k + j] += nrm[j] }
                    }
                }
                parallelFor(r1 - r0, minChunk: 64) { rows in
                    for i in rows {
                        let row = buf + i * k
                        var best = Float.infinity, bestJ = 0
                        for j in 0..<k where row[j] < best {
                            best = row[j]
                            bestJ = j
                        }
                        out[r0 + i] = Int32(bestJ)
                    }
                }
            }
            r0 = r1
        }
    }

    /// Token indices for z [..., D] using the first `levels` codebooks.
    public func encode(_ z: Tensor, levels used: Int) -> [[Int32]] {
        encodeMeasuringResiduals(z, levels: used).tokens
    }

    /// Token indices for z [..., D] with each position stopping at its own depth (1...levels):
    /// -1 beyond it, as `decode` reads a position rate control stopped early. The first levels
    /// can be given (`fixed`, one grid per level): their codes are taken as they are and the
    /// levels after them quantize what those leave.
    public func encode(_ z: Tensor, depth: [UInt8], fixing fixed: [[Int32]] = []) -> [[Int32]] {
        let m = z.count / dim
        precondition(depth.count == m && fixed.allSatisfy { $0.count == m }, "\(depth.count) depths for \(m) positions")
        var r = z.array
        for (l, level) in fixed.enumerated() { subtract(level, level: l, from: &r) }
        var tokens = fixed
        for l in fixed.count..<Int(depth.max() ?? 1) {
            let idx = nearestCodes(r, level: l)
            subtract(idx, level: l, from: &r)
            tokens.append(idx)
        }
        for l in tokens.indices {
            for i in depth.indices where Int(depth[i]) <= l { tokens[l][i] = -1 }
        }
        return tokens
    }

    /// Token indices for z [..., D] using the first `levels` codebooks, and after each level l the
    /// squared norm of what is left at each position, ||z - (e_1 + ... + e_l)||^2: the distortion
    /// a position keeps when it stops after level l, which rate control weighs against bits.
    public func encodeMeasuringResiduals(_ z: Tensor, levels used: Int) -> (tokens: [[Int32]], residualEnergy: [[Float]]) {
        let m = z.count / dim
        var r = z.array
        var tokens: [[Int32]] = [], energy: [[Float]] = []
        for l in 0..<used {
            let idx = nearestCodes(r, level: l)
            subtract(idx, level: l, from: &r)
            energy.append((0..<m).map { i in
                var sum: Float = 0
                for c in 0..<dim { sum += r[i * dim + c] * r[i * dim + c] }
                return sum
            })
            tokens.append(idx)
        }
        return (tokens, energy)
    }

    /// The nearest code of level l to each row of r ([rows, D], flattened).
    private func nearestCodes(_ r: [Float], level l: Int) -> [Int32] {
        var idx = [Int32](repeating: 0, count: r.count / dim)
        r.withUnsafeBufferPointer { rp in
            idx.withUnsafeMutableBufferPointer { nearest(rp.baseAddress!, rows: $0.count, level: l, into: $0.baseAddress!) }
        }
        return idx
    }

    /// Takes level l's codes `idx` from r row by row; a negative index has no code there.
    private func subtract(_ idx: [Int32], level l: Int, from r: inout [Float]) {
        let e = store.value(codebooks[l])
        for i in idx.indices where idx[i] >= 0 {
            let src = e + Int(idx[i]) * dim
            for c in 0..<dim { r[i * dim + c] -= src[c] }
        }
    }

    /// Mean squared norm of level 1's codes: the latent's scale, which makes residual energies
    /// comparable across models.
    public var codeEnergy: Float {
        let e = store.value(codebooks[0])
        var sum: Float = 0
        for i in 0..<(codebookSize * dim) { sum += e[i] * e[i] }
        return sum / Float(codebookSize)
    }

    /// z_q for the given tokens, shaped like `shape` (last dimension D); a position whose token at
    /// some level is negative has no code there (rate control stopped it at an earlier level).
    public func decode(_ tokens: [[Int32]], shape: [Int]) -> Tensor {
        let out = Tensor(shape)
        let m = out.count / dim
        for (l, idx) in tokens.enumerated() {
            precondition(idx.count == m, "level \(l): \(idx.count) tokens for \(m) positions")
            let e = store.value(codebooks[l])
            for i in 0..<m {
                let k = Int(idx[i])
                // A negative index adds nothing: the position's depth ended before this level.
                if k < 0 { continue }
                precondition(k < codebookSize, "token \(k) outside codebook of \(codebookSize)")
                let src = e + k * dim
                for c in 0..<dim { out.data[i * dim + c] += src[c] }
            }
        }
        return out
    }

    /// Training forward: quantizes with `used` levels, initialising unused codebooks from the data
    /// the first time, and saves what backward and `updateCodebooks` need.
    public func forward(_ z: Tensor, levels used: Int, rng: inout RNG) -> Tensor {
        precondition(z.columns == dim, "quantizer expects [..., \(dim)], got \(z.shape)")
        input = z
        let m = z.count / dim
        let zq = output.tensor(z.shape)
        zq.zero()
        var r = z.array
        residuals = []
        indices = []
        for l in 0..<used {
            if store.value(initialized)[l] == 0 { initialise(level: l, from: r, rows: m, rng: &rng) }
            residuals.append(r)
            var idx = [Int32](repeating: 0, count: m)
            r.withUnsafeBufferPointer { rp in idx.withUnsafeMutableBufferPointer { nearest(rp.baseAddress!, rows: m, level: l, into: $0.baseAddress!) } }
            let e = store.value(codebooks[l])
            for i in 0..<m {
                let src = e + Int(idx[i]) * dim
                for c in 0..<dim {
                    r[i * dim + c] -= src[c]
                    zq.data[i * dim + c] += src[c]
                }
            }
            indices.append(idx)
        }
        var sum: Double = 0
        for i in 0..<z.count {
            let d = z.data[i] - zq.data[i]
            sum += Double(d * d)
        }
        commitmentLoss = beta * Float(sum / Double(max(z.count, 1)))
        return zq
    }

    /// Straight-through gradient plus the commitment term's.
    public func backward(_ dzq: Tensor) -> Tensor {
        let z = input!, zq = output.tensor(z.shape)
        let dz = dInput.tensor(z.shape)
        let scale = 2 * beta / Float(max(z.count, 1))
        for i in 0..<z.count { dz.data[i] = dzq.data[i] + scale * (z.data[i] - zq.data[i]) }
        return dz
    }

    private func initialise(level l: Int, from r: [Float], rows m: Int, rng: inout RNG) {
        for j in 0..<codebookSize { placeCode(j, level: l, onRandomRowOf: r, rows: m, rng: &rng) }
        store.value(initialized)[l] = 1
    }

    /// Moves code j onto a random row of r (plus a little noise, so two codes placed on the same
    /// row still split), with the usage of one assignment.
    private func placeCode(_ j: Int, level l: Int, onRandomRowOf r: [Float], rows m: Int, rng: inout RNG) {
        let e = store.value(codebooks[l]), s = store.value(embedSum[l]), n = store.value(clusterSize[l])
        let src = rng.int(below: m)
        for c in 0..<dim {
            let v = r[src * dim + c] + rng.normal() * 1e-3
            e[j * dim + c] = v
            s[j * dim + c] = v
        }
        n[j] = 1
    }

    /// Makes codebooks loaded from shipped weights (which carry no EMA state) trainable again:
    /// each code starts as if it had been assigned once, to itself.
    public func adoptLoadedCodebooks() {
        for l in 0..<levels {
            store.value(embedSum[l]).update(from: store.value(codebooks[l]), count: codebookSize * dim)
            store.value(clusterSize[l]).update(repeating: 1, count: codebookSize)
            store.value(initialized)[l] = 1
        }
    }

    /// EMA update of the used codebooks from the last forward, then dead-code restarts.
    /// Returns, per level, how many codes were restarted.
    @discardableResult
    public func updateCodebooks(rng: inout RNG) -> [Int] {
        var restarted: [Int] = []
        let (k, d) = (codebookSize, dim)
        for (l, idx) in indices.enumerated() {
            let r = residuals[l]
            let m = idx.count
            var counts = [Float](repeating: 0, count: k)
            var sums = [Float](repeating: 0, count: k * d)
            for i in 0..<m {
                let j = Int(idx[i])
                counts[j] += 1
                for c in 0..<d { sums[j * d + c] += r[i * d + c] }
            }
            let e = store.value(codebooks[l]), s = store.value(embedSum[l]), n = store.value(clusterSize[l])
            var total: Float = 0
            for j in 0..<k {
                n[j] = decay * n[j] + (1 - decay) * counts[j]
                total += n[j]
                for c in 0..<d { s[j * d + c] = decay * s[j * d + c] + (1 - decay) * sums[j * d + c] }
            }
            // Laplace smoothing keeps rarely used codes from dividing by ~0.
            let eps: Float = 1e-5
            var dead = 0
            for j in 0..<k {
                let smoothed = (n[j] + eps) / (total + Float(k) * eps) * total
                if n[j] < deadUsage {
                    dead += 1
                    placeCode(j, level: l, onRandomRowOf: r, rows: m, rng: &rng)
                } else {
                    for c in 0..<d { e[j * d + c] = s[j * d + c] / smoothed }
                }
            }
            restarted.append(dead)
        }
        return restarted
    }
}
