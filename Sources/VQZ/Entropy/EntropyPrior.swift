import Foundation
import Models
import NN

/// A context prior ready to entropy-code token grids, with its own fingerprint (which a .vqz
/// file coded with it records) and the tokenizer whose tokens it models.
///
/// Level l is coded after levels 0..<l, one rANS stream per level, in diagonal order (see
/// `ContextTemplate`): the decoder scores a whole diagonal at once, the encoder the whole grid.
public final class EntropyPrior: @unchecked Sendable {
    public let network: ContextPrior
    public let fingerprint: ModelFingerprint
    /// The tokenizer the prior was trained for, from the weights' metadata.
    public let tokenizer: ModelFingerprint
    public let metadata: [String: String]
    /// Built on first use: folding the embeddings into the hidden layer takes a moment.
    private lazy var scorer: ContextPriorScorer = network.scorer()

    public var levels: Int { network.config.levels }
    /// The PRIO chunk's coding revision for this prior (the copy gate changes how logits are made).
    public var codingRevision: UInt8 { network.config.copyGate ? 2 : 1 }
    public var codebookSize: Int { network.config.codebookSize }

    /// `digest`: the bytes' FNV-1a 128 where the caller knows it (`BundledWeights.digest`).
    public init(weights bytes: [UInt8], fallbackName: String, digest: [UInt8]? = nil) throws {
        let (prior, meta) = try ContextPrior.load(weights: bytes)
        network = prior
        metadata = meta
        tokenizer = try TokenizerRecord.required(meta, by: "the entropy prior's weights")
        let own = String((meta["name"] ?? fallbackName).utf8.prefix(ModelFingerprint.maxNameBytes)) ?? fallbackName
        fingerprint = ModelFingerprint(name: own, digest: digest ?? fnv1a128(bytes))
    }

