/// Nearest-neighbour 2x upsampling of NHWC images; followed by a convolution it replaces a
/// transposed convolution without its checkerboard artefacts.
public final class Upsample2x: Layer {
    private var output = Workspace()
    private var dInput = Workspace()
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        inputShape = x.shape
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let y = output.tensor([n, 2 * h, 2 * w, c])
        let (src, dst) = (x.data, y.data)
        parallelFor(n * h, minChunk: 4) { rows in
            for row in rows {
                let img = row / h, iy = row % h
                for dy in 0..<2 {
                    let out = dst + ((img * 2 * h + 2 * iy + dy) * 2 * w) * c
                    for ix in 0..<w {
                        let s = src + ((img * h + iy) * w + ix) * c
                        (out + 2 * ix * c).update(from: s, count: c)
                        (out + (2 * ix + 1) * c).update(from: s, count: c)
                    }
                }
            }
        }
        return y
    }

    public func releaseBuffers() {
        output = Workspace()
        dInput = Workspace()
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (n, h, w, c) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let dx = dInput.tensor(inputShape)
        let (g, dst) = (dy.data, dx.data)
        parallelFor(n * h, minChunk: 4) { rows in
            for row in rows {
                let img = row / h, iy = row % h
                for ix in 0..<w {
                    let d = dst + ((img * h + iy) * w + ix) * c
                    for c0 in 0..<c { d[c0] = 0 }
                    for dy in 0..<2 {
                        for dx in 0..<2 {
                            let s = g + ((img * 2 * h + 2 * iy + dy) * 2 * w + 2 * ix + dx) * c
                            for c0 in 0..<c { d[c0] += s[c0] }
                        }
                    }
                }
            }
        }
        return dx
    }
}
