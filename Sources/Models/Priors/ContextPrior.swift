import Foundation
import NN

// Shape letters: M positions scored together, S context slots of a level, E slot embedding
// width, H hidden width, K codebook size, L levels.

/// The shape of a context prior. Stored in the weights' metadata so a file says what it is.
public struct ContextPriorConfig: Codable, Equatable, Sendable {
    /// K: the tokenizer's codebook size (tokens are 0..<K).
    public var codebookSize: Int
    /// L: the residual levels modelled (level l is conditioned on levels 0..<l).
    public var levels: Int
    /// E: width of each slot's embedding of the token it sees.
    public var embedDim: Int
    /// H: width of the hidden layer.
    public var hidden: Int
    /// Whether the hidden layer also scores copying: a learned bonus, per causal slot, on the
    /// logit of the token that slot sees (C = 9 gates). Token grids repeat their neighbours,
    /// and a bonus on "the token to the left" holds for every token alike, where the K-way output
    /// layer must learn each token's own repetition (and does so poorly for rare ones).
    public var copyGate: Bool

    public init(codebookSize: Int = 1024, levels: Int = 4, embedDim: Int = 16, hidden: Int = 192, copyGate: Bool = true) {
        self.codebookSize = codebookSize
        self.levels = levels
        self.embedDim = embedDim
        self.hidden = hidden
        self.copyGate = copyGate
    }

    private enum CodingKeys: String, CodingKey { case codebookSize, levels, embedDim, hidden, copyGate }

    /// Files written before the copy gate existed have no `copyGate`: they have none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        codebookSize = try c.decode(Int.self, forKey: .codebookSize)
        levels = try c.decode(Int.self, forKey: .levels)
        embedDim = try c.decode(Int.self, forKey: .embedDim)
        hidden = try c.decode(Int.self, forKey: .hidden)
        copyGate = try c.decodeIfPresent(Bool.self, forKey: .copyGate) ?? false
    }

    /// Bounds that keep a hostile config from allocating absurd models.
    public var isValid: Bool {
        (2...65536).contains(codebookSize) && (1...16).contains(levels) && (1...256).contains(embedDim)
            && (1...4096).contains(hidden)
    }


    public init(json: String) throws { self = try JSONDecoder().decode(Self.self, from: Data(json.utf8)) }
}

/// The token grids of one picture, every level, row-major: levels[l][y * width + x].
public struct LeveledTokenGrid: Sendable, Equatable {
    public var width: Int, height: Int
    public var levels: [[Int32]]

    public init(width: Int, height: Int, levels: [[Int32]]) {
        precondition(levels.allSatisfy { $0.count == width * height }, "LeveledTokenGrid: level sizes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.levels = levels
    }
}

/// What a context prior looks at when it scores token (y, x) of level l: slots, each one
/// token (or "outside the grid"):
/// - level l's tokens already coded around it, in raster order: the two to the left and the
///   neighbours in the two rows above (`causal`);
/// - for l > 0, the tokens of every coarser level at (y, x), and level l-1's eight neighbours,
///   all known because levels are coded coarsest first.
/// Every causal offset (dy, dx) has 2 dy + dx < 0, so positions on one anti-diagonal
/// 2y + x = t depend only on earlier diagonals: the decoder scores a diagonal at a time.
public enum ContextTemplate {
    public static let causal: [(dy: Int, dx: Int)] = [(0, -1), (0, -2), (-1, -2), (-1, -1), (-1, 0), (-1, 1),
                                                      (-2, -1), (-2, 0), (-2, 1)]
    public static let coarserNeighbours: [(dy: Int, dx: Int)] = [(-1, -1), (-1, 0), (-1, 1), (0, -1),
                                                                 (0, 1), (1, -1), (1, 0), (1, 1)]

    /// S for level l.
    public static func slots(level l: Int) -> Int { causal.count + (l > 0 ? l + coarserNeighbours.count : 0) }

