import NN

// Shape letters: N batch, L text positions, T = rows * cols image positions, D width,
// K codebook size, V text vocabulary.

/// DALL-E's text-to-image transformer: one causal stream of L text tokens, then (when the config
/// has a layout) P layout tokens, then the image's tokens in raster order, the blocks of
/// TokenTransformer over all of them:
///
///     input_i       = textemb(text_i) + textpos(i)                        i < L   (padding is id 0)
///     input_{L+j}   = layemb(y_j) + laypos(j)                             j < P
///     input_{L+P+t} = tokemb(x_{t-1}) + rowemb(row(t)) + colemb(col(t))   x_{-1} = START (index K)
///                     + sum_c mapemb_c(m_{c,t})                          (with a map of the layout)
///     logits_t      = head(lnf(z_{L+P+t}))                                [N, T, K]
///     layout_j      = layhead(lnf(z_{L+j-1}))                             [N, P, V]   (y_0 from the last text position)
///
/// The text has its own embedding and positions; the loss is on the layout and image tokens. An
/// all-padding text is the empty caption: trained by dropping captions (classifier-free
/// guidance), it makes the model unconditional. The layout is a scene's plan in a few ids (which
/// shapes, where, how large): drawn first, it fixes the count and the places before the first
/// image token, as Make-A-Scene's scene tokens do; the image tokens then read it like the text.
/// A map spells the layout out per image position (e.g. which shape's part, of which colour, lies
/// there), so painting it asks no geometry of the blocks. The empty caption reads no map (all 0):
/// guidance then pushes the picture toward its map as well as its caption.
public final class TextImageTransformer {
    public let config: TextImageConfig
    public let store: ParameterStore

    let textemb: Embedding, textpos: Embedding
    let layemb: Embedding?, laypos: Embedding?
    let tokemb: Embedding, rowemb: Embedding, colemb: Embedding
    let blocks: [TransformerBlock]
    let lnf: LayerNorm
    let head: Linear
    let layhead: Linear?
    let mapembs: [Embedding]

    // Saved by forward for backward.
    private var shape = (n: 0, l: 0, p: 0, t: 0)
    /// The layout logits [N, P, V] of the last forward (nil without a layout).
    public private(set) var layoutLogits: Tensor?

    public var startToken: Int32 { Int32(config.codebookSize) }
    public var imagePositions: Int { config.rows * config.cols }

    public init(config: TextImageConfig, seed: UInt64 = 0) {
        self.config = config.validated("text-to-image")
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let d = config.width
        textemb = Embedding(store, "textemb", vocabulary: config.textVocabulary, dim: d, rng: &rng)
        textpos = Embedding(store, "textpos", vocabulary: config.textLength, dim: d, rng: &rng)
        tokemb = Embedding(store, "tokemb", vocabulary: config.codebookSize + 1, dim: d, rng: &rng)
        rowemb = Embedding(store, "rowemb", vocabulary: config.rows, dim: d, rng: &rng)
        colemb = Embedding(store, "colemb", vocabulary: config.cols, dim: d, rng: &rng)
        blocks = (0..<config.layers).map {
            TransformerBlock(store, "block\($0)", dim: d, heads: config.heads, causal: true, rng: &rng)
        }
        lnf = LayerNorm(store, "lnf", dim: d)
        head = Linear(store, "head", inFeatures: d, outFeatures: config.codebookSize, initGain: 0.5, rng: &rng)
        // Made last, so that a model without a layout draws the same initial weights as before.
        if config.hasLayout {
            layemb = Embedding(store, "layemb", vocabulary: config.layoutVocabulary, dim: d, rng: &rng)
            laypos = Embedding(store, "laypos", vocabulary: config.layoutLength, dim: d, rng: &rng)
            layhead = Linear(store, "layhead", inFeatures: d, outFeatures: config.layoutVocabulary, initGain: 0.5, rng: &rng)
        } else {
            (layemb, laypos, layhead) = (nil, nil, nil)
        }
        mapembs = config.mapVocabularies.enumerated().map { Embedding(store, "mapemb\($0.offset)", vocabulary: $0.element, dim: d, rng: &rng) }
        store.seal()
    }

    /// This model drawing a layout of `length` ids in 0..<`vocabulary` first: its own weights, and
    /// new layout embeddings and head (drawn from `seed`), so a trained painter learns to plan
    /// without starting over.
    public func withLayout(length: Int, vocabulary: Int, seed: UInt64) -> TextImageTransformer {
        var config = self.config
        (config.layoutLength, config.layoutVocabulary) = (length, vocabulary)
        return transplanted(into: TextImageTransformer(config: config, seed: seed))
    }

