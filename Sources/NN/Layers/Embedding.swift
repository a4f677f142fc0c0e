// Shape letters: M tokens (any leading dimensions flattened, e.g. N*T), V vocabulary, D width.

/// A lookup table: token t -> row t of table [V, D]. Not a `Layer`: its input is integers.
/// Used for token embeddings and for learned position embeddings (tokens 0..<T).
public final class Embedding {
    public let vocabulary: Int, dim: Int
    public let table: Param         // [V, D]
    let store: ParameterStore

    private var tokens: [Int32] = []    // [M], saved for backward: the rows to scatter into
    private var output = Workspace()

    /// A table that is not `trainable` is left alone by the optimizer (fixed features).
    public init(_ store: ParameterStore, _ name: String, vocabulary: Int, dim: Int, std: Float = 0.02, trainable: Bool = true,
                rng: inout RNG) {
        self.store = store
        self.vocabulary = vocabulary
        self.dim = dim
        table = store.add("\(name).weight", [vocabulary, dim], trainable: trainable, (0..<(vocabulary * dim)).map { _ in rng.normal() * std })
    }

    /// tokens [M] -> [shape..., D] where shape multiplies to M (e.g. [N, T]).
    public func forward(_ tokens: [Int32], shape: [Int]) -> Tensor {
        precondition(shape.reduce(1, *) == tokens.count, "\(tokens.count) tokens for shape \(shape)")
        self.tokens = tokens
        let out = output.tensor(shape + [dim])
        let (d, e) = (dim, store.value(table))
        for (i, t) in tokens.enumerated() {
            precondition(t >= 0 && Int(t) < vocabulary, "token \(t) outside vocabulary of \(vocabulary)")
            (out.data + i * d).update(from: e + Int(t) * d, count: d)
        }
        return out
    }

    /// dtable[t] += dy[i] for every position i holding token t. Threads own disjoint column
    /// ranges, so repeated tokens need no locks.
    public func backward(_ dy: Tensor) {
        precondition(dy.count == tokens.count * dim, "embedding backward: \(dy.shape) for \(tokens.count) tokens")
        let (d, de, g) = (dim, store.grad(table), dy.data)
        tokens.withUnsafeBufferPointer { tok in
            parallelFor(d, minChunk: max(8, (1 << 16) / max(tok.count, 1))) { cols in
                for i in 0..<tok.count {
                    let dst = de + Int(tok[i]) * d, src = g + i * d
                    for c in cols { dst[c] += src[c] }
                }
            }
        }
    }
}
