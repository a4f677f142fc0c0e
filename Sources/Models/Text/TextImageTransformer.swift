import NN

// Shape letters: N batch, L text positions, T = rows * cols image positions, D width,
// K codebook size, V text vocabulary.

/// DALL-E's text-to-image transformer: one causal stream of L text tokens, then the image's
/// tokens in raster order, the blocks of TokenTransformer over both:
///
///     input_i     = textemb(text_i) + textpos(i)                        i < L   (padding is id 0)
///     input_{L+t} = tokemb(x_{t-1}) + rowemb(row(t)) + colemb(col(t))   x_{-1} = START (index K)
///     logits_t    = head(lnf(z_{L+t}))                                  [N, T, K]
///
/// The text has its own embedding and positions; the loss is on the image tokens only. An
/// all-padding text is the empty caption: trained by dropping captions (classifier-free
/// guidance), it makes the model unconditional.
public final class TextImageTransformer {
    public let config: TextImageConfig
    public let store: ParameterStore

    let textemb: Embedding, textpos: Embedding
    let tokemb: Embedding, rowemb: Embedding, colemb: Embedding
    let blocks: [TokenTransformer.Block]
    let lnf: LayerNorm
    let head: Linear

    // Saved by forward for backward.
    private var shape = (n: 0, l: 0, t: 0)

    public var startToken: Int32 { Int32(config.codebookSize) }
    public var imagePositions: Int { config.rows * config.cols }