    /// This layout model reading a map of its layout with channels of `vocabularies` ids: its own
    /// weights, and map embeddings that start at zero, so it computes what this one does until
    /// training teaches it to read the map.
    public func withMap(vocabularies: [Int]) -> TextImageTransformer {
        precondition(config.hasLayout, "a map needs a layout")
        var config = self.config
        config.mapVocabularies = vocabularies
        let mapped = transplanted(into: TextImageTransformer(config: config))
        for e in mapped.mapembs { mapped.store.value(e.table).update(repeating: 0, count: e.table.count) }
        return mapped
    }

    /// This map model with its empty caption also trained (from here on) to read each of `parts`
    /// of the map alone (TextImageConfig.mapParts): the same weights, so it computes what this one does.
    public func withMapParts(_ parts: [[Int]]) -> TextImageTransformer {
        precondition(config.hasMap, "map parts need a map")
        var config = self.config
        config.mapParts = parts
        return transplanted(into: TextImageTransformer(config: config))
    }

    /// This map model reading its map's channel `channel` with `vocabulary` ids, each new id's
    /// embedding starting as the old id `from(id)`'s and every other weight kept: a finer channel
    /// that starts out meaning what the coarse one learned.
    public func withMapChannel(_ channel: Int, vocabulary: Int, from old: (Int) -> Int) -> TextImageTransformer {
        precondition(config.mapVocabularies.indices.contains(channel), "no map channel \(channel)")
        var config = self.config
        config.mapVocabularies[channel] = vocabulary
        let grown = transplanted(into: TextImageTransformer(config: config), skipping: mapembs[channel].table.name)
        let (source, target) = (store.value(mapembs[channel].table), grown.store.value(grown.mapembs[channel].table))
        let d = config.width
        for id in 0..<vocabulary {
            let o = old(id)
            precondition((0..<self.config.mapVocabularies[channel]).contains(o), "map id \(id) drawn from \(o), out of range")
            (target + id * d).update(from: source + o * d, count: d)
        }
        return grown
    }

    /// `other` (a grown copy of this model's shape) holding this model's weights in its own, but
    /// for the parameter named `skipped`.
    private func transplanted(into other: TextImageTransformer, skipping skipped: String? = nil) -> TextImageTransformer {
        for p in store.params where p.name != skipped {
            guard let q = other.store.param(named: p.name), q.shape == p.shape else { preconditionFailure("\(p.name) missing from the grown model") }
            other.store.value(q).update(from: store.value(p), count: p.count)
        }
        return other
    }

    /// This model with `added` more blocks after its own, each starting as the identity (its
    /// attention and MLP output projections zero), so the deeper model computes exactly what this
    /// one does until training moves the new blocks: more depth without training from scratch.
    public func deepened(by added: Int, seed: UInt64) -> TextImageTransformer {
        precondition(added >= 0, "deepened(by:) a negative number of blocks")
        var config = self.config
        config.layers += added
        let deeper = transplanted(into: TextImageTransformer(config: config, seed: seed))
        for block in deeper.blocks[self.config.layers...] {
            for output in [block.attn.projWeight, block.attn.projBias, block.fc2.weight] {
                deeper.store.value(output).update(repeating: 0, count: output.count)
            }
            if let bias = block.fc2.bias { deeper.store.value(bias).update(repeating: 0, count: bias.count) }
        }
        return deeper
    }

