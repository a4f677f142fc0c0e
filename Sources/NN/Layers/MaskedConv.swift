// Shape letters: N batch, H height, W width, C channels (NHWC); k kernel size, c = k / 2 its centre.
//
// Masks for Conv2d.weightMask (weights [k, k, Cin, Cout]) that make a convolution causal in raster
// order, for PixelCNN priors over a grid of tokens. Tokens are one stream per position (embedded
// indices, not RGB), so there are no per-channel colour masks: a mask depends on (ky, kx) only.

public enum PixelCNNMask {
    /// Type A sees strictly earlier positions (the first layer: a token must not see itself);
    /// type B also sees the centre (later layers: the centre holds features of earlier tokens only).
    public enum Kind: Sendable { case a, b }

    /// The original PixelCNN mask: every row above the centre, and in the centre row the columns
    /// left of the centre (A) or up to and including it (B). Stacking these leaves a blind spot
    /// above-right; the gated stacks below do not.
    public static func causal(kernel k: Int, inChannels: Int, outChannels: Int, kind: Kind) -> [Float] {
        mask(kernel: k, inChannels: inChannels, outChannels: outChannels) { ky, kx in
            let c = k / 2
            return ky < c || (ky == c && (kind == .a ? kx < c : kx <= c))
        }
    }

    /// Gated PixelCNN vertical stack: the rows up to and including the centre row, every column.
    /// Its output at row y depends on input rows <= y, so it must pass through `ShiftDown` before
    /// it is added to the horizontal stack (which then sees rows < y only). The same mask serves
    /// the first and later layers.
    public static func vertical(kernel k: Int, inChannels: Int, outChannels: Int) -> [Float] {
        mask(kernel: k, inChannels: inChannels, outChannels: outChannels) { ky, _ in ky <= k / 2 }
    }

    /// Gated PixelCNN horizontal stack: the centre row only, columns left of the centre (A) or up
    /// to and including it (B).
    public static func horizontal(kernel k: Int, inChannels: Int, outChannels: Int, kind: Kind) -> [Float] {
        mask(kernel: k, inChannels: inChannels, outChannels: outChannels) { ky, kx in
            let c = k / 2
            return ky == c && (kind == .a ? kx < c : kx <= c)
        }
    }

    static func mask(kernel k: Int, inChannels: Int, outChannels: Int, keep: (Int, Int) -> Bool) -> [Float] {
        precondition(k % 2 == 1, "causal masks need an odd kernel, got \(k)")
        var m = [Float](repeating: 0, count: k * k * inChannels * outChannels)
        let per = inChannels * outChannels
        for ky in 0..<k {
            for kx in 0..<k where keep(ky, kx) {
                let o = (ky * k + kx) * per
                for i in 0..<per { m[o + i] = 1 }
            }
        }
        return m
    }
}

/// Moves NHWC images down one row: y[n, r] = x[n, r - 1], y[n, 0] = 0. Links the gated PixelCNN's
/// vertical stack into the horizontal one without letting a row see itself.
public final class ShiftDown: Layer {
    private var output = Workspace()
    private var dInput = Workspace()

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        let (n, h) = (x.shape[0], x.shape[1])
        let row = x.shape[2] * x.shape[3]
        let y = output.tensor(x.shape)
        for img in 0..<n {
            let src = x.data + img * h * row, dst = y.data + img * h * row
            dst.update(repeating: 0, count: row)
            if h > 1 { (dst + row).update(from: src, count: (h - 1) * row) }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (n, h) = (dy.shape[0], dy.shape[1])
        let row = dy.shape[2] * dy.shape[3]
        let dx = dInput.tensor(dy.shape)
        for img in 0..<n {
            let src = dy.data + img * h * row, dst = dx.data + img * h * row
            if h > 1 { dst.update(from: src + row, count: (h - 1) * row) }
            (dst + (h - 1) * row).update(repeating: 0, count: row)
        }
        return dx
    }
}
