import Foundation
import Testing
@testable import VQZ

/// Grids whose positions keep different numbers of levels (rate control's depth map): the DPTH
/// chunk, the TOKN chunks that then hold only the positions reaching their level, and both coders.
@Suite struct DepthMapTests {
    /// A region map like rate control makes: a shallow area, a deep one, ragged in between.
    static func depthMap(width w: Int, height h: Int, levels: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var map = (0..<(w * h)).map { i -> UInt8 in
            let x = i % w
            let base = x < w / 3 ? 1 : (x < 2 * w / 3 ? (levels + 1) / 2 : levels)
            let noise = Int.random(in: 0..<10, using: &rng) == 0 ? Int.random(in: -1...1, using: &rng) : 0
            return UInt8(min(max(base + noise, 1), levels))
        }
        map[0] = UInt8(levels)
        map[1] = 1
        return map
    }

    static func file(levels: Int = 3, k: Int = 64, seed: UInt64 = 5) -> VQZFile {
        let full = ContainerSamples.random(gridWidth: 13, gridHeight: 9, codebookSizes: Array(repeating: k, count: levels),
                                           alpha: false, seed: seed)
        var file = full
        file.tokens = full.tokens.cut(toDepth: depthMap(width: 13, height: 9, levels: levels, seed: seed))
        return file
    }

    @Test func zstdCodedFileWithADepthMapRoundTrips() throws {
        let file = Self.file()
        #expect(file.tokens.depth != nil)
        let bytes = try file.encode()
        let back = try VQZFile(decoding: bytes)
        #expect(back == file)
        // Each TOKN holds only the positions that reach its level.
        let chunks = try VQZFile.chunks(in: bytes)
        #expect(chunks.map(\.tag) == ["HEAD", "DPTH", "TOKN", "TOKN", "TOKN", "DONE"])
        for l in 0..<3 {
            let stored = file.tokens.positions(atLevel: l).count
            #expect(stored == (l == 0 ? 13 * 9 : file.tokens.depth!.filter { Int($0) > l }.count))
        }
    }

    @Test func priorCodedFileWithADepthMapRoundTrips() throws {
        let prior = EntropyCodingTests.prior   // 2 levels of K = 64
        var file = Self.file(levels: 2)
        file.useEntropyPrior(prior)
        let bytes = try file.encode(prior: prior)
        let back = try VQZFile(decoding: bytes, entropyPriors: { $0 == prior.fingerprint ? prior : nil })
        #expect(back == file)
        // Level 2's stream codes only the positions that reach it: shorter than a full grid's.
        var full = file
        full.tokens = file.tokens.cut(toDepth: Array(repeating: 2, count: file.tokens.count))
        let fullBytes = try full.encode(prior: prior)
        let level2 = { (b: [UInt8]) throws -> Int in try VQZFile.chunks(in: b).filter { $0.tag == "TOKN" }[1].length }
        #expect(try level2(bytes) < level2(fullBytes))
    }

    @Test func depthMapCodingRoundTripsAndCodesRegionsCheaply() throws {
        for levels in [2, 4, 8] {
            let map = Self.depthMap(width: 40, height: 30, levels: levels, seed: UInt64(levels))
            let stream = DepthMapCoding.encode(map, width: 40, levels: levels)
            #expect(try DepthMapCoding.decode(stream[...], count: map.count, width: 40, levels: levels) == map)
            // Three bands with a little noise: well under the log2(L) bits a position of a plain map takes.
            #expect(Double(stream.count * 8) < Double(map.count) * log2(Double(levels)) * 0.5)
        }
        let uniform = [UInt8](repeating: 1, count: 5000) + [2]
        #expect(DepthMapCoding.encode(uniform, width: 100, levels: 2).count < 80)
    }