    /// The tokens the copy gate can copy, [M, C] with C = causal.count: what each causal slot of
    /// `contexts` (from `contexts(level:...)`) sees, -1 where it is outside the grid.
    public static func copyCandidates(_ contexts: [Int32], rows m: Int, level l: Int, codebookSize k: Int) -> [Int32] {
        let s = slots(level: l), c = causal.count, vocab = Int32(k + 1)
        var out = [Int32](repeating: -1, count: m * c)
        for r in 0..<m {
            for slot in 0..<c {
                let v = contexts[r * s + slot] - Int32(slot) * vocab
                if v < Int32(k) { out[r * c + slot] = v }
            }
        }
        return out
    }

    /// The diagonal of (y, x): positions with equal values are independent of each other.
    @inline(__always) public static func wavefront(y: Int, x: Int) -> Int { 2 * y + x }

    /// Context indices [M, S] for `positions` (flat y * width + x) of level l: slot s seeing
    /// token v (K for outside the grid) has index s * (K + 1) + v. Only levels 0...l of
    /// `levels` are read, and of level l only the causal neighbours.
    public static func contexts(level l: Int, levels: [[Int32]], width w: Int, height h: Int,
                                positions: [Int], codebookSize k: Int) -> [Int32] {
        let s = slots(level: l), vocab = Int32(k + 1), outside = Int32(k)
        var out = [Int32](repeating: 0, count: positions.count * s)
        out.withUnsafeMutableBufferPointer { dst in
            for (m, p) in positions.enumerated() {
                let y = p / w, x = p % w
                var slot = 0
                @inline(__always) func put(_ v: Int32) {
                    dst[m * s + slot] = Int32(slot) * vocab + v
                    slot += 1
                }
                let current = levels[l]
                for o in causal {
                    let yy = y + o.dy, xx = x + o.dx
                    put(yy >= 0 && xx >= 0 && xx < w ? current[yy * w + xx] : outside)
                }
                if l > 0 {
                    for j in 0..<l { put(levels[j][p]) }
                    let coarser = levels[l - 1]
                    for o in coarserNeighbours {
                        let yy = y + o.dy, xx = x + o.dx
                        put(yy >= 0 && yy < h && xx >= 0 && xx < w ? coarser[yy * w + xx] : outside)
                    }
                }
            }
        }
        return out
    }
}

/// A model of a token grid for entropy coding: p(token | context) for every level, where the
/// context is the small causal neighbourhood of `ContextTemplate`. Per level, each slot has
/// its own embedding of the token it sees; the concatenated embeddings pass through one ReLU
/// hidden layer to K logits, plus (with `copyGate`) a bonus on the logits of the causal
/// neighbours' tokens, weighted per slot by the hidden layer. Small and local on purpose: the decoder must score positions in
/// order, so the model is cheap per position and a whole diagonal is scored at once.
public final class ContextPrior {
    public let config: ContextPriorConfig
    public let store: ParameterStore
    /// Per level: slot embeddings [S * (K+1), E], hidden [S*E -> H], ReLU, output [H -> K],
    /// copy gates [H -> C].
    let embeddings: [Embedding]
    let trunks: [Sequential]
    let hiddenLayers: [Linear]
    let outputLayers: [Linear]
    let copyGates: [Linear]
    /// The copy candidates of each level's last training forward, for its backward.
    private var lastCandidates: [[Int32]]

    public init(config: ContextPriorConfig, seed: UInt64 = 0) {
        self.config = config.validated("context prior")
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let (k, e, h) = (config.codebookSize, config.embedDim, config.hidden)
        var embeddings: [Embedding] = [], trunks: [Sequential] = [], hidden: [Linear] = [], output: [Linear] = []
        var gates: [Linear] = []
        for l in 0..<config.levels {
            let s = ContextTemplate.slots(level: l)
            embeddings.append(Embedding(store, "level\(l).slots", vocabulary: s * (k + 1), dim: e, std: 1, rng: &rng))
            let h1 = Linear(store, "level\(l).hidden", inFeatures: s * e, outFeatures: h, rng: &rng)
            let h2 = Linear(store, "level\(l).out", inFeatures: h, outFeatures: k, initGain: 0.5, rng: &rng)
            hidden.append(h1)
            output.append(h2)
            trunks.append(Sequential([h1, ReLU()]))
            if config.copyGate {
                gates.append(Linear(store, "level\(l).copy", inFeatures: h, outFeatures: ContextTemplate.causal.count,
                                    initGain: 0.1, rng: &rng))
            }
        }
        self.embeddings = embeddings
        self.trunks = trunks
        self.hiddenLayers = hidden
        self.outputLayers = output
        self.copyGates = gates
        lastCandidates = [[Int32]](repeating: [], count: config.levels)
        store.seal()
    }

