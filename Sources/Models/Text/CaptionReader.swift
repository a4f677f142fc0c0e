#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NN

// Shape letters: N batch, G = (rows / group) * (cols / group) picture positions, M text positions
// (the longest caption of the batch plus one), D width, V text vocabulary, F a position's features.

/// The shape of a caption reader. Stored in its weights' metadata.
public struct CaptionReaderConfig: Codable, Equatable, Sendable {
    /// K: the image tokenizer's codebook size.
    public var codebookSize: Int
    /// Text ids 0..<textVocabulary (0 is padding, and the end of a caption as a target).
    public var textVocabulary: Int
    /// L: the longest caption in words.
    public var textLength: Int
    /// The level-1 token grid (rows x cols, raster order).
    public var rows: Int
    public var cols: Int
    /// The width of a token's fixed features (the image tokenizer's code vectors).
    public var codeDim: Int
    /// Grid cells merged per side into one picture position (their code vectors side by side).
    public var group: Int
    public var width: Int
    public var layers: Int
    public var heads: Int

    public init(codebookSize: Int = 1024, textVocabulary: Int, textLength: Int = 40, rows: Int = 16, cols: Int = 16,
                codeDim: Int = 32, group: Int = 2, width: Int = 128, layers: Int = 3, heads: Int = 4) {
        self.codebookSize = codebookSize
        self.textVocabulary = textVocabulary
        self.textLength = textLength
        self.rows = rows
        self.cols = cols
        self.codeDim = codeDim
        self.group = group
        self.width = width
        self.layers = layers
        self.heads = heads
    }

    public var isValid: Bool {
        (2...65536).contains(codebookSize) && (2...65536).contains(textVocabulary) && (1...1024).contains(textLength)
            && (1...64).contains(rows) && (1...64).contains(cols) && (1...1024).contains(codeDim) && (1...8).contains(group)
            && rows % group == 0 && cols % group == 0 && blocksAreValid(width: width, layers: layers, heads: heads, maxWidth: 1024, maxLayers: 16)
    }

    /// Picture positions: the merged grid's rows and columns.
    public var pictureRows: Int { rows / group }
    public var pictureCols: Int { cols / group }
    /// A picture position's features: group x group code vectors.
    public var positionFeatures: Int { group * group * codeDim }
}

/// A reranker that reads the picture and asks how likely the prompt is as its caption: an image
/// captioner, one causal stream of the picture's positions and then the caption's words, trained
/// by next-word prediction on rendered (caption, token grid) pairs, scoring a candidate by
/// log p(prompt | candidate).
///
///     input_g     = posproj(f_g) + rowemb(row g) + colemb(col g)          g < G (the picture first)
///     input_{G+j} = textemb(w_{j-1}) + textpos(j)                          w_{-1} = START (id V)
///     logits_j    = head(lnf(z_{G+j}))                                     [N, M, V]: w_j, then END (id 0)
///
/// f_g are the fixed code vectors of a group x group block of the grid, side by side. Every word
/// is predicted from the whole picture and the words before it, so each stated colour, kind, size,
/// place and relation is a question the model must answer from the picture, bound to the shape the
/// words before it name; CLIP's one pooled vector per picture is known to blur exactly that. The
/// end of the caption is predicted too, so a picture with a shape more than the prompt names loses
/// the probability of the caption stopping there. Pictures come first and never see the words
/// (the stream is causal), which is what scoring needs: one picture, many captions.
public final class CaptionReader {
    public let config: CaptionReaderConfig
    public let store: ParameterStore

    let tokemb: Embedding                       // the code table, fixed
    let posproj: Linear, rowemb: Embedding, colemb: Embedding
    let textemb: Embedding, textpos: Embedding
    let blocks: [TransformerBlock]
    let lnf: LayerNorm
    let head: Linear

    // Saved by forward for backward.
    private var shape = (n: 0, g: 0, m: 0)

    public var startWord: Int32 { Int32(config.textVocabulary) }
    public var imagePositions: Int { config.rows * config.cols }
    var picturePositions: Int { config.pictureRows * config.pictureCols }

