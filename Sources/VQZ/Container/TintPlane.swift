/// The tint plane (TINT chunk): a coarse colour correction added to the decoded picture. One
/// small integer per colour channel and square cell of 2^cellLog2 pixels, interpolated bilinearly
/// between cell centres. The tokenizer's decoder gets textures right before it gets the mean
/// colour of a region right, and a few hundred bytes fix what would take a level of tokens
/// (docs/FORMAT.md gives the exact arithmetic, which is integer so every reader adds the same).
public struct TintPlane: Equatable, Sendable {
    /// log2 of a cell's side in pixels.
    public static let cellLog2Range = 3...8
    /// One step of a value, in 8-bit levels.
    public static let stepRange = 1...64

    public let cellLog2: Int
    public let step: Int
    public let columns: Int
    public let rows: Int
    public let channels: Int
    /// channels planes of rows x columns values, each plane in raster order.
    public let values: [Int8]

    public var cellSide: Int { 1 << cellLog2 }

    /// The cells of a width x height picture: ceil(width / side) x ceil(height / side).
    public static func cells(width: Int, height: Int, cellLog2: Int) -> (columns: Int, rows: Int) {
        let side = 1 << cellLog2
        return ((width + side - 1) / side, (height + side - 1) / side)
    }

    public init(cellLog2: Int, step: Int, width: Int, height: Int, channels: Int, values: [Int8]) {
        precondition(Self.cellLog2Range.contains(cellLog2) && Self.stepRange.contains(step))
        let (columns, rows) = Self.cells(width: width, height: height, cellLog2: cellLog2)
        precondition(values.count == columns * rows * channels)
        self.cellLog2 = cellLog2
        self.step = step
        self.columns = columns
        self.rows = rows
        self.channels = channels
        self.values = values
    }

    /// Adds the plane to the colour samples of an 8-bit picture whose pixels are `stride`
    /// samples apart, colour channels first (alpha, if any, is left alone).
    public func apply(to samples: inout [UInt8], width: Int, height: Int, stride: Int) {
        precondition(samples.count == width * height * stride && channels <= stride)
        let (xs, ys) = (Self.taps(count: width, cellLog2: cellLog2, cells: columns),
                        Self.taps(count: height, cellLog2: cellLog2, cells: rows))
        let shift = 2 * cellLog2 + 2, half = 1 << (shift - 1)
        values.withUnsafeBufferPointer { v in
            samples.withUnsafeMutableBufferPointer { out in
                for c in 0..<channels {
                    let plane = c * rows * columns
                    for y in 0..<height {
                        let ty = ys[y]
                        let row0 = plane + ty.first * columns, row1 = plane + ty.second * columns
                        for x in 0..<width {
                            let tx = xs[x]
                            let top = Int(v[row0 + tx.first]) * tx.firstWeight + Int(v[row0 + tx.second]) * tx.secondWeight
                            let bottom = Int(v[row1 + tx.first]) * tx.firstWeight + Int(v[row1 + tx.second]) * tx.secondWeight
                            let sum = (top * ty.firstWeight + bottom * ty.secondWeight) * step
                            // Rounded to nearest, halves up: floor((sum + half) / 2^shift).
                            let offset = (sum + half) >> shift
                            let i = (y * width + x) * stride + c
                            out[i] = UInt8(clamping: Int(out[i]) + offset)
                        }
                    }
                }
            }
        }
    }

    /// Interpolation along one axis: for each pixel the two cells around it and their weights in
    /// 1/(2 side) units (they sum to 2 side). A pixel centre at cell coordinate
    /// t = (2 p + 1 - side) / (2 side) lies between cells floor(t) and floor(t) + 1; before the
    /// first centre and past the last it takes the edge cell alone.
    static func taps(count: Int, cellLog2: Int, cells: Int) -> [(first: Int, second: Int, firstWeight: Int, secondWeight: Int)] {
        let side = 1 << cellLog2, unit = 2 * side
        return (0..<count).map { p in
            let u = 2 * p + 1 - side
            guard u >= 0 else { return (0, 0, unit, 0) }
            let cell = u / unit, fraction = u % unit
            guard cell < cells - 1 else { return (cells - 1, cells - 1, unit, 0) }
            return (cell, cell + 1, unit - fraction, fraction)
        }
    }

    /// TINT's data: cellLog2, step, then one zstd frame of the values (int8, plane by plane).
    func chunkBytes(zstdLevel: Int32) throws -> [UInt8] {
        [UInt8(cellLog2), UInt8(step)] + (try Zstd.compress(values.map { UInt8(bitPattern: $0) }, level: zstdLevel))
    }

    /// The plane TINT's data describes for a picture of this size and these colour channels.
    static func read(_ data: ArraySlice<UInt8>, width: Int, height: Int, channels: Int) throws -> TintPlane {
        guard data.count >= 2 else { throw ContainerError.inconsistent("TINT chunk of \(data.count) bytes is too short for its fields") }
        let cellLog2 = Int(data[data.startIndex]), step = Int(data[data.startIndex + 1])
        guard cellLog2Range.contains(cellLog2) else {
            throw ContainerError.inconsistent("TINT: cells of 2^\(cellLog2) pixels (\(1 << cellLog2Range.lowerBound)...\(1 << cellLog2Range.upperBound) allowed)")
        }
        guard stepRange.contains(step) else { throw ContainerError.inconsistent("TINT: step \(step) outside \(stepRange)") }
        let (columns, rows) = cells(width: width, height: height, cellLog2: cellLog2)
        let raw = try Zstd.decompress(data.dropFirst(2), expectedSize: columns * rows * channels, chunk: "TINT")
        return TintPlane(cellLog2: cellLog2, step: step, width: width, height: height, channels: channels,
                         values: raw.map { Int8(bitPattern: $0) })
    }
}
