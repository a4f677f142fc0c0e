import NN

/// An 8-bit RGB picture held in memory for training.
public struct RGBPicture: Sendable {
    public let width: Int, height: Int
    public let pixels: [UInt8]   // [height, width, 3]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBPicture: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Half the size, each pixel the mean of a 2x2 block.
    public func halved() -> RGBPicture {
        let w = width / 2, h = height / 2
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let top = ((2 * y) * width + 2 * x) * 3, bottom = top + width * 3
                for c in 0..<3 {
                    let s: Int = Int(pixels[top + c]) + Int(pixels[top + 3 + c]) + Int(pixels[bottom + c]) + Int(pixels[bottom + 3 + c])
                    out[(y * w + x) * 3 + c] = UInt8((s + 2) / 4)
                }
            }
        }
        return RGBPicture(width: w, height: h, pixels: out)
    }

    /// The picture mirrored left to right.
    public func mirrored() -> RGBPicture {
        var out = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<height {
            for x in 0..<width {
                let (dst, src) = ((y * width + x) * 3, (y * width + width - 1 - x) * 3)
                for c in 0..<3 { out[dst + c] = pixels[src + c] }
            }
        }
        return RGBPicture(width: width, height: height, pixels: out)
    }

    /// The picture as a [1, H, W, 3] tensor in [-0.5, 0.5], cropped to multiples of `multiple`.
    public func tensor(croppedTo multiple: Int = 1) -> Tensor {
        let h = height / multiple * multiple, w = width / multiple * multiple
        let t = Tensor([1, h, w, 3])
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 { t.data[(y * w + x) * 3 + c] = Float(pixels[(y * width + x) * 3 + c]) / 255 - 0.5 }
            }
        }
        return t
    }
}

/// Random crops with random horizontal flips, at full scale and at half and quarter scale,
/// so a few dozen large photos give a wide range of textures and object sizes.
public struct CropSource: BatchSource {
    public let scales: [RGBPicture]
    /// Each entry's chance to be drawn, proportional to the crops it can offer.
    private let cumulative: [Double]

    public init(pictures: [RGBPicture], minimumSide: Int = 64) {
        var all: [RGBPicture] = []
        for p in pictures {
            var q = p
            for _ in 0..<3 {
                if q.width >= minimumSide && q.height >= minimumSide { all.append(q) }
                q = q.halved()
            }
        }
        precondition(!all.isEmpty, "no picture is at least \(minimumSide) pixels on each side")
        scales = all
        // sqrt of the area: large pictures are seen more often, but small scales still matter.
        var acc = 0.0
        cumulative = all.map { acc += Double($0.width * $0.height).squareRoot(); return acc }
    }

    public func batch(count: Int, size: Int, rng: inout RNG) -> Tensor {
        let t = Tensor([count, size, size, 3])
        for n in 0..<count {
            var p = scales[0]
            while true {
                let u = Double(rng.uniform()) * cumulative.last!
                p = scales[cumulative.firstIndex { $0 > u } ?? scales.count - 1]
                if p.width >= size && p.height >= size { break }
            }
            let x0 = rng.int(below: p.width - size + 1), y0 = rng.int(below: p.height - size + 1)
            let flip = rng.int(below: 2) == 1
            let dst = t.data + n * size * size * 3
            for y in 0..<size {
                for x in 0..<size {
                    let sx = x0 + (flip ? size - 1 - x : x)
                    let src = ((y0 + y) * p.width + sx) * 3
                    for c in 0..<3 { dst[(y * size + x) * 3 + c] = Float(p.pixels[src + c]) / 255 - 0.5 }
                }
            }
        }
        return t
    }
}