    /// `codes` [K, codeDim] are the fixed token features (random ones when nil, for tests).
    public init(config: CaptionReaderConfig, codes: [Float]? = nil, seed: UInt64 = 0) {
        self.config = config.validated("caption reader")
        let store = ParameterStore()
        self.store = store
        var rng = RNG(seed: seed)
        let d = config.width
        tokemb = Embedding(store, "tokemb", vocabulary: config.codebookSize, dim: config.codeDim, std: 1, trainable: false, rng: &rng)
        posproj = Linear(store, "posproj", inFeatures: config.positionFeatures, outFeatures: d, rng: &rng)
        posproj.computesInputGradient = false
        rowemb = Embedding(store, "rowemb", vocabulary: config.pictureRows, dim: d, rng: &rng)
        colemb = Embedding(store, "colemb", vocabulary: config.pictureCols, dim: d, rng: &rng)
        textemb = Embedding(store, "textemb", vocabulary: config.textVocabulary + 1, dim: d, rng: &rng)
        textpos = Embedding(store, "textpos", vocabulary: config.textLength + 1, dim: d, rng: &rng)
        blocks = (0..<config.layers).map {
            TransformerBlock(store, "block\($0)", dim: d, heads: config.heads, causal: true, rng: &rng)
        }
        lnf = LayerNorm(store, "lnf", dim: d)
        head = Linear(store, "head", inFeatures: d, outFeatures: config.textVocabulary, initGain: 0.5, rng: &rng)
        store.seal()
        if let codes {
            precondition(codes.count == config.codebookSize * config.codeDim, "caption reader: \(codes.count) code values for \(config.codebookSize) x \(config.codeDim)")
            store.value(tokemb.table).update(from: codes, count: codes.count)
        }
    }

    /// The number of words of each caption [N, L] (the ids before the first padding).
    func lengths(_ text: [Int32], batch n: Int) -> [Int] {
        let l = config.textLength
        return (0..<n).map { b in (0..<l).first { text[b * l + $0] == TextTokenizer.padding } ?? l }
    }

    /// Grids [N, T] -> the picture positions' features [N, G, F]: each group x group block's code
    /// vectors, row by row.
    func positionFeatures(_ tokens: [Int32], batch n: Int) -> Tensor {
        let (rows, cols, k, e) = (config.rows, config.cols, config.group, config.codeDim)
        precondition(tokens.count == n * imagePositions, "caption reader: \(tokens.count) tokens for a batch of \(n)")
        precondition(tokens.allSatisfy { $0 >= 0 && Int($0) < config.codebookSize }, "caption reader: a token outside the codebook")
        let codes = store.value(tokemb.table), (pr, pc, f) = (config.pictureRows, config.pictureCols, config.positionFeatures)
        let out = Tensor([n, pr * pc, f])
        for b in 0..<n {
            for r in 0..<rows {
                for c in 0..<cols {
                    let token = Int(tokens[(b * rows + r) * cols + c])
                    let dst = out.data + ((b * pr + r / k) * pc + c / k) * f + ((r % k) * k + c % k) * e
                    dst.update(from: codes + token * e, count: e)
                }
            }
        }
        return out
    }

    /// Grids [N, T] and captions [N, L] -> logits [N, M, V], M = the longest caption + 1: row j
    /// scores word j (or the end, id 0, after the last word) given the picture and the words before.
    public func forward(tokens: [Int32], text: [Int32], batch n: Int) -> Tensor {
        let (l, d, g) = (config.textLength, config.width, picturePositions)
        precondition(text.count == n * l, "caption reader: \(text.count) text ids for a batch of \(n)")
        let m = (lengths(text, batch: n).max() ?? 0) + 1
        shape = (n, g, m)
        let rows = (0..<(n * g)).map { Int32($0 % g / config.pictureCols) }, cols = (0..<(n * g)).map { Int32($0 % config.pictureCols) }
        let a = posproj.forward(positionFeatures(tokens, batch: n))
        let r = rowemb.forward(rows, shape: [n, g]), c = colemb.forward(cols, shape: [n, g])
        var words = [Int32](repeating: TextTokenizer.padding, count: n * m)
        for b in 0..<n {
            words[b * m] = startWord
            for j in 1..<m { words[b * m + j] = text[b * l + j - 1] }
        }
        let te = textemb.forward(words, shape: [n, m]), tp = textpos.forward((0..<(n * m)).map { Int32($0 % m) }, shape: [n, m])
        var z = Tensor([n, g + m, d])                                        // [N, G+M, D]
        for b in 0..<n {
            let zb = z.data + b * (g + m) * d, o = b * g * d
            for i in 0..<(g * d) { zb[i] = a.data[o + i] + r.data[o + i] + c.data[o + i] }
            let zt = zb + g * d, ot = b * m * d
            for i in 0..<(m * d) { zt[i] = te.data[ot + i] + tp.data[ot + i] }
        }
        for block in blocks { z = block.forward(z) }
        let read = Tensor([n, m, d])                                         // the text positions of z
        for b in 0..<n { (read.data + b * m * d).update(from: z.data + (b * (g + m) + g) * d, count: m * d) }
        return head.forward(lnf.forward(read))
    }

