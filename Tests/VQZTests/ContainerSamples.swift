@testable import VQZ

/// Builders shared by the container tests.
enum ContainerSamples {
    static let model = ModelFingerprint(name: "vq-f8-k1024", digest: Array(0..<16))

    /// A file whose tokens are uniformly random below each level's codebook size.
    static func random(gridWidth: Int, gridHeight: Int, codebookSizes: [Int], alpha: Bool,
                       packing: TokenPacking? = nil, seed: UInt64) -> VQZFile {
        var rng = SeededGenerator(seed: seed)
        let levels = codebookSizes.map { k in
            (0..<gridWidth * gridHeight).map { _ in UInt16(Int.random(in: 0..<k, using: &rng)) }
        }
        let grid = TokenGrid(width: gridWidth, height: gridHeight, levels: levels, codebookSizes: codebookSizes)
        // An image up to 8x the grid, at least as big as it, as a tokenizer with f = 8 gives.
        let width = gridWidth * 8 - Int.random(in: 0..<8, using: &rng)
        let height = gridHeight * 8 - Int.random(in: 0..<8, using: &rng)
        let plane = alpha ? (0..<width * height).map { _ in UInt8.random(in: 0...255, using: &rng) } : nil
        return VQZFile(width: width, height: height, colorChannels: 3, model: model, tokens: grid,
                       alpha: plane, packing: packing)
    }

    /// A small valid file: 3x2 grid, two levels, alpha.
    static let small = random(gridWidth: 3, gridHeight: 2, codebookSizes: [16, 300], alpha: true, seed: 7)

    /// Signature, version, the given chunks, then a DONE chunk with a correct CRC-32: lets a
    /// test state any field or chunk sequence and still pass the checksum.
    static func assemble(_ chunks: [(String, [UInt8])], version: UInt16 = 1) -> [UInt8] {
        var out = ByteWriter()
        out.append(VQZFile.signature)
        out.u16(version)
        for (tag, data) in chunks { out.chunk(tag, data) }
        out.append(Array("DONE".utf8))
        out.u32(4)
        out.u32(CRC32.checksum(out.bytes))
        return out.bytes
    }

    /// The chunks `file.encode()` would write, before DONE, for editing one of them.
    static func chunks(of file: VQZFile) throws -> [(String, [UInt8])] {
        let bytes = try file.encode()
        return try VQZFile.chunks(in: bytes).dropLast().map { ($0.tag, Array(bytes[$0.dataRange])) }
    }

    /// HEAD data with the given fields; defaults give a 16x16 RGB image, 2x2 grid, one level of K = 16.
    static func head(width: UInt32 = 16, height: UInt32 = 16, channels: UInt8 = 3, alpha: UInt8 = 0,
                     name: [UInt8] = Array("m".utf8), digest: [UInt8] = Array(repeating: 1, count: 16),
                     gridWidth: UInt16 = 2, gridHeight: UInt16 = 2, levels: UInt8? = nil,
                     coder: UInt8 = 0, packing: UInt8 = 2, codebookSizes: [UInt32] = [16]) -> [UInt8] {
        var h = ByteWriter()
        h.u32(width)
        h.u32(height)
        h.u8(channels)
        h.u8(alpha)
        h.u8(UInt8(name.count))
        h.append(name)
        h.append(digest)
        h.u16(gridWidth)
        h.u16(gridHeight)
        h.u8(levels ?? UInt8(codebookSizes.count))
        h.u8(coder)
        h.u8(packing)
        for k in codebookSizes { h.u32(k) }
        return h.bytes
    }

    /// A TOKN payload for `count` indices all equal to `value` under byte-split packing.
    static func tokn(count: Int = 4, value: UInt16 = 3, codebookSize: Int = 16) throws -> [UInt8] {
        try Zstd.compress(TokenPacking.byteSplit.pack(Array(repeating: value, count: count), codebookSize: codebookSize))
    }
}