    public var parameterCount: Int { store.trainableCount }

    /// Training forward: contexts [M, S] of level l -> logits [M, K] (sgemm: fast, not fixed-order).
    public func forward(level l: Int, contexts: [Int32], rows m: Int) -> Tensor {
        let s = ContextTemplate.slots(level: l), k = config.codebookSize
        let x = embeddings[l].forward(contexts, shape: [m, s])
        let hidden = trunks[l].forward(x.reshaped([m, s * config.embedDim]))
        let logits = outputLayers[l].forward(hidden)
        guard config.copyGate else { return logits }
        let c = ContextTemplate.causal.count
        let candidates = ContextTemplate.copyCandidates(contexts, rows: m, level: l, codebookSize: k)
        let gates = copyGates[l].forward(hidden)
        for r in 0..<m {
            for slot in 0..<c where candidates[r * c + slot] >= 0 {
                logits.data[r * k + Int(candidates[r * c + slot])] += gates.data[r * c + slot]
            }
        }
        lastCandidates[l] = candidates
        return logits
    }

    /// Adds the gradients of level l's parameters, given dlogits [M, K] of its last forward.
    public func backward(level l: Int, _ dlogits: Tensor) {
        var dhidden = outputLayers[l].backward(dlogits)
        if config.copyGate {
            let (m, k, c) = (dlogits.rows, config.codebookSize, ContextTemplate.causal.count)
            let candidates = lastCandidates[l]
            // A gate's gradient is that of the logit it raised.
            let dgates = Tensor([m, c])
            for r in 0..<m {
                for slot in 0..<c where candidates[r * c + slot] >= 0 {
                    dgates.data[r * c + slot] = dlogits.data[r * k + Int(candidates[r * c + slot])]
                }
            }
            let sum = dhidden.copy()
            let viaGates = copyGates[l].backward(dgates)
            for i in 0..<sum.count { sum.data[i] += viaGates.data[i] }
            dhidden = sum
        }
        embeddings[l].backward(trunks[l].backward(dhidden))
    }

    /// The fixed-order form used for entropy coding (see `ContextPriorScorer`).
    public func scorer() -> ContextPriorScorer { ContextPriorScorer(self) }
}

/// The context prior frozen for coding: every probability it gives is a function of the
/// context alone, the same bits whatever the batch, the thread count or the order of calls
/// (NN's fixed-order kernels), so an encoder scoring a whole grid and a decoder scoring one
/// diagonal at a time agree exactly. Each slot's embedding is folded into the hidden layer
/// at load (table [S * (K+1), H]), so a position's hidden layer is S table rows summed.
public final class ContextPriorScorer: @unchecked Sendable {
    public let config: ContextPriorConfig
    private var projected: [[Float]] = []     // per level [S * (K+1), H]
    private var hiddenBias: [[Float]] = []    // per level [H]
    private var outWeight: [[Float]] = []     // per level [H, K]
    private var outBias: [[Float]] = []       // per level [K]
    private var gateWeight: [[Float]] = []    // per level [H, C] (empty without the copy gate)
    private var gateBias: [[Float]] = []      // per level [C]

