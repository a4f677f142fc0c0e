#if canImport(Glibc)
import Glibc
#endif
import NN

// Shape letters: N batch, L text positions, T = rows * cols image positions, D text width,
// C image channels, E shared embedding width, K codebook size.

/// DALL-E's reranker, CLIP's way: two encoders onto one unit sphere, trained so that a caption
/// and the token grid of its picture point the same way and the other pairs of the batch do not.
///
///     text:   z_i = textemb(text_i) + textpos(i)  -> causal blocks -> z at the caption's last word
///             -> LayerNorm -> Linear(D, E) -> L2 normalise                              [N, E]
///     image:  z_t = tokproj(code(x_t)) + rowemb(row t) + colemb(col t)   [N, rows, cols, C]
///             -> conv 3x3 -> GELU -> conv 3x3 stride 2 -> GELU -> conv 3x3 stride 2 -> GELU
///             -> flatten -> Linear(C h w, E) -> L2 normalise                            [N, E]
///     loss:   symmetric InfoNCE over exp(s) text image^T, s the learned log inverse temperature
///
/// The text blocks are causal (TokenTransformer's), so the last word's output has read the whole
/// caption and none of the padding after it (CLIP reads its end-of-text token the same way);
/// the empty caption reads position 0. The image side keeps the 4 x 4 layout until the
/// projection, so positions and relations reach the embedding.
///
/// code(x) is a fixed table, the image tokenizer's level-1 code vectors: codes that look alike
/// have near vectors, so what is learned of one code carries over to its neighbours. With a
/// learned table instead, each of the K codes was its own free vector and a smoke run on 1,024
/// pictures memorised the training pairs (98% retrieval) while held-out retrieval stayed at chance.
public final class Reranker {
    public let config: RerankerConfig
    public let store: ParameterStore

    let textemb: Embedding, textpos: Embedding
    let blocks: [TokenTransformer.Block]
    let textln: LayerNorm
    let textproj: Linear
    let textnorm = L2Normalize()
    let tokemb: Embedding, tokproj: Linear, rowemb: Embedding, colemb: Embedding
    let imageconv: Sequential
    let imageproj: Linear
    let imagenorm = L2Normalize()
    /// s, the log of the logits' scale (CLIP's logit_scale), [1].
    public let logScale: Param

    /// CLIP's initial temperature 0.07 and its clamp at a scale of 100.
    public static let initialLogScale = logf(1 / 0.07), maxLogScale = logf(100)

    // Saved by the forwards for the backwards.
    private var textShape = (n: 0, l: 0)
    private var lastWord: [Int] = []            // [N], the position each caption is read at
    private var imageFeatures = (h: 0, w: 0)    // the conv stack's output grid

    /// `codes` [K, codeDim] are the fixed token features (random ones when nil, for tests).
    public init(config: RerankerConfig, codes: [Float]? = nil, seed: UInt64 = 0) {
        precondition(config.isValid, "not a valid reranker config: \(config)")
        self.config = config
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let (d, c) = (config.width, config.channels)
        textemb = Embedding(store, "textemb", vocabulary: config.textVocabulary, dim: d, rng: &rng)
        textpos = Embedding(store, "textpos", vocabulary: config.textLength, dim: d, rng: &rng)
        blocks = (0..<config.layers).map {
            TokenTransformer.Block(store, "block\($0)", dim: d, heads: config.heads, layers: config.layers, rng: &rng)
        }
        textln = LayerNorm(store, "textln", dim: d)
        textproj = Linear(store, "textproj", inFeatures: d, outFeatures: config.embedding, rng: &rng)
        tokemb = Embedding(store, "tokemb", vocabulary: config.codebookSize, dim: config.codeDim, std: 1, trainable: false, rng: &rng)
        tokproj = Linear(store, "tokproj", inFeatures: config.codeDim, outFeatures: c, rng: &rng)
        tokproj.computesInputGradient = false
        rowemb = Embedding(store, "rowemb", vocabulary: config.rows, dim: c, std: 0.5, rng: &rng)
        colemb = Embedding(store, "colemb", vocabulary: config.cols, dim: c, std: 0.5, rng: &rng)
        let convs = [
            Conv2d(store, "conv1", inChannels: c, outChannels: c, kernel: 3, rng: &rng),
            Conv2d(store, "conv2", inChannels: c, outChannels: c, kernel: 3, stride: 2, rng: &rng),
            Conv2d(store, "conv3", inChannels: c, outChannels: c, kernel: 3, stride: 2, rng: &rng),
        ]
        imageconv = Sequential(convs.flatMap { [$0, GELU()] as [any Layer] })
        var (h, w) = (config.rows, config.cols)
        for conv in convs { (h, w) = conv.outputSize(height: h, width: w) }
        imageFeatures = (h, w)
        imageproj = Linear(store, "imageproj", inFeatures: c * h * w, outFeatures: config.embedding, rng: &rng)
        logScale = store.add("logit_scale", [1], [Reranker.initialLogScale])
        store.seal()
        if let codes {
            precondition(codes.count == config.codebookSize * config.codeDim, "reranker: \(codes.count) code values for \(config.codebookSize) x \(config.codeDim)")
            store.value(tokemb.table).update(from: codes, count: codes.count)
        }
    }

    public var imagePositions: Int { config.rows * config.cols }

    /// The scale the logits are multiplied by: exp(s), s clamped at maxLogScale.
    public var scale: Float { expf(min(store.value(logScale)[0], Reranker.maxLogScale)) }

