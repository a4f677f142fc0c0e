import Testing
@testable import VQZ

@Suite struct TokenPackingTests {
    @Test func packedSizesFollowTheBitWidth() {
        #expect(TokenPacking.bits(codebookSize: 2) == 1)
        #expect(TokenPacking.bits(codebookSize: 256) == 8)
        #expect(TokenPacking.bits(codebookSize: 257) == 9)
        #expect(TokenPacking.bits(codebookSize: 65536) == 16)
        #expect(TokenPacking.bitPacked.packedSize(count: 5, codebookSize: 1024) == 7)  // 50 bits
        #expect(TokenPacking.planes16LE.packedSize(count: 5, codebookSize: 16) == 10)
        #expect(TokenPacking.byteSplit.packedSize(count: 5, codebookSize: 256) == 5)
        #expect(TokenPacking.byteSplit.packedSize(count: 5, codebookSize: 257) == 10)
    }

    @Test func layoutsAreAsDocumented() {
        let tokens: [UInt16] = [0x0102, 0x0304, 0x03FF]
        #expect(TokenPacking.planes16LE.pack(tokens, codebookSize: 1024) == [0x02, 0x01, 0x04, 0x03, 0xFF, 0x03])
        #expect(TokenPacking.byteSplit.pack(tokens, codebookSize: 1024) == [0x01, 0x03, 0x03, 0x02, 0x04, 0xFF])
        // 10 bits each, least significant bit first: 0x102 | 0x304 << 10 | 0x3FF << 20.
        let v: UInt32 = 0x102 | 0x304 << 10 | 0x3FF << 20
        #expect(TokenPacking.bitPacked.pack(tokens, codebookSize: 1024) ==
                [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)])
    }

    /// Every packing lets zstd find a smooth grid's repeats (neighbours often equal, as in a
    /// tokenizer's grids): each comes out under 9 bits a token, where a token of 1024 codes takes
    /// 10 unpacked (measured: 8.0 bit-packed, 5.9 16-bit LE, 6.7 byte-split). The sizes are
    /// printed so a default can be picked on real grids.
    @Test func everyPackingCompressesASmoothGrid() throws {
        var rng = SeededGenerator(seed: 3)
        var level = [UInt16](repeating: 0, count: 64 * 48)
        for i in level.indices {
            level[i] = i > 0 && Int.random(in: 0..<3, using: &rng) > 0 ? level[i - 1] : UInt16.random(in: 0..<1024, using: &rng)
        }
        let grid = TokenGrid(width: 64, height: 48, levels: [level], codebookSizes: [1024])
        let sizes = try TokenPacking.compressedSizes(of: grid)
        #expect(sizes.map(\.packing) == TokenPacking.allCases)
        for (packing, bytes) in sizes {
            #expect(bytes * 8 < grid.count * 9, "\(packing): \(bytes) bytes for \(grid.count) tokens")
            print("packing \(packing): \(bytes) bytes for \(grid.count) tokens (\(Double(bytes * 8) / Double(grid.count)) bits/token)")
        }
    }
}
