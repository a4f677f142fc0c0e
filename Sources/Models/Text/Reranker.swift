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
///     image:  z_t = tokproj(f_t) + rowemb(row t) + colemb(col t)          [N, rows, cols, C]
///             -> conv 3x3 -> GELU -> conv 3x3 stride 2 -> GELU -> conv 3x3 stride 2 -> GELU
///             -> flatten -> Linear(C h w, E) -> L2 normalise                            [N, E]
///     loss:   symmetric InfoNCE over exp(s) text image^T, s the learned log inverse temperature
///
/// The text blocks are causal (TokenTransformer's), so the last word's output has read the whole
/// caption and none of the padding after it (CLIP reads its end-of-text token the same way);
/// the empty caption reads position 0. The image side keeps the 4 x 4 layout until the
/// projection, so positions and relations reach the embedding.
///
/// f_t, cell t's features, is what the config says the picture side reads: code(x_t) for a token
/// grid, or cell t's c x c pixels for a picture (`pictureCell`; the generator's candidates are
/// decoded anyway, and in pixels a blob and a square differ plainly, where in codes the difference
/// is spread over the codes of a shape's edge).
///
/// code(x) is a fixed table, the image tokenizer's level-1 code vectors: codes that look alike
/// have near vectors, so what is learned of one code carries over to its neighbours. With a
/// learned table instead, each of the K codes was its own free vector and a smoke run on 1,024
/// pictures memorised the training pairs (98% retrieval) while held-out retrieval stayed at chance.
public final class Reranker {
    public let config: RerankerConfig
    public let store: ParameterStore

