/// Lossless rearrangements between space and channels (NHWC), factor s:
/// `SpaceToDepth` maps [N, H, W, C] to [N, H/s, W/s, s*s*C] (each s x s block of pixels becomes one
/// position, channels ordered by row, then column, then channel); `DepthToSpace` is its inverse.
/// A tokenizer that starts with one runs its first convolutions at a quarter of the positions with
/// four times the channels: the same arithmetic, wider matrix products, and no detail lost.
public final class SpaceToDepth: PixelRearrangement {
    public init(factor: Int) { super.init(factor: factor, folding: true) }
}

public final class DepthToSpace: PixelRearrangement {
    public init(factor: Int) { super.init(factor: factor, folding: false) }
}

/// The one mechanism behind both: `folding` says which layout the input has. The backward pass
/// of either direction is the forward pass of the other.
public class PixelRearrangement: Layer {
    public let factor: Int
    let folding: Bool
    private var output = Workspace()
    private var dInput = Workspace()
    private var inputShape: [Int] = []

    init(factor: Int, folding: Bool) {
        precondition(factor >= 1, "factor must be positive")
        self.factor = factor
        self.folding = folding
    }

    public func forward(_ x: Tensor) -> Tensor {
        inputShape = x.shape
        let y = output.uninitializedTensor(rearranged(x.shape, folding: folding))
        move(from: x, to: y, folding: folding)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = dInput.uninitializedTensor(inputShape)
        move(from: dy, to: dx, folding: !folding)
        return dx
    }

    public func releaseBuffers() {
        output = Workspace()
        dInput = Workspace()
    }

    /// The spatial size of the output for an input of height x width positions.
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        folding ? (height / factor, width / factor) : (height * factor, width * factor)
    }

    /// The shape an [N, H, W, C] tensor takes when folded (or an [N, H/s, W/s, s*s*C] one unfolded).
    private func rearranged(_ shape: [Int], folding: Bool) -> [Int] {
        let s = factor
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        if folding {
            precondition(h % s == 0 && w % s == 0, "SpaceToDepth: \(h)x\(w) is not a multiple of \(s)")
            return [n, h / s, w / s, s * s * c]
        }
        precondition(c % (s * s) == 0, "DepthToSpace: \(c) channels are not a multiple of \(s * s)")
        return [n, h * s, w * s, c / (s * s)]
    }

    private func move(from x: Tensor, to y: Tensor, folding: Bool) {
        let pixels = folding ? x : y, blocks = folding ? y : x
        let (n, h, w, c) = (pixels.shape[0], pixels.shape[1], pixels.shape[2], pixels.shape[3])
        shuffle(blocks: blocks.data, pixels: pixels.data, n: n, h: h, w: w, c: c, s: factor, toBlocks: folding)
    }
}

/// Copies between an [n, h, w, c] pixel layout and its [n, h/s, w/s, s*s*c] block layout, in
/// whichever direction `toBlocks` says; one row of c floats moves at a time.
private func shuffle(blocks: UnsafeMutablePointer<Float>, pixels: UnsafeMutablePointer<Float>,
                     n: Int, h: Int, w: Int, c: Int, s: Int, toBlocks: Bool) {
    let (hs, ws) = (h / s, w / s)
    parallelFor(n * h, minChunk: 8) { rows in
        for row in rows {
            let img = row / h, y = row % h
            let (by, dy) = (y / s, y % s)
            for x in 0..<w {
                let (bx, dx) = (x / s, x % s)
                let p = pixels + ((img * h + y) * w + x) * c
                let b = blocks + ((img * hs + by) * ws + bx) * (s * s * c) + (dy * s + dx) * c
                if toBlocks { b.update(from: p, count: c) } else { p.update(from: b, count: c) }
            }
        }
    }
}