    /// Adds the parameters' gradients given dlogits [N, M, V] of the last forward.
    public func backward(_ dlogits: Tensor) {
        let (n, g, m) = shape, d = config.width
        let dwords = lnf.backward(head.backward(dlogits))                    // [N, M, D]
        var dz = Tensor([n, g + m, d])
        for b in 0..<n { (dz.data + (b * (g + m) + g) * d).update(from: dwords.data + b * m * d, count: m * d) }
        for block in blocks.reversed() { dz = block.backward(dz) }
        let dpic = Tensor([n, g, d]), dtext = Tensor([n, m, d])
        for b in 0..<n {
            (dpic.data + b * g * d).update(from: dz.data + b * (g + m) * d, count: g * d)
            (dtext.data + b * m * d).update(from: dz.data + (b * (g + m) + g) * d, count: m * d)
        }
        _ = posproj.backward(dpic)                                           // the features are fixed
        rowemb.backward(dpic)
        colemb.backward(dpic)
        textemb.backward(dtext)
        textpos.backward(dtext)
    }

    /// The targets of the last forward's rows [N * M]: each caption's words, then the end (id 0),
    /// then nothing (-1, ignored).
    func targets(_ text: [Int32], batch n: Int, positions m: Int) -> [Int32] {
        let l = config.textLength, lengths = lengths(text, batch: n)
        var out = [Int32](repeating: -1, count: n * m)
        for b in 0..<n {
            for j in 0..<lengths[b] { out[b * m + j] = text[b * l + j] }
            out[b * m + lengths[b]] = TextTokenizer.padding
        }
        return out
    }

    /// The batch's mean next-word cross-entropy (nats per word, the end included); with
    /// `backward`, every parameter's gradient is added into the store.
    @discardableResult
    public func loss(tokens: [Int32], text: [Int32], batch n: Int, backward: Bool = false) -> Float {
        let logits = forward(tokens: tokens, text: text, batch: n)
        let dlogits = backward ? Tensor(logits.shape) : nil                  // [N, M, V]: N*M rows of V
        let loss = crossEntropyLoss(logits, targets(text, batch: n, positions: shape.m), ignoreIndex: -1, dlogits: dlogits)
        if let dlogits { self.backward(dlogits) }
        return loss
    }

    /// log p(caption_i | grid_i) in nats for each pair of grids [N, T] and captions [N, L] (the
    /// end of the caption included), 64 pairs at a time.
    public func logLikelihoods(tokens: [Int32], text: [Int32], batch n: Int) -> [Float] {
        let (t, l, v) = (imagePositions, config.textLength, config.textVocabulary)
        var out = [Float](repeating: 0, count: n)
        for b0 in stride(from: 0, to: n, by: 64) {
            let part = b0..<min(n, b0 + 64), k = part.count
            let caps = Array(text[(b0 * l)..<(part.upperBound * l)])
            let logits = forward(tokens: Array(tokens[(b0 * t)..<(part.upperBound * t)]), text: caps, batch: k)
            let m = shape.m, targets = targets(caps, batch: k, positions: m)
            let rows = Tensor([m, v])                                        // one pair's logits
            for b in 0..<k {
                rows.data.update(from: logits.data + b * m * v, count: m * v)
                let own = Array(targets[(b * m)..<((b + 1) * m)]), words = own.filter { $0 >= 0 }.count
                out[b0 + b] = -crossEntropyLoss(rows, own, ignoreIndex: -1) * Float(words)
            }
        }
        return out
    }
}