    /// text [N, L] ids, layouts [N, P] (empty without a layout), their maps [N, C, T] (empty
    /// without one) and image tokens [N, T] -> logits [N, T, K]: row t scores image token t given
    /// the text, the layout and the image tokens before it. `layoutLogits` then holds [N, P, V]:
    /// row j scores layout id j given the text and the ids before it.
    public func forward(text: [Int32], layout: [Int32] = [], map: [Int32] = [], tokens: [Int32], batch n: Int) -> Tensor {
        let (l, p, t, d) = (config.textLength, config.layoutLength, imagePositions, config.width)
        precondition(text.count == n * l && layout.count == n * p && tokens.count == n * t && map.count == n * mapembs.count * t,
                     "text-to-image forward: \(text.count) text ids, \(layout.count) layout ids, \(map.count) map ids and \(tokens.count) tokens for a batch of \(n)")
        shape = (n, l, p, t)
        let s = l + p + t
        var prev = [Int32](repeating: 0, count: n * t), row = prev, col = prev
        for b in 0..<n {
            for i in 0..<t {
                prev[b * t + i] = i == 0 ? startToken : tokens[b * t + i - 1]
                row[b * t + i] = Int32(i / config.cols)
                col[b * t + i] = Int32(i % config.cols)
            }
        }
        let positions = (0..<(n * l)).map { Int32($0 % l) }
        let te = textemb.forward(text, shape: [n, l]), tp = textpos.forward(positions, shape: [n, l])
        let a = tokemb.forward(prev, shape: [n, t]), r = rowemb.forward(row, shape: [n, t]), c = colemb.forward(col, shape: [n, t])
        var z = Tensor([n, s, d])                                            // [N, L+P+T, D]
        for b in 0..<n {
            let zb = z.data + b * s * d
            for i in 0..<(l * d) { zb[i] = te.data[b * l * d + i] + tp.data[b * l * d + i] }
            let zi = zb + (l + p) * d, o = b * t * d
            for i in 0..<(t * d) { zi[i] = a.data[o + i] + r.data[o + i] + c.data[o + i] }
        }
        let channels = mapembs.count
        for (k, mapemb) in mapembs.enumerated() {
            let ids = (0..<(n * t)).map { map[(($0 / t) * channels + k) * t + $0 % t] }
            let e = mapemb.forward(ids, shape: [n, t])
            for b in 0..<n {
                let zi = z.data + (b * s + l + p) * d, o = b * t * d
                for i in 0..<(t * d) { zi[i] += e.data[o + i] }
            }
        }
        if let layemb, let laypos {
            let ye = layemb.forward(layout, shape: [n, p]), yp = laypos.forward((0..<(n * p)).map { Int32($0 % p) }, shape: [n, p])
            for b in 0..<n {
                let zl = z.data + (b * s + l) * d, o = b * p * d
                for i in 0..<(p * d) { zl[i] = ye.data[o + i] + yp.data[o + i] }
            }
        }
        for block in blocks { z = block.forward(z) }
        // One final norm over the positions that predict the layout (the last text position and
        // the layout's but its last) and the image's, then each part to its head.
        let outputs = Tensor([n, p + t, d])
        for b in 0..<n {
            outputs.data.advanced(by: b * (p + t) * d).update(from: z.data + (b * s + l - 1) * d, count: p * d)
            outputs.data.advanced(by: (b * (p + t) + p) * d).update(from: z.data + (b * s + l + p) * d, count: t * d)
        }
        let normed = lnf.forward(outputs)
        let image = Tensor([n, t, d])
        for b in 0..<n { image.data.advanced(by: b * t * d).update(from: normed.data + (b * (p + t) + p) * d, count: t * d) }
        if let layhead {
            let planned = Tensor([n, p, d])
            for b in 0..<n { planned.data.advanced(by: b * p * d).update(from: normed.data + b * (p + t) * d, count: p * d) }
            layoutLogits = layhead.forward(planned)
        }
        return head.forward(image)                                           // [N, T, K]
    }

    /// Adds the parameters' gradients given dlogits [N, T, K] and, with a layout, dlayout
    /// [N, P, V] of the last forward.
    public func backward(_ dlogits: Tensor, layout dlayout: Tensor? = nil) {
        let (n, l, p, t) = shape, d = config.width, s = l + p + t
        let dimage = head.backward(dlogits)                                  // [N, T, D]
        let doutputs = Tensor([n, p + t, d])
        for b in 0..<n { doutputs.data.advanced(by: (b * (p + t) + p) * d).update(from: dimage.data + b * t * d, count: t * d) }
        if let layhead, let dlayout {
            let dplanned = layhead.backward(dlayout)                         // [N, P, D]
            for b in 0..<n { doutputs.data.advanced(by: b * (p + t) * d).update(from: dplanned.data + b * p * d, count: p * d) }
        }
        let dnormed = lnf.backward(doutputs)
        var dz = Tensor([n, s, d])                                            // zero at the text positions' outputs
        for b in 0..<n {
            dz.data.advanced(by: (b * s + l - 1) * d).update(from: dnormed.data + b * (p + t) * d, count: p * d)
            dz.data.advanced(by: (b * s + l + p) * d).update(from: dnormed.data + (b * (p + t) + p) * d, count: t * d)
        }
        for block in blocks.reversed() { dz = block.backward(dz) }
        let dtext = Tensor([n, l, d]), dimg = Tensor([n, t, d])
        for b in 0..<n {
            (dtext.data + b * l * d).update(from: dz.data + b * s * d, count: l * d)
            (dimg.data + b * t * d).update(from: dz.data + (b * s + l + p) * d, count: t * d)
        }
        textemb.backward(dtext)
        textpos.backward(dtext)
        tokemb.backward(dimg)
        rowemb.backward(dimg)
        colemb.backward(dimg)
        for mapemb in mapembs { mapemb.backward(dimg) }
        if let layemb, let laypos {
            let dlay = Tensor([n, p, d])
            for b in 0..<n { (dlay.data + b * p * d).update(from: dz.data + (b * s + l) * d, count: p * d) }
            layemb.backward(dlay)
            laypos.backward(dlay)
        }
    }