    public init(config: TextImageConfig, seed: UInt64 = 0) {
        precondition(config.isValid, "not a valid text-to-image config: \(config)")
        self.config = config
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
            TokenTransformer.Block(store, "block\($0)", dim: d, heads: config.heads, layers: config.layers, rng: &rng)
        }
        lnf = LayerNorm(store, "lnf", dim: d)
        head = Linear(store, "head", inFeatures: d, outFeatures: config.codebookSize, initGain: 0.5, rng: &rng)
        store.seal()
    }

    /// This model with `added` more blocks after its own, each starting as the identity (its
    /// attention and MLP output projections zero), so the deeper model computes exactly what this
    /// one does until training moves the new blocks: more depth without training from scratch.
    public func deepened(by added: Int, seed: UInt64) -> TextImageTransformer {
        precondition(added >= 0, "deepened(by:) a negative number of blocks")
        var config = self.config
        config.layers += added
        let deeper = TextImageTransformer(config: config, seed: seed)
        for p in store.params {
            guard let q = deeper.store.param(named: p.name), q.shape == p.shape else { preconditionFailure("\(p.name) missing from the deeper model") }
            deeper.store.value(q).update(from: store.value(p), count: p.count)
        }
        for block in deeper.blocks[self.config.layers...] {
            for output in [block.attn.projWeight, block.attn.projBias, block.fc2.weight] {
                deeper.store.value(output).update(repeating: 0, count: output.count)
            }
            if let bias = block.fc2.bias { deeper.store.value(bias).update(repeating: 0, count: bias.count) }
        }
        return deeper
    }

    /// text [N, L] ids and image tokens [N, T] -> logits [N, T, K]: row t scores image token t
    /// given the text and the image tokens before it.
    public func forward(text: [Int32], tokens: [Int32], batch n: Int) -> Tensor {
        let (l, t, d) = (config.textLength, imagePositions, config.width)
        precondition(text.count == n * l && tokens.count == n * t, "text-to-image forward: \(text.count) text ids and \(tokens.count) tokens for a batch of \(n)")
        shape = (n, l, t)
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
        var z = Tensor([n, l + t, d])                                        // [N, L+T, D]
        for b in 0..<n {
            let zb = z.data + b * (l + t) * d
            for i in 0..<(l * d) { zb[i] = te.data[b * l * d + i] + tp.data[b * l * d + i] }
            let zi = zb + l * d, o = b * t * d
            for i in 0..<(t * d) { zi[i] = a.data[o + i] + r.data[o + i] + c.data[o + i] }
        }
        for block in blocks { z = block.forward(z) }
        let image = Tensor([n, t, d])                                        // the image positions of z
        for b in 0..<n { (image.data + b * t * d).update(from: z.data + (b * (l + t) + l) * d, count: t * d) }
        return head.forward(lnf.forward(image))                              // [N, T, K]
    }

    /// Adds the parameters' gradients given dlogits [N, T, K] of the last forward.
    public func backward(_ dlogits: Tensor) {
        let (n, l, t) = shape, d = config.width
        let dimage = lnf.backward(head.backward(dlogits))                    // [N, T, D]
        var dz = Tensor([n, l + t, d])                                        // zero at the text positions' outputs
        for b in 0..<n { (dz.data + (b * (l + t) + l) * d).update(from: dimage.data + b * t * d, count: t * d) }
        for block in blocks.reversed() { dz = block.backward(dz) }
        let dtext = Tensor([n, l, d]), dimg = Tensor([n, t, d])
        for b in 0..<n {
            (dtext.data + b * l * d).update(from: dz.data + b * (l + t) * d, count: l * d)
            (dimg.data + b * t * d).update(from: dz.data + (b * (l + t) + l) * d, count: t * d)
        }
        textemb.backward(dtext)
        textpos.backward(dtext)
        tokemb.backward(dimg)
        rowemb.backward(dimg)
        colemb.backward(dimg)
    }

    /// Mean bits per image token of (text, tokens) pairs [N, L] and [N, T].
    public func bitsPerToken(text: [Int32], tokens: [Int32], batch n: Int) -> Double {
        Double(crossEntropyLoss(forward(text: text, tokens: tokens, batch: n), tokens)) / log(2.0)
    }

    /// One position per sequence through the blocks and their caches: x [B, D] -> [B, D].
    private func step(_ x: Tensor, caches: [KVCache]) -> Tensor {
        var z = x
        for (block, cache) in zip(blocks, caches) { z = block.step(z, cache: cache) }
        return z
    }

    /// Image token grids [N, T] for texts [N, L], drawn in raster order from
    /// logits = u + guidance * (c - u), where c are the logits given the text and u those given
    /// the empty text (guidance 1: the conditional model alone, no second branch; 0: unconditional).
    /// Every grid is sampled in the one batch (twice as wide with guidance); grid b draws from rngs[b].
    public func sample(text: [Int32], batch n: Int, guidance: Float, options: SamplingOptions, rngs: inout [RNG]) -> [Int32] {
        let (l, t, k, d) = (config.textLength, imagePositions, config.codebookSize, config.width)
        precondition(text.count == n * l && rngs.count == n, "text-to-image sample: inconsistent sizes")
        let guided = guidance != 1
        let rows = guided ? 2 * n : n
        // Rows 0..<N see the texts; with guidance, rows N..<2N see the empty text.
        let allText = guided ? text + [Int32](repeating: TextTokenizer.padding, count: n * l) : text
        let caches = blocks.map { $0.attn.makeCache(batch: rows, capacity: l + t) }
        // The text positions in one pass (their outputs are never read, only their keys and values).
        let positions = (0..<(rows * l)).map { Int32($0 % l) }
        let te = textemb.forward(allText, shape: [rows, l]), tp = textpos.forward(positions, shape: [rows, l])
        var prefix = Tensor([rows, l, d])
        add(prefix.data, te.data, tp.data, prefix.count)
        for (block, cache) in zip(blocks, caches) { prefix = block.prefill(prefix, cache: cache) }
        var out = [Int32](repeating: 0, count: n * t)
        var mixed = [Float](repeating: 0, count: k)
        for i in 0..<t {
            let prev = (0..<rows).map { r in i == 0 ? startToken : out[(r % n) * t + i - 1] }
            let a = tokemb.forward(prev, shape: [rows])
            let r = rowemb.forward([Int32](repeating: Int32(i / config.cols), count: rows), shape: [rows])
            let c = colemb.forward([Int32](repeating: Int32(i % config.cols), count: rows), shape: [rows])
            let x = Tensor([rows, d])
            for j in 0..<x.count { x.data[j] = a.data[j] + r.data[j] + c.data[j] }
            let logits = head.forward(lnf.forward(step(x, caches: caches)))     // [rows, K]
            for b in 0..<n {
                let cond = logits.data + b * k
                if guided {
                    let uncond = logits.data + (n + b) * k
                    for j in 0..<k { mixed[j] = uncond[j] + guidance * (cond[j] - uncond[j]) }
                    out[b * t + i] = mixed.withUnsafeBufferPointer { TokenSampler.draw($0.baseAddress!, count: k, options: options, rng: &rngs[b]) }
                } else {
                    out[b * t + i] = TokenSampler.draw(cond, count: k, options: options, rng: &rngs[b])
                }
            }
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif
