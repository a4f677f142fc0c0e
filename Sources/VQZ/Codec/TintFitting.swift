import Foundation
import ImageIO

/// How the encoder fits a tint plane (`TintPlane`): its cell size and step.
public struct TintSettings: Equatable, Sendable {
    public var cellLog2: Int
    public var step: Int
    /// Refinement sweeps after the cell means (each a pass over the picture).
    public var sweeps: Int

    public init(cellLog2: Int = 5, step: Int = 2, sweeps: Int = 4) {
        self.cellLog2 = cellLog2
        self.step = step
        self.sweeps = sweeps
    }

    public static let standard = TintSettings()

    /// The plane for a file's tokens, of a model with `levels` levels: cells of 32 pixels while
    /// the positions keep at most two levels on average, 16 beyond, and 8 where every position
    /// keeps every level (the best picture the tokens give: no further token buys more there).
    /// The finer plane fixes more and costs more; as the tokens deepen they leave it less to fix,
    /// but its bytes become a smaller share of the file. The cells follow the depth alone, which
    /// only grows along the scale: choosing, picture by picture, the plane whose gain beat the
    /// price of its bytes by most (cells of 8 to 64 pixels, or none) gave the same curve on
    /// data/val but made it dip wherever a finer plane stopped paying, a higher quality writing a
    /// smaller file (docs/BENCHMARKS.md, the quality scale).
    public init(for tokens: TokenGrid, levels: Int) {
        let meanDepth = Double(tokens.tokenCount) / Double(max(tokens.count, 1))
        self.init(cellLog2: meanDepth <= 2 ? 5 : meanDepth < Double(levels) ? 4 : 3)
    }
}

extension TintPlane {
    /// The plane that brings `decoded` closest to `reference` in squared error, or nil when every
    /// value rounds to 0. Both hold width x height pixels of `channels` samples (colour only).
    /// Starts from each cell's mean error and refines by sweeps that add, over-relaxed, each
    /// cell's mean of what the interpolated plane still leaves (a Jacobi iteration of the least
    /// squares problem); the values are then rounded to the step.
    public static func fit(reference: [UInt8], decoded: [UInt8], width: Int, height: Int, channels: Int,
                           settings: TintSettings = .standard) -> TintPlane? {
        precondition(reference.count == width * height * channels && decoded.count == reference.count)
        let cellLog2 = settings.cellLog2, side = 1 << cellLog2
        let (columns, rows) = cells(width: width, height: height, cellLog2: cellLog2)
        let xs = taps(count: width, cellLog2: cellLog2, cells: columns)
        let ys = taps(count: height, cellLog2: cellLog2, cells: rows)
        let unit = Float(2 * side), plane = columns * rows
        var cells = [Float](repeating: 0, count: plane * channels)
        var sums = [Float](repeating: 0, count: plane * channels)
        var counts = [Float](repeating: 0, count: plane)
        for y in 0..<height { for x in 0..<width { counts[(y >> cellLog2) * columns + (x >> cellLog2)] += 1 } }
        // What the plane must explain, channel by channel (exact: integers below 2^24).
        var residual = [Float](repeating: 0, count: width * height * channels)
        for i in residual.indices { residual[i] = Float(reference[i]) - Float(decoded[i]) }
        // The plane interpolated along x on each row of cells, then blended along y per pixel row:
        // the same products and sums, in the same order, as interpolating each pixel from its
        // four cells, for a pass over the cells' rows instead of two more per pixel.
        var alongX = [Float](repeating: 0, count: rows * width)
        for sweep in 0...settings.sweeps {
            for i in sums.indices { sums[i] = 0 }
            for c in 0..<channels {
                let base = c * plane
                for r in 0..<rows {
                    for x in 0..<width {
                        let tx = xs[x]
                        let fx0 = Float(tx.firstWeight) / unit, fx1 = Float(tx.secondWeight) / unit
                        alongX[r * width + x] = cells[base + r * columns + tx.first] * fx0 + cells[base + r * columns + tx.second] * fx1
                    }
                }
                residual.withUnsafeBufferPointer { res in
                    alongX.withUnsafeBufferPointer { ax in
                        for y in 0..<height {
                            let ty = ys[y]
                            let fy0 = Float(ty.firstWeight) / unit, fy1 = Float(ty.secondWeight) / unit
                            let row0 = ty.first * width, row1 = ty.second * width
                            let cellRow = base + (y >> cellLog2) * columns
                            for column in 0..<columns {
                                // Each cell's pixels of this row added in order, in a register.
                                var sum = sums[cellRow + column]
                                for x in (column << cellLog2)..<min(width, (column + 1) << cellLog2) {
                                    let interpolated = ax[row0 + x] * fy0 + ax[row1 + x] * fy1
                                    sum += res[(y * width + x) * channels + c] - interpolated
                                }
                                sums[cellRow + column] = sum
                            }
                        }
                    }
                }
            }
            // The first pass is the plain cell means; later ones are over-relaxed corrections.
            let relaxation: Float = sweep == 0 ? 1 : 1.5
            for c in 0..<channels {
                for j in 0..<plane { cells[c * plane + j] += relaxation * sums[c * plane + j] / counts[j] }
            }
        }
        let step = Float(settings.step)
        let values = cells.map { Int8(max(-127, min(127, ($0 / step).rounded()))) }
        guard values.contains(where: { $0 != 0 }) else { return nil }
        return TintPlane(cellLog2: cellLog2, step: settings.step, width: width, height: height, channels: channels, values: values)
    }
}