    /// Mean bits per image token of (text, layout, tokens) triples [N, L], [N, P] and [N, T].
    public func bitsPerToken(text: [Int32], layout: [Int32] = [], map: [Int32] = [], tokens: [Int32], batch n: Int) -> Double {
        Double(crossEntropyLoss(forward(text: text, layout: layout, map: map, tokens: tokens, batch: n), tokens)) / log(2.0)
    }

    /// One position per sequence through the blocks and their caches: x [B, D] -> [B, D].
    private func step(_ x: Tensor, caches: [KVCache]) -> Tensor {
        var z = x
        for (block, cache) in zip(blocks, caches) { z = block.step(z, cache: cache) }
        return z
    }

    /// Which layout ids may come at layout position j after the ids before it ([V] flags), or nil
    /// for any: the grammar of the layouts the model was trained on, so a sample is always one.
    public typealias LayoutRule = (_ position: Int, _ before: ArraySlice<Int32>) -> [Bool]

    /// A layout's map: [C, T] ids for a layout [P] (C the config's map channels).
    public typealias LayoutMap = (_ layout: [Int32]) -> [Int32]

    /// Layouts [N, P] (with a layout; else empty) and image token grids [N, T] for texts [N, L],
    /// each drawn in order from logits = u + guidance * (c - u), where c are the logits given the
    /// text and u those given the empty text (guidance 1: the conditional model alone, no second
    /// branch; 0: unconditional); both branches read the same layout and tokens drawn so far.
    /// Every grid is sampled in the one batch (twice as wide with guidance); grid b draws from rngs[b].
    /// With `layouts` [N, P] given, the pictures are painted from those instead of drawn ones; with
    /// `paint` false, only the layouts are drawn (tokens come back empty): choosing among plans
    /// costs P positions each, not P + T.
    /// A model with a map paints reading `layoutMap` of each layout (the empty text's branch: no map).
    /// `layoutGuidance` (`guidance` unless given) is the scale of the layout ids: a plan and its
    /// painting are guided apart, as the best of each differs ('vqz eval prompts --plan-guidance', docs/TEXT.md).
    /// `partGuidance` composes the map's parts (config.mapParts): each part read alone by the empty
    /// text, p_i, adds partGuidance * (p_i - u) to the picture's logits, so a kind and a colour never
    /// painted together pull on the picture as the two seen apart (0: no part branches).
    public func sample(text: [Int32], batch n: Int, guidance: Float, layoutGuidance: Float? = nil, partGuidance: Float = 0,
                       options: SamplingOptions, layoutRule: LayoutRule? = nil, layoutMap: LayoutMap? = nil,
                       layouts given: [Int32]? = nil, paint: Bool = true, rngs: inout [RNG]) -> (layouts: [Int32], tokens: [Int32]) {
        let (l, p, t, d) = (config.textLength, config.layoutLength, paint ? imagePositions : 0, config.width)
        precondition(text.count == n * l && rngs.count == n && (given == nil || given!.count == n * p), "text-to-image sample: inconsistent sizes")
        let layoutGuidance = layoutGuidance ?? guidance
        let parts = paint && partGuidance != 0 ? config.mapParts : []
        // The empty text's branch runs only while some drawn id is guided.
        let guided = (paint && guidance != 1) || (layemb != nil && given == nil && layoutGuidance != 1) || !parts.isEmpty
        // Branches of N rows each: the texts, then with guidance the empty text reading no map, then
        // the empty text reading each part of the map.
        let branches = guided ? 2 + parts.count : 1
        let rows = branches * n
        let allText = text + [Int32](repeating: TextTokenizer.padding, count: (branches - 1) * n * l)
        let caches = blocks.map { $0.attn.makeCache(batch: rows, capacity: l + p + t) }
        // The text positions in one pass (only the last one's output is read, and only with a layout).
        let positions = (0..<(rows * l)).map { Int32($0 % l) }
        let te = textemb.forward(allText, shape: [rows, l]), tp = textpos.forward(positions, shape: [rows, l])
        var prefix = Tensor([rows, l, d])
        add(prefix.data, te.data, tp.data, prefix.count)
        for (block, cache) in zip(blocks, caches) { prefix = block.prefill(prefix, cache: cache) }

        /// Draws sequence b's next id from the logits of its rows [rows, V] (V = `count`); `composed`
        /// adds the map parts' branches.
        var mixed: [Float] = []
        func draw(_ logits: Tensor, count v: Int, scale: Float, composed: Bool = false, allowed: [Bool]?,
                  into out: inout [Int32], at index: Int, row b: Int) {
            mixed = Array(UnsafeBufferPointer(start: logits.data + b * v, count: v))
            if guided {
                let uncond = logits.data + (n + b) * v
                if scale != 1 {
                    for j in 0..<v { mixed[j] = uncond[j] + scale * (mixed[j] - uncond[j]) }
                }
                for i in parts.indices where composed {
                    let part = logits.data + ((2 + i) * n + b) * v
                    for j in 0..<v { mixed[j] += partGuidance * (part[j] - uncond[j]) }
                }
            }
            if let allowed { for j in 0..<v where !allowed[j] { mixed[j] = -.infinity } }
            out[index] = mixed.withUnsafeBufferPointer { TokenSampler.draw($0.baseAddress!, count: v, options: options, rng: &rngs[b]) }
        }

        var layouts = given ?? [Int32](repeating: 0, count: n * p)
        if let layemb, let laypos, let layhead {
            // The last text position's output predicts the first layout id, each layout position's the next.
            var last = Tensor([rows, d])
            for r in 0..<rows { (last.data + r * d).update(from: prefix.data + (r * l + l - 1) * d, count: d) }
            for j in 0..<p {
                if given == nil {
                    let logits = layhead.forward(lnf.forward(last))                  // [rows, V]
                    for b in 0..<n {
                        let allowed = layoutRule?(j, layouts[(b * p)..<(b * p + j)])
                        draw(logits, count: config.layoutVocabulary, scale: layoutGuidance, allowed: allowed, into: &layouts, at: b * p + j, row: b)
                    }
                }
                if !paint && j == p - 1 { break }                                    // the last id is not read
                let x = Tensor([rows, d])
                add(x.data, layemb.forward((0..<rows).map { layouts[($0 % n) * p + j] }, shape: [rows]).data,
                    laypos.forward([Int32](repeating: Int32(j), count: rows), shape: [rows]).data, x.count)
                last = step(x, caches: caches)
            }
        }
        precondition(mapembs.isEmpty || !paint || layoutMap != nil, "text-to-image sample: a model with a map needs the layout's map")
        let maps: [[Int32]] = mapembs.isEmpty || !paint ? [] : (0..<n).map { b in
            let m = layoutMap!(Array(layouts[(b * p)..<((b + 1) * p)]))
            precondition(m.count == mapembs.count * t, "text-to-image sample: a map of \(m.count) ids for \(mapembs.count) channels of \(t)")
            return m
        }
        var out = [Int32](repeating: 0, count: n * t)
        for i in 0..<t {
            let prev = (0..<rows).map { r in i == 0 ? startToken : out[(r % n) * t + i - 1] }
            let a = tokemb.forward(prev, shape: [rows])
            let r = rowemb.forward([Int32](repeating: Int32(i / config.cols), count: rows), shape: [rows])
            let c = colemb.forward([Int32](repeating: Int32(i % config.cols), count: rows), shape: [rows])
            let x = Tensor([rows, d])
            for j in 0..<x.count { x.data[j] = a.data[j] + r.data[j] + c.data[j] }
            for (k, mapemb) in mapembs.enumerated() {
                // The empty caption's rows read no map, or only their part of it, as in training.
                let ids: [Int32] = (0..<rows).map { r in
                    let branch = r / n
                    return branch == 0 || (branch >= 2 && parts[branch - 2].contains(k)) ? maps[r % n][k * t + i] : 0
                }
                add(x.data, x.data, mapemb.forward(ids, shape: [rows]).data, x.count)
            }
            let logits = head.forward(lnf.forward(step(x, caches: caches)))     // [rows, K]
            for b in 0..<n {
                draw(logits, count: config.codebookSize, scale: guidance, composed: true, allowed: nil, into: &out, at: b * t + i, row: b)
            }
        }
        return (layouts, out)
    }
}

#if canImport(Glibc)
import Glibc
#endif