    /// Captions [N, L] -> unit vectors [N, E]. The result is the encoder's buffer: the next call
    /// overwrites it.
    public func encodeText(_ text: [Int32], batch n: Int) -> Tensor {
        let (l, d) = (config.textLength, config.width)
        precondition(text.count == n * l, "reranker: \(text.count) text ids for a batch of \(n)")
        textShape = (n, l)
        lastWord = (0..<n).map { b in (0..<l).last(where: { text[b * l + $0] != TextTokenizer.padding }) ?? 0 }
        let te = textemb.forward(text, shape: [n, l])
        let tp = textpos.forward((0..<(n * l)).map { Int32($0 % l) }, shape: [n, l])
        var z = Tensor([n, l, d])                                            // [N, L, D]
        add(z.data, te.data, tp.data, z.count)
        for block in blocks { z = block.forward(z) }
        let read = Tensor([n, d])                                            // [N, D], z at each last word
        for b in 0..<n { (read.data + b * d).update(from: z.data + (b * l + lastWord[b]) * d, count: d) }
        return textnorm.forward(textproj.forward(textln.forward(read)))
    }

    /// Adds the text encoder's gradients given d[N, E] of the last encodeText.
    public func backwardText(_ dy: Tensor) {
        let (n, l) = textShape, d = config.width
        let dread = textln.backward(textproj.backward(textnorm.backward(dy)))   // [N, D]
        var dz = Tensor([n, l, d])                                              // zero but at the last words
        for b in 0..<n { (dz.data + (b * l + lastWord[b]) * d).update(from: dread.data + b * d, count: d) }
        for block in blocks.reversed() { dz = block.backward(dz) }
        textemb.backward(dz)
        textpos.backward(dz)
    }

    /// Token grids [N, T] (raster order) -> unit vectors [N, E]; the encoder's buffer, as above.
    public func encodeImage(_ tokens: [Int32], batch n: Int) -> Tensor {
        let (t, c) = (imagePositions, config.channels)
        precondition(tokens.count == n * t, "reranker: \(tokens.count) tokens for a batch of \(n)")
        let rows = (0..<(n * t)).map { Int32($0 % t / config.cols) }, cols = (0..<(n * t)).map { Int32($0 % config.cols) }
        let a = tokproj.forward(tokemb.forward(tokens, shape: [n, t])), r = rowemb.forward(rows, shape: [n, t]), k = colemb.forward(cols, shape: [n, t])
        let z = Tensor([n, config.rows, config.cols, c])                    // [N, rows, cols, C]
        for i in 0..<z.count { z.data[i] = a.data[i] + r.data[i] + k.data[i] }
        let f = imageconv.forward(z)                                         // [N, h, w, C]
        return imagenorm.forward(imageproj.forward(f.reshaped([n, f.count / n])))
    }

    /// Adds the image encoder's gradients given d[N, E] of the last encodeImage.
    public func backwardImage(_ dy: Tensor) {
        let df = imageproj.backward(imagenorm.backward(dy))                  // [N, C h w]
        let n = df.shape[0], (h, w) = imageFeatures
        let dz = imageconv.backward(df.reshaped([n, h, w, config.channels])) // [N, rows, cols, C]
        _ = tokproj.backward(dz)                                              // the code table is fixed
        rowemb.backward(dz)
        colemb.backward(dz)
    }

    /// The batch's symmetric InfoNCE loss, pair i being text i and grid i; `text` may hold
    /// `nearMisses` more captions after the pairs', which match no grid (hard negatives each grid
    /// must rank under its own caption), and `tokens` may hold `pictureNearMisses` more grids,
    /// which match no caption (hard negatives each caption must rank under its own grid: what
    /// reranking asks). With `backward`, every parameter's gradient (the temperature's included)
    /// is added into the store.
    @discardableResult
    public func loss(text: [Int32], tokens: [Int32], batch n: Int, nearMisses: Int = 0, pictureNearMisses: Int = 0,
                     backward: Bool = false) -> Float {
        let t = encodeText(text, batch: n + nearMisses).copy(), i = encodeImage(tokens, batch: n + pictureNearMisses).copy()
        let dt = backward ? Tensor(t.shape) : nil, di = backward ? Tensor(i.shape) : nil
        let (loss, ds) = contrastiveLoss(t, i, pairs: n, logScale: store.value(logScale)[0], maxLogScale: Reranker.maxLogScale,
                                         da: dt, db: di)
        if let dt, let di {
            store.grad(logScale)[0] += ds
            backwardText(dt)
            backwardImage(di)
        }
        return loss
    }

    /// Cosine similarities [A, B] between captions [A, L] and grids [B, T], row-major. Encodes
    /// 64 at a time, so the encoders' activations stay small for any A and B.
    public func similarities(text: [Int32], captions a: Int, tokens: [Int32], grids b: Int) -> [Float] {
        let (l, t, e) = (config.textLength, imagePositions, config.embedding)
        func embed(_ count: Int, _ encode: (Range<Int>) -> Tensor) -> Tensor {
            let out = Tensor([count, e])
            for b0 in stride(from: 0, to: count, by: 64) {
                let part = b0..<min(count, b0 + 64)
                (out.data + b0 * e).update(from: encode(part).data, count: part.count * e)
            }
            return out
        }
        let x = embed(a) { encodeText(Array(text[($0.lowerBound * l)..<($0.upperBound * l)]), batch: $0.count) }
        let y = embed(b) { encodeImage(Array(tokens[($0.lowerBound * t)..<($0.upperBound * t)]), batch: $0.count) }
        let sim = Tensor([a, b])
        gemm(sim.data, x.data, y.data, m: a, n: b, k: e, transB: true)
        return sim.array
    }
}