    @Test func cutIsCanonical() {
        let full = ContainerSamples.random(gridWidth: 4, gridHeight: 2, codebookSizes: [16, 16, 16], alpha: false, seed: 1)
        // No position reaches level 3: the level is dropped; all reaching level 2: no map.
        let cut = full.tokens.cut(toDepth: Array(repeating: 2, count: 8))
        #expect(cut.levels.count == 2 && cut.depth == nil)
        let mixed = full.tokens.cut(toDepth: [1, 2, 3, 1, 1, 1, 1, 1])
        #expect(mixed.levels.count == 3 && mixed.depth == [1, 2, 3, 1, 1, 1, 1, 1])
        #expect(mixed.levels[1] == [0, full.tokens.levels[1][1], full.tokens.levels[1][2], 0, 0, 0, 0, 0])
        #expect(mixed.decoderIndices(atLevel: 2) == [-1, -1, Int32(full.tokens.levels[2][2]), -1, -1, -1, -1, -1])
        #expect(mixed.prefix(levels: 2).depth == [1, 2, 2, 1, 1, 1, 1, 1])
    }

    @Test func readerRefusesMisplacedOrInvalidDepthMaps() throws {
        let file = Self.file()
        var chunks = try ContainerSamples.chunks(of: file)
        let dpth = chunks.remove(at: 1)
        #expect(dpth.0 == "DPTH")
        // After a TOKN.
        var late = chunks
        late.insert(dpth, at: 2)
        #expect(throws: ContainerError.self) { try VQZFile(decoding: ContainerSamples.assemble(late)) }
        // Twice.
        var twice = chunks
        twice.insert(dpth, at: 1)
        twice.insert(dpth, at: 1)
        #expect(throws: ContainerError.self) { try VQZFile(decoding: ContainerSamples.assemble(twice)) }
        // Missing: the TOKN chunks then hold fewer tokens than a full grid.
        #expect(throws: ContainerError.self) { try VQZFile(decoding: ContainerSamples.assemble(chunks)) }
        // A map that gives every position every level says nothing and is refused.
        let all = DepthMapCoding.encode(Array(repeating: 3, count: 13 * 9), width: 13, levels: 3)
        var useless = chunks
        useless.insert(("DPTH", all), at: 1)
        #expect(throws: ContainerError.self) { try VQZFile(decoding: ContainerSamples.assemble(useless)) }
        // A damaged stream.
        var damaged = chunks
        damaged.insert(("DPTH", Array(dpth.1.dropLast(4))), at: 1)
        #expect(throws: ContainerError.self) { try VQZFile(decoding: ContainerSamples.assemble(damaged)) }
    }

    @Test func depthGrowsAsThePriceFalls() {
        var rng = SeededGenerator(seed: 9)
        let full = ContainerSamples.random(gridWidth: 16, gridHeight: 12, codebookSizes: [1024, 1024, 1024, 1024], alpha: false, seed: 2)
        // Residuals that mostly fall with each level, by a different amount at each position, and
        // here and there rise (a level need not lower the latent's error).
        let residual: [[Float]] = (0..<4).map { l in
            (0..<full.tokens.count).map { _ in Float(0.5 / Double(l + 1)) * Float.random(in: 0.2...1, using: &rng) }
        }
        let rate = RateControl(file: full, residual: residual)
        // Nested maps: a higher quality keeps every position at least as deep, so it never writes
        // fewer tokens.
        var previous = rate.depth(quality: .scale(0))
        for q in stride(from: 0.5, through: 100.0, by: 0.5) {
            let depth = rate.depth(quality: .scale(q))
            let shallower = depth.indices.filter { depth[$0] < previous[$0] }
            #expect(shallower.isEmpty, "quality \(q) keeps \(shallower.count) positions shallower than the quality before it")
            previous = depth
        }
        #expect(Set(rate.depth(quality: .scale(50))).count > 2, "the test's maps should be mixed")
        #expect(rate.file(quality: .scale(0)).tokens.levels.count == 1)
        #expect(rate.file(quality: .scale(100)).tokens == full.tokens)
    }
}
