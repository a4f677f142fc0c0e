import Testing
@testable import VQZ

@Suite struct ContainerRoundTripTests {
    @Test(arguments: [(1, 1), (7, 5), (1025, 3), (3, 1025), (64, 48), (255, 1)])
    func roundTripsGridSizes(size: (Int, Int)) throws {
        for (i, levels) in [1, 2, 4].enumerated() {
            let ks = [2, 256, 1000, 65536].prefix(levels).map { $0 }
            let file = ContainerSamples.random(gridWidth: size.0, gridHeight: size.1, codebookSizes: ks,
                                               alpha: i % 2 == 1, seed: UInt64(size.0 * 31 + size.1 + i))
            let decoded = try VQZFile(decoding: try file.encode(zstdLevel: 3))
            #expect(decoded == file)
        }
    }

    @Test(arguments: [nil] + TokenPacking.allCases)
    func roundTripsEveryCodebookSizeClass(packing: TokenPacking?) throws {
        // Every bit width from 1 to 16, at both ends of each, so bit-packing crosses byte edges.
        var ks: [Int] = []
        for b in 1...16 { ks += [(1 << (b - 1)) + 1, 1 << b] }
        ks = ks.filter { $0 >= 2 }
        for (i, k) in ks.enumerated() {
            let file = ContainerSamples.random(gridWidth: 13, gridHeight: 3, codebookSizes: [k], alpha: false,
                                               packing: packing, seed: UInt64(i))
            #expect(try VQZFile(decoding: try file.encode(zstdLevel: 1)) == file, "K = \(k)")
        }
    }

    /// Unless told a packing, the writer packs each level the way zstd codes smallest and names it
    /// in the level's TOKN chunk: 16-bit words for a level of long runs (zstd's matches see whole
    /// tokens), 10 bits a token for a level of nearly random ones.
    @Test func eachLevelTakesItsSmallestPacking() throws {
        var rng = SeededGenerator(seed: 5)
        var runs = [UInt16](repeating: 0, count: 64 * 48)
        for i in runs.indices {
            runs[i] = i > 0 && Int.random(in: 0..<3, using: &rng) > 0 ? runs[i - 1] : UInt16.random(in: 0..<1024, using: &rng)
        }
        let noise = runs.indices.map { _ in UInt16.random(in: 0..<1024, using: &rng) }
        let grid = TokenGrid(width: 64, height: 48, levels: [runs, noise], codebookSizes: [1024, 1024])
        let file = VQZFile(width: 512, height: 384, colorChannels: 3, model: ContainerSamples.model, tokens: grid)
        #expect(file.packing == nil)
        let bytes = try file.encode()
        let tokn = try VQZFile.chunks(in: bytes).filter { $0.tag == "TOKN" }
        #expect(tokn.map { bytes[$0.dataRange.lowerBound] } == [TokenPacking.planes16LE.rawValue, TokenPacking.bitPacked.rawValue])
        #expect(try VQZFile(decoding: bytes) == file)
        for packing in TokenPacking.allCases {
            var one = file
            one.packing = packing
            #expect(try one.encode().count > bytes.count, "\(packing) for both levels")
        }
    }

    @Test func roundTripsSixteenLevelsAndExtremeTokens() throws {
        let ks = (0..<16).map { 2 << $0 }  // 2 ... 65536
        let levels = ks.map { k in (0..<6).map { UInt16($0 % 2 == 0 ? 0 : k - 1) } }
        let grid = TokenGrid(width: 3, height: 2, levels: levels, codebookSizes: ks)
        let file = VQZFile(width: 3, height: 2, colorChannels: 1, model: ContainerSamples.model, tokens: grid,
                           alpha: [0, 255, 1, 2, 3, 4])
        #expect(try VQZFile(decoding: try file.encode()) == file)
    }

    @Test func layoutIsSignatureVersionAndChunks() throws {
        let bytes = try ContainerSamples.small.encode()
        #expect(Array(bytes.prefix(10)) == [0x89, 0x56, 0x51, 0x5A, 0x0D, 0x0A, 0x1A, 0x0A, 1, 0])
        let chunks = try VQZFile.chunks(in: bytes)
        #expect(chunks.map(\.tag) == ["HEAD", "TOKN", "TOKN", "ALPH", "DONE"])
        #expect(chunks[0].offset == 10)
        #expect(chunks.last!.length == 4)
        #expect(chunks.last!.offset + 12 == bytes.count)
        // HEAD: 4+4+1+1+1 + name + 16 digest + 2+2+1+1+1 + 4 per level.
        #expect(chunks[0].length == 34 + ContainerSamples.model.name.utf8.count + 4 * 2)
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func skipsUnknownAncillaryChunks() throws {
        var chunks = try ContainerSamples.chunks(of: ContainerSamples.small)
        chunks.insert(("xtra", [1, 2, 3]), at: 1)
        chunks.insert(("note", []), at: 3)
        #expect(try VQZFile(decoding: ContainerSamples.assemble(chunks)) == ContainerSamples.small)
    }

    @Test func modelCheckNamesTheModelNeeded() throws {
        let other = ModelFingerprint(name: "vq-f16", digest: Array(repeating: 9, count: 16))
        #expect(throws: ContainerError.modelMismatch(needed: ContainerSamples.model, available: other)) {
            try ContainerSamples.small.requireModel(other)
        }
        try ContainerSamples.small.requireModel(ContainerSamples.model)
        let message = ContainerError.modelMismatch(needed: ContainerSamples.model, available: other).description
        #expect(message == "encoded with model vq-f8-k1024@0001020304050607 but the available model is vq-f16@0909090909090909")
    }

    @Test func writerRefusesWhatTheReaderWouldReject() {
        var file = ContainerSamples.small
        file.tokens.levels[0][0] = 16
        #expect(throws: ContainerError.inconsistent("token 16 at level 0 is not below codebook size 16")) {
            try file.encode()
        }
        file = ContainerSamples.small
        file.alpha = [1]
        #expect(throws: ContainerError.self) { try file.encode() }
        file = ContainerSamples.small
        file.model.name = ""
        #expect(throws: ContainerError.overLimit("model name of 0 bytes (must be 1...64)")) { try file.encode() }
    }
}
