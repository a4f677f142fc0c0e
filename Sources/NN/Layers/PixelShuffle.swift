/// Lossless rearrangements between space and channels (NHWC), factor s:
/// `SpaceToDepth` maps [N, H, W, C] to [N, H/s, W/s, s*s*C] (each s x s block of pixels becomes one
/// position, channels ordered by row, then column, then channel); `DepthToSpace` is its inverse.
/// A tokenizer that starts with one runs its first convolutions at a quarter of the positions with
/// four times the channels: the same arithmetic, wider matrix products, and no detail lost.
public final class SpaceToDepth: Layer {
    public let factor: Int
    private var output = Workspace()
    private var dInput = Workspace()
    private var inputShape: [Int] = []

    public init(factor: Int) {
        precondition(factor >= 1, "factor must be positive")
        self.factor = factor
    }

    public func forward(_ x: Tensor) -> Tensor {
        inputShape = x.shape
        let s = factor
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(h % s == 0 && w % s == 0, "SpaceToDepth: \(h)x\(w) is not a multiple of \(s)")
        let y = output.uninitializedTensor([n, h / s, w / s, s * s * c])
        shuffle(blocks: y.data, pixels: x.data, n: n, h: h, w: w, c: c, s: s, toBlocks: true)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let s = factor
        let (n, h, w, c) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let dx = dInput.uninitializedTensor(inputShape)
        shuffle(blocks: dy.data, pixels: dx.data, n: n, h: h, w: w, c: c, s: s, toBlocks: false)
        return dx
    }

    public func releaseBuffers() {
        output = Workspace()
        dInput = Workspace()
    }
}

public final class DepthToSpace: Layer {
    public let factor: Int
    private var output = Workspace()
    private var dInput = Workspace()
    private var inputShape: [Int] = []

    public init(factor: Int) {
        precondition(factor >= 1, "factor must be positive")
        self.factor = factor
    }

    public func forward(_ x: Tensor) -> Tensor {
        inputShape = x.shape
        let s = factor
        let (n, hs, ws, cs) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(cs % (s * s) == 0, "DepthToSpace: \(cs) channels are not a multiple of \(s * s)")
        let y = output.uninitializedTensor([n, hs * s, ws * s, cs / (s * s)])
        shuffle(blocks: x.data, pixels: y.data, n: n, h: hs * s, w: ws * s, c: cs / (s * s), s: s, toBlocks: false)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let s = factor
        let (n, hs, ws, cs) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let dx = dInput.uninitializedTensor(inputShape)
        shuffle(blocks: dx.data, pixels: dy.data, n: n, h: hs * s, w: ws * s, c: cs / (s * s), s: s, toBlocks: true)
        return dx
    }

    public func releaseBuffers() {
        output = Workspace()
        dInput = Workspace()
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
