import Foundation
import ImageIO

/// How the encoder fits a tint plane (`TintPlane`): its cell size and step. The encoder tries
/// each of `TintSettings.candidates` and keeps what pays (`TintChoice`): on the 10 validation
/// photos, 1.4 dB at level 1 of tokenizer v2 for 10% more bytes; from level 2 up the finer cells
/// win, each more than the next level's tokens would buy with its bytes (docs/MODELS.md).
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
    /// What the encoder tries: cells of 8 to 64 pixels.
    public static let candidates = (3...6).map { TintSettings(cellLog2: $0) }
}

/// Whether a tint plane pays for its bytes. Bytes added to a file of B bytes are worth what they
/// would buy as tokens: about `decibelsPerDoubling` per doubling of B (level 1 to level 2 of the
/// v2 tokenizer gains 3.7 dB for 2.7 times the bytes, 2.6 dB per doubling; finer levels buy less,
/// so this prices bytes as dearly as they ever are). A plane is kept when its gain in PSNR
/// exceeds that price, the candidate with the largest margin winning.
public enum TintChoice {
    public static let decibelsPerDoubling = 2.6

    /// The net gain in dB of `bytes` more on a file of `fileBytes` that lower the mean squared
    /// error from `before` to `after`.
    public static func netGain(before: Double, after: Double, bytes: Int, fileBytes: Int) -> Double {
        guard before > 0 else { return -.infinity }
        let gain = 10 * log10(before / max(after, 1e-9))
        let price = decibelsPerDoubling * log2(1 + Double(bytes) / Double(max(fileBytes, 1)))
        return gain - price
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