    let textemb: Embedding, textpos: Embedding
    let blocks: [TransformerBlock]
    let textln: LayerNorm
    let textproj: Linear
    let textnorm = L2Normalize()
    let tokemb: Embedding?                      // the code table, when the model reads tokens
    let tokproj: Linear, rowemb: Embedding, colemb: Embedding
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
        self.config = config.validated("reranker")
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let (d, c) = (config.width, config.channels)
        textemb = Embedding(store, "textemb", vocabulary: config.textVocabulary, dim: d, rng: &rng)
        textpos = Embedding(store, "textpos", vocabulary: config.textLength, dim: d, rng: &rng)
        blocks = (0..<config.layers).map {
            TransformerBlock(store, "block\($0)", dim: d, heads: config.heads, causal: true, rng: &rng)
        }
        textln = LayerNorm(store, "textln", dim: d)
        textproj = Linear(store, "textproj", inFeatures: d, outFeatures: config.embedding, rng: &rng)
        tokemb = config.pictureCell != nil ? nil
            : Embedding(store, "tokemb", vocabulary: config.codebookSize, dim: config.codeDim, std: 1, trainable: false, rng: &rng)
        tokproj = Linear(store, "tokproj", inFeatures: config.cellFeatures, outFeatures: c, rng: &rng)
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
        if let codes, let tokemb {
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

    /// The values one image of `images` takes: T tokens, or a picture's RGB bytes.
    public var valuesPerImage: Int { config.pictureSize.map { $0.width * $0.height * 3 } ?? imagePositions }

    /// Images [N, ...] -> the cells' features [N, T, F]: code vectors, or each cell's pixels
    /// (channels last, -0.5 to 0.5 as the tokenizer's).
    public func cellFeatures(_ images: RerankerImages, batch n: Int) -> Tensor {
        switch images {
        case .tokens(let tokens):
            guard let tokemb else { preconditionFailure("reranker: this model reads pictures, not token grids") }
            precondition(tokens.count == n * imagePositions, "reranker: \(tokens.count) tokens for a batch of \(n)")
            return tokemb.forward(tokens, shape: [n, imagePositions])
        case .pictures(let rgb):
            guard let cell = config.pictureCell else { preconditionFailure("reranker: this model reads token grids, not pictures") }
            precondition(rgb.count == n * valuesPerImage, "reranker: \(rgb.count) picture values for a batch of \(n)")
            let (rows, cols, f) = (config.rows, config.cols, config.cellFeatures), width = cols * cell
            let out = Tensor([n, rows * cols, f])
            for b in 0..<n {
                for r in 0..<rows {
                    for c in 0..<cols {
                        let dst = out.data + ((b * rows + r) * cols + c) * f
                        for y in 0..<cell {
                            let src = ((b * rows * cell + r * cell + y) * width + c * cell) * 3
                            for i in 0..<(cell * 3) { dst[y * cell * 3 + i] = Float(rgb[src + i]) / 255 - 0.5 }
                        }
                    }
                }
            }
            return out
        }
    }

    /// `rgb` (width x height RGB8) box-averaged down to the pictures this model reads.
    public func scaledToRead(_ rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        guard let (w, h) = config.pictureSize else { preconditionFailure("reranker: this model reads token grids, not pictures") }
        precondition(width % w == 0 && height % h == 0 && width / w == height / h && rgb.count == width * height * 3,
                     "reranker: a \(width)x\(height) picture does not scale to \(w)x\(h)")
        let k = width / w, area = Float(k * k)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for ch in 0..<3 {
                    var sum = 0
                    for dy in 0..<k { for dx in 0..<k { sum += Int(rgb[((y * k + dy) * width + x * k + dx) * 3 + ch]) } }
                    out[(y * w + x) * 3 + ch] = UInt8((Float(sum) / area).rounded())
                }
            }
        }
        return out
    }

    /// Images (token grids or pictures, as the config says) -> unit vectors [N, E]; the
    /// encoder's buffer, as above.
    public func encodeImage(_ images: RerankerImages, batch n: Int) -> Tensor {
        let (t, c) = (imagePositions, config.channels)
        let rows = (0..<(n * t)).map { Int32($0 % t / config.cols) }, cols = (0..<(n * t)).map { Int32($0 % config.cols) }
        let a = tokproj.forward(cellFeatures(images, batch: n)), r = rowemb.forward(rows, shape: [n, t]), k = colemb.forward(cols, shape: [n, t])
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
        _ = tokproj.backward(dz)                                              // the features are fixed
        rowemb.backward(dz)
        colemb.backward(dz)
    }

    /// The batch's symmetric InfoNCE loss, pair i being text i and image i; `text` may hold
    /// `nearMisses` more captions after the pairs', which match no image (hard negatives each image
    /// must rank under its own caption), and `images` may hold `pictureNearMisses` more,
    /// which match no caption (hard negatives each caption must rank under its own grid: what
    /// reranking asks). With `backward`, every parameter's gradient (the temperature's included)
    /// is added into the store.
    @discardableResult
    public func loss(text: [Int32], images: RerankerImages, batch n: Int, nearMisses: Int = 0, pictureNearMisses: Int = 0,
                     backward: Bool = false) -> Float {
        let t = encodeText(text, batch: n + nearMisses).copy(), i = encodeImage(images, batch: n + pictureNearMisses).copy()
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

    /// Cosine similarities [A, B] between captions [A, L] and B images, row-major. Encodes
    /// 64 at a time, so the encoders' activations stay small for any A and B.
    public func similarities(text: [Int32], captions a: Int, images: RerankerImages, count b: Int) -> [Float] {
        let l = config.textLength
        let x = embedded(a) { encodeText(Array(text[($0.lowerBound * l)..<($0.upperBound * l)]), batch: $0.count) }
        let y = embeddedImages(images, count: b)
        let sim = Tensor([a, b])
        gemm(sim.data, x.data, y.data, m: a, n: b, k: config.embedding, transB: true)
        return sim.array
    }

    /// Cosine similarity of image i of `a` with image i of `b`, for each of `count` pairs: how
    /// alike the reranker finds two pictures, in the space where it matches them with captions.
    public func pairedSimilarities(_ a: RerankerImages, _ b: RerankerImages, count n: Int) -> [Float] {
        let (x, y, e) = (embeddedImages(a, count: n), embeddedImages(b, count: n), config.embedding)
        return (0..<n).map { i in (0..<e).reduce(Float(0)) { $0 + x.data[i * e + $1] * y.data[i * e + $1] } }
    }

    /// Unit image embeddings [N, E], encoded 64 at a time.
    func embeddedImages(_ images: RerankerImages, count n: Int) -> Tensor {
        let v = valuesPerImage
        return embedded(n) { encodeImage(images.slice($0.lowerBound * v..<$0.upperBound * v), batch: $0.count) }
    }

    private func embedded(_ count: Int, _ encode: (Range<Int>) -> Tensor) -> Tensor {
        let e = config.embedding, out = Tensor([count, e])
        for b0 in stride(from: 0, to: count, by: 64) {
            let part = b0..<min(count, b0 + 64)
            (out.data + b0 * e).update(from: encode(part).data, count: part.count * e)
        }
        return out
    }
}

/// What a reranker's picture side reads, a batch at a time: token grids [N, T] in raster order,
/// or pictures [N, height, width, 3] RGB8 at its config's `pictureSize`.
public enum RerankerImages: Sendable {
    case tokens([Int32])
    case pictures([UInt8])

    /// The values in `range` (whole images' worth).
    func slice(_ range: Range<Int>) -> RerankerImages {
        switch self {
        case .tokens(let t): .tokens(Array(t[range]))
        case .pictures(let p): .pictures(Array(p[range]))
        }
    }
}