    init(_ prior: ContextPrior) {
        config = prior.config
        let (k, e, h) = (config.codebookSize, config.embedDim, config.hidden)
        let store = prior.store
        let zero = [Float](repeating: 0, count: h)
        for l in 0..<config.levels {
            let s = ContextTemplate.slots(level: l)
            var table = [Float](repeating: 0, count: s * (k + 1) * h)
            let emb = store.value(prior.embeddings[l].table), w1 = store.value(prior.hiddenLayers[l].weight)
            table.withUnsafeMutableBufferPointer { t in
                zero.withUnsafeBufferPointer { z in
                    for slot in 0..<s {
                        // Slot s's rows of the hidden weights, [E, H], applied to its K+1 embeddings.
                        fixedOrderAffine(t.baseAddress! + slot * (k + 1) * h, emb + slot * (k + 1) * e,
                                         w1 + slot * e * h, z.baseAddress!, rows: k + 1, inFeatures: e, outFeatures: h)
                    }
                }
            }
            projected.append(table)
            hiddenBias.append(Array(UnsafeBufferPointer(start: store.value(prior.hiddenLayers[l].bias!), count: h)))
            outWeight.append(Array(UnsafeBufferPointer(start: store.value(prior.outputLayers[l].weight), count: h * k)))
            outBias.append(Array(UnsafeBufferPointer(start: store.value(prior.outputLayers[l].bias!), count: k)))
            if config.copyGate {
                let gate = prior.copyGates[l], c = ContextTemplate.causal.count
                gateWeight.append(Array(UnsafeBufferPointer(start: store.value(gate.weight), count: h * c)))
                gateBias.append(Array(UnsafeBufferPointer(start: store.value(gate.bias!), count: c)))
            }
        }
    }

    /// logits [M, K] of level l for contexts [M, S], written into `out`.
    public func logits(level l: Int, contexts: [Int32], rows m: Int, into out: UnsafeMutablePointer<Float>) {
        let s = ContextTemplate.slots(level: l), h = config.hidden, k = config.codebookSize
        precondition(contexts.count == m * s, "context prior: \(contexts.count) context indices for \(m) x \(s)")
        var hidden = [Float](repeating: 0, count: m * h)
        projected[l].withUnsafeBufferPointer { table in
            hiddenBias[l].withUnsafeBufferPointer { b in
                contexts.withUnsafeBufferPointer { c in
                    hidden.withUnsafeMutableBufferPointer { hid in
                        for r in 0..<m {
                            let row = hid.baseAddress! + r * h
                            row.update(from: b.baseAddress!, count: h)
                            for slot in 0..<s {
                                let src = table.baseAddress! + Int(c[r * s + slot]) * h
                                for j in 0..<h { row[j] = row[j] + src[j] }
                            }
                            for j in 0..<h { row[j] = max(row[j], 0) }
                        }
                    }
                }
            }
        }
        outWeight[l].withUnsafeBufferPointer { w in
            outBias[l].withUnsafeBufferPointer { b in
                hidden.withUnsafeBufferPointer { hid in
                    fixedOrderAffine(out, hid.baseAddress!, w.baseAddress!, b.baseAddress!, rows: m, inFeatures: h, outFeatures: k)
                }
            }
        }
        guard config.copyGate else { return }
        let c = ContextTemplate.causal.count
        var gates = [Float](repeating: 0, count: m * c)
        gateWeight[l].withUnsafeBufferPointer { w in
            gateBias[l].withUnsafeBufferPointer { b in
                hidden.withUnsafeBufferPointer { hid in
                    gates.withUnsafeMutableBufferPointer { g in
                        fixedOrderAffine(g.baseAddress!, hid.baseAddress!, w.baseAddress!, b.baseAddress!, rows: m, inFeatures: h, outFeatures: c)
                    }
                }
            }
        }
        // Slot by slot, so a token two slots see gets its bonuses in one order everywhere.
        let candidates = ContextTemplate.copyCandidates(contexts, rows: m, level: l, codebookSize: k)
        for r in 0..<m {
            for slot in 0..<c where candidates[r * c + slot] >= 0 {
                let j = r * k + Int(candidates[r * c + slot])
                out[j] = out[j] + gates[r * c + slot]
            }
        }
    }
}
