import ImageIO
import Models
import NN
import VQZ

/// Unconditional images: level-1 token grids sampled from a prior, decoded by the tokenizer.
public final class Generator: PriorSampler {
    /// The token grid side for an image side: images are cropped from whole tokens.
    public func gridSize(width: Int, height: Int) throws -> (cols: Int, rows: Int) {
        let f = codec.model.downsampling
        guard width > 0, height > 0, width <= 8192, height <= 8192 else {
            throw GenerationError.badSize("image size \(width)x\(height) is out of range (1...8192 on each side)")
        }
        let cols = (width + f - 1) / f, rows = (height + f - 1) / f
        if let m = prior.network.maxGrid, rows > m.rows || cols > m.cols {
            throw GenerationError.gridTooLarge(rows: rows, cols: cols, maxRows: m.rows, maxCols: m.cols)
        }
        return (cols, rows)
    }

    /// `count` level-1 token grids [rows * cols] each. Image i draws from RNG(seed + i), so a
    /// seed names the same images on every run with the same options.
    public func sampleTokens(cols: Int, rows: Int, count: Int, seed: UInt64, options: SamplingOptions) -> [[Int32]] {
        var tokens = [Int32](repeating: 0, count: count * rows * cols)
        var rngs = (0..<count).map { RNG(seed: seed &+ UInt64($0)) }
        prior.network.sample(&tokens, batch: count, height: rows, width: cols,
                             resample: Array(repeating: true, count: rows * cols), options: options, rngs: &rngs)
        return (0..<count).map { Array(tokens[($0 * rows * cols)..<(($0 + 1) * rows * cols)]) }
    }

    /// `count` RGB images of width x height.
    public func generate(width: Int, height: Int, count: Int, seed: UInt64, options: SamplingOptions) throws -> [Image] {
        guard (1...256).contains(count) else { throw GenerationError.badSize("count \(count) is out of range (1...256)") }
        let (cols, rows) = try gridSize(width: width, height: height)
        return sampleTokens(cols: cols, rows: rows, count: count, seed: seed, options: options).map { grid in
            codec.picture(level1: grid, rows: rows, cols: cols, width: width, height: height)
        }
    }

    /// The images side by side in a grid of ceil(sqrt(n)) columns, `gap` pixels of white between them.
    public static func contactSheet(_ images: [Image], columns: Int? = nil, gap: Int = 4) -> Image {
        let n = images.count
        let cols = columns ?? Int(Double(n).squareRoot().rounded(.up)), rows = (n + cols - 1) / cols
        let (w, h) = (images[0].width, images[0].height)
        let sw = cols * w + (cols - 1) * gap, sh = rows * h + (rows - 1) * gap
        var out = [UInt8](repeating: 255, count: sw * sh * 3)
        for (i, image) in images.enumerated() {
            let x0 = (i % cols) * (w + gap), y0 = (i / cols) * (h + gap)
            let s = image.withChannels(3).samples8
            for y in 0..<h {
                let dst = ((y0 + y) * sw + x0) * 3
                out.replaceSubrange(dst..<(dst + w * 3), with: s[(y * w * 3)..<((y + 1) * w * 3)])
            }
        }
        return Image(width: sw, height: sh, channels: 3, samples8: out)
    }
}