    public convenience init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CodecError.cannotReadModel(path) }
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        try self.init(weights: [UInt8](data), fallbackName: base)
    }

    /// The entropy priors built into the binary, one per photo tokenizer whose files they code.
    static let bundledNames = ["prior-context", "prior-context-v1"]

    /// Every entropy prior this build has.
    public static func allBundled() throws -> [EntropyPrior] {
        try bundledNames.compactMap { name in
            try BundledWeights.named(name).map { try EntropyPrior(weights: $0, fallbackName: "bundled-context", digest: BundledWeights.digest(name)) }
        }
    }

    /// The bundled prior trained for this tokenizer's tokens: the one `--entropy prior` codes with.
    public static func bundled(for model: TokenizerModel) throws -> EntropyPrior {
        let priors = try allBundled()
        guard !priors.isEmpty else { throw CodecError.noEntropyPrior }
        guard let prior = priors.first(where: { $0.tokenizer == model.tokens }) else {
            throw CodecError.entropyPriorTokenizerMismatch(prior: priors[0].fingerprint, trainedFor: priors[0].tokenizer, tokenizer: model.tokens)
        }
        return prior
    }

    /// The bundled prior whose fingerprint is `name`, else nil: the default way a .vqz reader
    /// finds the prior a file names.
    public static func bundledIfNamed(_ name: ModelFingerprint) throws -> EntropyPrior? {
        // The digest picks the weights before any is loaded: a file names one prior of several.
        for file in bundledNames where BundledWeights.digest(file) == name.digest {
            guard let weights = BundledWeights.named(file) else { continue }
            let prior = try EntropyPrior(weights: weights, fallbackName: "bundled-context", digest: name.digest)
            if prior.fingerprint == name { return prior }
        }
        return nil
    }

    /// Throws unless this prior models this tokenizer's tokens and can code `levels` levels of them.
    public func check(_ model: TokenizerModel, levels: Int) throws {
        guard tokenizer == model.tokens else {
            throw CodecError.entropyPriorTokenizerMismatch(prior: fingerprint, trainedFor: tokenizer, tokenizer: model.tokens)
        }
        try check(codebookSizes: Array(repeating: model.config.codebookSize, count: levels))
    }

    /// Throws unless this prior can code levels of these codebook sizes. All the container checks:
    /// the PRIO digest already ties decoding to the very prior that coded the file.
    public func check(codebookSizes: [Int]) throws {
        guard codebookSizes.count <= self.levels, codebookSizes.allSatisfy({ $0 == codebookSize }) else {
            throw CodecError.entropyPriorShape(levels: codebookSizes.count, codebookSize: codebookSizes.first ?? 0,
                                               priorLevels: self.levels, priorCodebookSize: codebookSize)
        }
    }

    /// One rANS stream per level, and each level's information content under the model in bits
    /// (the floor an ideal coder would reach; the streams should come within a few bytes of it).
    /// Under revision 2 each stream starts with a byte naming the cache weight it was coded with:
    /// the one of `TokenCache.weights` that makes the level smallest.
    /// With a depth map, level l codes only the positions that reach it, and a position without a
    /// token counts as outside the grid in every context.
    public func encode(_ grid: TokenGrid) -> (payloads: [[UInt8]], informationBits: [Double]) {
        let (w, h, k) = (grid.width, grid.height, codebookSize)
        let levels = grid.levels.enumerated().map { l, level in
            Self.contextLevel(level.map { Int32($0) }, l, depth: grid.depth, outside: Int32(k))
        }
        let choices = cacheWeights
        let everyPosition = Self.codingOrder(width: w, height: h)
        var payloads: [[UInt8]] = [], information: [Double] = []
        for l in 0..<grid.levels.count {
            let order = grid.depth.map { d in everyPosition.filter { Int(d[$0]) > l } } ?? everyPosition
            let tokens = order.map { Int(levels[l][$0]) }
            let diagonals = order.map { ContextTemplate.wavefront(y: $0 / w, x: $0 % w) }
            // Each cache weight is tried on its own thread, over the same distributions: the
            // same arithmetic in the same order as one thread would do it.
            let tries = choices.map { _ in CacheWeightTrial(count: order.count, codebookSize: k) }
            let chunk = 2048
            var c0 = 0
            while c0 < order.count {
                let positions = Array(order[c0..<min(order.count, c0 + chunk)])
                let logits = self.logits(level: l, levels: levels, width: w, height: h, positions: positions)
                var models = [ModelDistribution?](repeating: nil, count: positions.count)
                logits.withUnsafeBufferPointer { z in
                    models.withUnsafeMutableBufferPointer { out in
                        parallelFor(positions.count, minChunk: 64) { range in
                            for r in range { out[r] = ModelDistribution(logits: z.baseAddress! + r * k, count: k) }
                        }
                    }
                }
                parallelFor(choices.count) { range in
                    for c in range {
                        tries[c].run(models, from: c0, tokens: tokens, diagonals: diagonals, cacheWeight: choices[c])
                    }
                }
                c0 += positions.count
            }
            let intervals = tries.map(\.intervals), bits = tries.map(\.bits)
            let best = bits.indices.min { bits[$0] < bits[$1] }!
            var encoder = RANSEncoder(scaleBits: FrequencyTable.scaleBits)
            for i in intervals[best].indices.reversed() { encoder.push(start: intervals[best][i].start, frequency: intervals[best][i].frequency) }
            payloads.append((codingRevision >= 2 ? [UInt8(best)] : []) + encoder.finish())
            information.append(bits[best])
        }
        return (payloads, information)
    }

    /// The cache weights the encoder may choose from: revision 1 has one, implied.
    var cacheWeights: [Float] { codingRevision >= 2 ? TokenCache.weights : [TokenCache.weight] }

    /// The token levels coded in `payloads` (one per level, coarsest first) of a width x height grid.
    /// A corrupt stream throws `ContainerError.corruptPayload`; it can give wrong tokens only if it still ends exactly
    /// in the initial state, and the file's CRC-32 guards against that.
    func decode(_ payloads: [ArraySlice<UInt8>], width w: Int, height h: Int, depth: [UInt8]? = nil) throws -> [[UInt16]] {
        var levels: [[Int32]] = []
        let all = Self.diagonals(width: w, height: h)
        for (l, payload) in payloads.enumerated() {
            let diagonals = depth.map { d in all.map { $0.filter { Int(d[$0]) > l } } } ?? all
            // Positions that stop before this level hold "outside" for the contexts that see them.
            levels.append(Self.contextLevel([Int32](repeating: 0, count: w * h), l, depth: depth, outside: Int32(codebookSize)))
            do { try decodeLevel(l, payload, into: &levels, width: w, height: h, diagonals: diagonals) } catch let e as RANSError {
                throw ContainerError.corruptPayload(chunk: "TOKN (level \(l))", reason: e.description)
            }
        }
        // The container's form: 0 where a position has no token.
        return levels.map { $0.map { $0 == Int32(codebookSize) ? 0 : UInt16($0) } }
    }

    /// Level l's tokens as the contexts see them: `outside` where a depth map stops a position
    /// before level l.
    static func contextLevel(_ level: [Int32], _ l: Int, depth: [UInt8]?, outside: Int32) -> [Int32] {
        guard let depth else { return level }
        var out = level
        for i in depth.indices where Int(depth[i]) <= l { out[i] = outside }
        return out
    }

    /// Decodes level l into `levels[l]`, which holds the level's "outside" marks already.
    private func decodeLevel(_ l: Int, _ payload: ArraySlice<UInt8>, into levels: inout [[Int32]],
                             width w: Int, height h: Int, diagonals: [[Int]]) throws {
        let k = codebookSize
        var stream = payload, cacheWeight = TokenCache.weight
        if codingRevision >= 2 {
            guard let choice = stream.popFirst() else { throw RANSError.truncated }
            guard Int(choice) < TokenCache.weights.count else { throw RANSError.badChoice(choice) }
            cacheWeight = TokenCache.weights[Int(choice)]
        }
        var decoder = try RANSDecoder(stream, scaleBits: FrequencyTable.scaleBits)
        var cache = TokenCache(codebookSize: k)
        for positions in diagonals where !positions.isEmpty {
            let logits = self.logits(level: l, levels: levels, width: w, height: h, positions: positions)
            var tables = [FrequencyTable?](repeating: nil, count: positions.count)
            let snapshot = cache
            logits.withUnsafeBufferPointer { z in
                tables.withUnsafeMutableBufferPointer { t in
                    parallelFor(positions.count, minChunk: 8) { rows in
                        for r in rows { t[r] = FrequencyTable(logits: z.baseAddress! + r * k, count: k, cache: snapshot, cacheWeight: cacheWeight) }
                    }
                }
            }
            for (r, p) in positions.enumerated() {
                let found = tables[r]!.symbol(at: decoder.slot)
                try decoder.pop(start: found.start, frequency: found.frequency)
                levels[l][p] = Int32(found.symbol)
                cache.add(found.symbol)
            }
        }
        try decoder.finish()
    }

    /// logits [M, K] of level l at `positions`, from the fixed-order scorer.
    private func logits(level l: Int, levels: [[Int32]], width w: Int, height h: Int, positions: [Int]) -> [Float] {
        let contexts = ContextTemplate.contexts(level: l, levels: levels, width: w, height: h,
                                                positions: positions, codebookSize: codebookSize)
        var out = [Float](repeating: 0, count: positions.count * codebookSize)
        out.withUnsafeMutableBufferPointer { scorer.logits(level: l, contexts: contexts, rows: positions.count, into: $0.baseAddress!) }
        return out
    }

    /// The positions of a grid by diagonal 2y + x, then by row: the order tokens are coded in.
    static func diagonals(width w: Int, height h: Int) -> [[Int]] {
        var out = [[Int]](repeating: [], count: 2 * (h - 1) + w)
        for y in 0..<h {
            for x in 0..<w { out[ContextTemplate.wavefront(y: y, x: x)].append(y * w + x) }
        }
        return out
    }

    static func codingOrder(width w: Int, height h: Int) -> [Int] { diagonals(width: w, height: h).flatMap { $0 } }
}

/// One cache weight tried on a level by the encoder: the intervals its tables give the tokens, and
/// their information. The cache holds the tokens of the diagonals before the current one, as the
/// decoder's does.
private final class CacheWeightTrial {
    var intervals: [(start: UInt32, frequency: UInt32)]
    var bits: Double = 0
    private var cache: TokenCache
    private var pending: [Int] = []
    private var diagonal = 0

    init(count: Int, codebookSize k: Int) {
        intervals = Array(repeating: (0, 1), count: count)
        cache = TokenCache(codebookSize: k)
    }

    /// Positions c0..<c0 + models.count of the coding order, whose distributions are `models`.
    func run(_ models: [ModelDistribution?], from c0: Int, tokens: [Int], diagonals: [Int], cacheWeight: Float) {
        for (r, model) in models.enumerated() {
            let i = c0 + r
            if diagonals[i] != diagonal {
                for t in pending { cache.add(t) }
                pending.removeAll(keepingCapacity: true)
                diagonal = diagonals[i]
            }
            let coded = FrequencyTable.interval(of: tokens[i], model!, cache: cache, cacheWeight: cacheWeight)
            intervals[i] = (coded.start, coded.frequency)
            bits += coded.information
            pending.append(tokens[i])
        }
    }
}
