import Foundation
import Testing
@testable import VQZ

/// The tint plane: its arithmetic, its chunk, and the encoder's fit.
@Suite struct TintPlaneTests {
    /// A width x height RGB picture of one grey level.
    func flat(_ value: UInt8, width: Int, height: Int) -> [UInt8] { [UInt8](repeating: value, count: width * height * 3) }

    @Test func aConstantPlaneShiftsEveryPixelByItsValueTimesTheStep() {
        let (w, h) = (40, 24)  // 2 x 1 cells of 32 pixels (the second cut short)
        let plane = TintPlane(cellLog2: 5, step: 3, width: w, height: h, channels: 3, values: [2, 2, -1, -1, 5, 5])
        var samples = flat(100, width: w, height: h)
        plane.apply(to: &samples, width: w, height: h, stride: 3)
        for i in 0..<(w * h) { #expect(samples[3 * i] == 106 && samples[3 * i + 1] == 97 && samples[3 * i + 2] == 115) }
        // Sums past the 8-bit range clamp.
        var bright = flat(250, width: w, height: h)
        plane.apply(to: &bright, width: w, height: h, stride: 3)
        #expect(bright[0] == 255 && bright[1] == 247)
    }

    /// Between cell centres the plane is interpolated linearly; before the first centre and past
    /// the last it holds the edge cell's value. Alpha (the fourth sample) is left alone.
    @Test func valuesAreInterpolatedBetweenCellCentres() {
        let (w, h) = (16, 8)  // cells of 8: two columns, one row; centres at x = 3.5 and 11.5
        let plane = TintPlane(cellLog2: 3, step: 1, width: w, height: h, channels: 3, values: [0, 16, 0, 0, 0, 0])
        var samples = [UInt8](repeating: 50, count: w * h * 4)
        plane.apply(to: &samples, width: w, height: h, stride: 4)
        let red = (0..<w).map { Int(samples[$0 * 4]) - 50 }
        // x = 4 is 1/16 of the way from 3.5 to 11.5, x = 7 is 7/16 (7 exactly), x = 11 is 15/16.
        #expect(red == [0, 0, 0, 0, 1, 3, 5, 7, 9, 11, 13, 15, 16, 16, 16, 16])
        #expect((0..<(w * h)).allSatisfy { samples[$0 * 4 + 1] == 50 && samples[$0 * 4 + 3] == 50 })
    }

    @Test func theChunkRoundTripsAndBadOnesAreRefused() throws {
        var file = ContainerSamples.random(gridWidth: 9, gridHeight: 5, codebookSizes: [16], alpha: false, seed: 3)
        let (columns, rows) = TintPlane.cells(width: file.width, height: file.height, cellLog2: 4)
        let values = (0..<(columns * rows * 3)).map { Int8(truncatingIfNeeded: $0 * 37 - 100) }
        file.tint = TintPlane(cellLog2: 4, step: 2, width: file.width, height: file.height, channels: 3, values: values)
        let back = try VQZFile(decoding: try file.encode())
        #expect(back == file)

        let chunks = try ContainerSamples.chunks(of: file)
        let tint = chunks.first { $0.0 == "TINT" }!.1
        func refused(_ data: [UInt8]) -> ContainerError? {
            let edited = chunks.map { $0.0 == "TINT" ? ("TINT", data) : $0 }
            do { _ = try VQZFile(decoding: ContainerSamples.assemble(edited)); return nil } catch { return error as? ContainerError }
        }
        #expect(refused([4]) == .inconsistent("TINT chunk of 1 bytes is too short for its fields"))
        #expect(refused([2] + tint.dropFirst()) == .inconsistent("TINT: cells of 2^2 pixels (8...256 allowed)"))
        #expect(refused([9] + tint.dropFirst()) == .inconsistent("TINT: cells of 2^9 pixels (8...256 allowed)"))
        #expect(refused([4, 0] + tint.dropFirst(2)) == .inconsistent("TINT: step 0 outside 1...64"))
        // The cells of another size: the frame holds the wrong number of values.
        #expect(refused([5] + tint.dropFirst()) == .corruptPayload(chunk: "TINT", reason: "zstd frame declares \(values.count) bytes, header implies 18"))
        let twice = chunks + [("TINT", tint)]
        #expect(throws: ContainerError.inconsistent("second TINT chunk at offset \(try file.encode().count - 12)")) {
            try VQZFile(decoding: ContainerSamples.assemble(twice))
        }
        // The writer refuses a plane that does not fit the picture.
        var wrong = file
        wrong.tint = TintPlane(cellLog2: 5, step: 2, width: file.width * 2, height: file.height, channels: 3,
                               values: [Int8](repeating: 1, count: TintPlane.cells(width: file.width * 2, height: file.height, cellLog2: 5).columns * 2 * 3))
        #expect(throws: ContainerError.self) { try wrong.encode() }
    }

    /// A smooth colour error is what the plane is for: the fit takes most of it away.
    @Test func theFitRemovesASmoothColourError() throws {
        let (w, h) = (200, 130)
        var reference = [UInt8](repeating: 0, count: w * h * 3)
        var decoded = reference
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                for c in 0..<3 {
                    let texture = (x * 7 + y * 13 + c * 50) % 60
                    reference[i + c] = UInt8(80 + texture)
                    let cast = 12 * sin(Double(x) / 40 + Double(c)) + 8 * cos(Double(y) / 30)
                    decoded[i + c] = UInt8(max(0, min(255, Double(80 + texture) - cast.rounded())))
                }
            }
        }
        let plane = try #require(TintPlane.fit(reference: reference, decoded: decoded, width: w, height: h, channels: 3))
        var fixed = decoded
        plane.apply(to: &fixed, width: w, height: h, stride: 3)
        let before = meanSquaredError(reference, decoded), after = meanSquaredError(reference, fixed)
        #expect(after < before / 10, "\(before) -> \(after)")
        // Nothing to fix: no plane.
        #expect(TintPlane.fit(reference: reference, decoded: reference, width: w, height: h, channels: 3) == nil)
    }

    /// The plane's cells never grow as the tokens deepen: a plane made coarser between two
    /// qualities would make the higher one's file smaller.
    @Test func cellsShrinkAsTheTokensDeepen() {
        let (w, h, levels) = (12, 10, 4)
        var previous = Int.max
        var cells: Set<Int> = []
        for deeper in 0...(w * h * (levels - 1)) {
            // `deeper` extra levels spread over the positions, level by level.
            let depth = (0..<(w * h)).map { i in UInt8(1 + deeper / (w * h) + (i < deeper % (w * h) ? 1 : 0)) }
            let grid = TokenGrid(width: w, height: h, levels: Array(repeating: Array(repeating: 0, count: w * h), count: levels),
                                 codebookSizes: Array(repeating: 16, count: levels)).cut(toDepth: depth)
            let cell = TintSettings(for: grid, levels: levels).cellLog2
            #expect(cell <= previous, "\(deeper) levels past the first: cells of \(1 << cell) after \(1 << previous)")
            previous = cell
            cells.insert(cell)
        }
        #expect(cells.count == 3)
    }
}
