import Foundation
import Models
import NN
import Testing
@testable import VQZ

/// rANS, the frequency tables and prior-coded .vqz files: exact round trips, a coded size at
/// the model's information content, and clean errors on damaged streams.
@Suite struct EntropyCodingTests {
    /// A small untrained context prior for ContainerSamples.model's tokens (K = 64, 2 levels).
    static let prior: EntropyPrior = {
        let network = ContextPrior(config: ContextPriorConfig(codebookSize: 64, levels: 2, embedDim: 4, hidden: 24), seed: 3)
        let meta = [TokenizerRecord.nameKey: ContainerSamples.model.name,
                    TokenizerRecord.digestKey: ContainerSamples.model.digestHex]
        return try! EntropyPrior(weights: network.exportWeights(name: "test-context", metadata: meta), fallbackName: "x")
    }()

    /// Tokens with structure a context model can find: runs along rows, level 2 tied to level 1.
    static func structuredFile(width: Int, height: Int, seed: UInt64) -> VQZFile {
        var rng = SeededGenerator(seed: seed)
        var level0 = [UInt16](), level1 = [UInt16]()
        var current: UInt16 = 0
        for _ in 0..<(width * height) {
            if Int.random(in: 0..<5, using: &rng) == 0 { current = UInt16.random(in: 0..<64, using: &rng) }
            level0.append(current)
            level1.append((current &* 7 &+ UInt16.random(in: 0..<3, using: &rng)) % 64)
        }
        let grid = TokenGrid(width: width, height: height, levels: [level0, level1], codebookSizes: [64, 64])
        var file = VQZFile(width: width * 8, height: height * 8, colorChannels: 3, model: ContainerSamples.model, tokens: grid)
        file.useEntropyPrior(prior)
        return file
    }

    func lookup(_ name: ModelFingerprint) -> EntropyPrior? { name == Self.prior.fingerprint ? Self.prior : nil }

    @Test func ransRoundTripsAnyDistributionAtItsInformationContent() throws {
        var rng = SeededGenerator(seed: 11)
        for skew in [0.0, 1.0, 8.0, 40.0] {
            let k = 300
            var logits = (0..<k).map { _ in Float(Double.random(in: -1...1, using: &rng) * skew) }
            let table = logits.withUnsafeMutableBufferPointer { FrequencyTable(logits: $0.baseAddress!, count: k) }
            let symbols = (0..<5000).map { _ in
                // Draw from the table itself, so the ideal size is its entropy.
                let u = UInt32.random(in: 0..<FrequencyTable.total, using: &rng)
                return table.symbol(at: u).symbol
            }
            var encoder = RANSEncoder(scaleBits: FrequencyTable.scaleBits)
            for s in symbols.reversed() {
                let iv = table.interval(of: s)
                encoder.push(start: iv.start, frequency: iv.frequency)
            }
            let stream = encoder.finish()
            var decoder = try RANSDecoder(stream[...], scaleBits: FrequencyTable.scaleBits)
            for s in symbols {
                let found = table.symbol(at: decoder.slot)
                #expect(found.symbol == s)
                try decoder.pop(start: found.start, frequency: found.frequency)
            }
            try decoder.finish()
            let ideal = symbols.reduce(0.0) { $0 - log2(Double(table.frequencies[$1]) / Double(FrequencyTable.total)) } / 8
            #expect(Double(stream.count) <= ideal * 1.01 + 8, "skew \(skew): \(stream.count) bytes for \(ideal) ideal")
        }
    }

    @Test func frequencyTablesCoverEverySymbolAndSumExactly() {
        var rng = SeededGenerator(seed: 12)
        for (k, spread) in [(2, 0.0), (1024, 0.0), (1024, 3.0), (1024, 80.0), (65536, 10.0), (7, 1e4)] {
            var logits = (0..<k).map { _ in Float(Double.random(in: -spread...spread, using: &rng)) }
            let t = logits.withUnsafeMutableBufferPointer { FrequencyTable(logits: $0.baseAddress!, count: k) }
            #expect(t.frequencies.allSatisfy { $0 >= 1 })
            #expect(t.frequencies.reduce(0, +) == FrequencyTable.total, "K = \(k), spread \(spread)")
        }
    }

    /// The encoder's table-free interval is the table's, bit for bit, for every cache weight.
    @Test func encoderIntervalsEqualTheDecodersTables() {
        var rng = SeededGenerator(seed: 13)
        for (k, spread) in [(2, 1.0), (64, 4.0), (1024, 12.0), (1024, 60.0)] {
            var logits = (0..<k).map { _ in Float(Double.random(in: -spread...spread, using: &rng)) }
            let model = logits.withUnsafeMutableBufferPointer { ModelDistribution(logits: $0.baseAddress!, count: k) }
            var cache = TokenCache(codebookSize: k)
            for _ in 0..<Int.random(in: 0...300, using: &rng) { cache.add(Int.random(in: 0..<min(k, 5), using: &rng)) }
            for weight in TokenCache.weights + [TokenCache.weight] {
                let table = FrequencyTable(model, cache: cache, cacheWeight: weight)
                for s in [0, k / 3, k - 1, 1] where s < k {
                    let coded = FrequencyTable.interval(of: s, model, cache: cache, cacheWeight: weight)
                    #expect(coded.start == table.interval(of: s).start && coded.frequency == table.interval(of: s).frequency,
                            "K \(k), weight \(weight), symbol \(s)")
                    #expect(coded.information == table.information(of: s))
                }
            }
        }
    }

    @Test func priorCodedFileRoundTripsAtTheModelsInformationContent() throws {
        let file = Self.structuredFile(width: 23, height: 17, seed: 1)
        let bytes = try file.encode(prior: Self.prior)
        let back = try VQZFile(decoding: bytes, entropyPriors: lookup)
        #expect(back == file)
        #expect(back.entropyPrior == Self.prior.fingerprint)
        // The coded streams are within a few words of what the model says they hold.
        let (payloads, bits) = Self.prior.encode(file.tokens)
        for (p, b) in zip(payloads, bits) { #expect(Double(p.count) <= b / 8 * 1.01 + 8) }
    }

    @Test func decodingDoesNotDependOnThreadCount() throws {
        let file = Self.structuredFile(width: 40, height: 31, seed: 2)
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 1
        let bytes = try file.encode(prior: Self.prior)
        Threads.count = 2
        #expect(try VQZFile(decoding: bytes, entropyPriors: lookup) == file)
    }

    @Test func refusesWithoutTheNamedPrior() throws {
        let file = Self.structuredFile(width: 5, height: 4, seed: 3)
        let bytes = try file.encode(prior: Self.prior)
        #expect(throws: ContainerError.entropyPriorUnavailable(needed: Self.prior.fingerprint)) {
            try VQZFile(decoding: bytes, entropyPriors: { _ in nil })
        }
    }

    /// A prior follows the tokens, not the decoder: a tokenizer whose decoder alone was retrained
    /// (it records the tokens' lineage) is still served by its priors; any other is refused.
    @Test func priorsFollowTheTokensNotTheDecoder() throws {
        let config = TokenizerConfig(channels: [4, 6], bottomBlocks: 1, codeDim: 3, codebookSize: 64, levels: 2)
        let base = try TokenizerModel(weights: VQTokenizer(config: config, seed: 1).exportWeights(name: "base"), fallbackName: "x")
        let network = ContextPrior(config: ContextPriorConfig(codebookSize: 64, levels: 2, embedDim: 4, hidden: 8), seed: 1)
        let meta = [TokenizerRecord.nameKey: base.tokens.name, TokenizerRecord.digestKey: base.tokens.digestHex]
        let prior = try EntropyPrior(weights: network.exportWeights(name: "p", metadata: meta), fallbackName: "p")
        try prior.check(base, levels: 2)

        let retrained = VQTokenizer(config: config, seed: 2)
        retrained.frozenTokens = base.tokenLineage
        let tuned = try TokenizerModel(weights: retrained.exportWeights(name: "base"), fallbackName: "x")
        #expect(tuned.fingerprint != base.fingerprint)
        #expect(tuned.tokens == base.tokens)
        try prior.check(tuned, levels: 2)

        let other = try TokenizerModel(weights: VQTokenizer(config: config, seed: 3).exportWeights(name: "other"), fallbackName: "x")
        #expect(throws: CodecError.entropyPriorTokenizerMismatch(prior: prior.fingerprint, trainedFor: base.tokens, tokenizer: other.tokens)) {
            try prior.check(other, levels: 2)
        }
        #expect(throws: CodecError.self) { try prior.check(base, levels: 3) }
    }

    /// Priors without the copy gate code under revision 1, with it under 2; both round-trip.
    @Test func bothCodingRevisionsRoundTrip() throws {
        let plain = ContextPrior(config: ContextPriorConfig(codebookSize: 64, levels: 2, embedDim: 4, hidden: 24, copyGate: false), seed: 3)
        let meta = [TokenizerRecord.nameKey: ContainerSamples.model.name,
                    TokenizerRecord.digestKey: ContainerSamples.model.digestHex]
        let revision1 = try EntropyPrior(weights: plain.exportWeights(name: "plain", metadata: meta), fallbackName: "x")
        #expect(revision1.codingRevision == 1 && Self.prior.codingRevision == 2)
        for prior in [revision1, Self.prior] {
            var file = Self.structuredFile(width: 11, height: 9, seed: 6)
            file.useEntropyPrior(prior)
            let bytes = try file.encode(prior: prior)
            let back = try VQZFile(decoding: bytes, entropyPriors: { $0 == prior.fingerprint ? prior : nil })
            #expect(back == file)
            // HEAD's packing byte (after 33 bytes of fields and the model name) names 16-bit LE,
            // as before packings per level, so readers older than those accept prior-coded files.
            let head = try VQZFile.chunks(in: bytes)[0]
            #expect(bytes[head.offset + 8 + 33 + file.model.name.utf8.count] == TokenPacking.planes16LE.rawValue)
        }
        // Revision 2's first byte names a cache weight; one past the list is refused.
        let file = Self.structuredFile(width: 6, height: 5, seed: 7)
        let chunks = try VQZFile.chunks(in: try file.encode(prior: Self.prior)).dropLast()
        let bytes = try file.encode(prior: Self.prior)
        var parts = chunks.map { ($0.tag, Array(bytes[$0.dataRange])) }
        let i = parts.firstIndex { $0.0 == "TOKN" }!
        parts[i].1[0] = UInt8(TokenCache.weights.count)
        #expect(throws: ContainerError.corruptPayload(chunk: "TOKN (level 0)", reason: RANSError.badChoice(UInt8(TokenCache.weights.count)).description)) {
            try VQZFile(decoding: ContainerSamples.assemble(parts), entropyPriors: lookup)
        }
    }

    /// Damaged TOKN streams (the file's CRC made to match, so the rANS decoder sees them) end in
    /// a ContainerError, never a crash or a hang.
    @Test func damagedStreamsGiveCleanErrors() throws {
        let file = Self.structuredFile(width: 9, height: 7, seed: 4)
        let bytes = try file.encode(prior: Self.prior)
        let chunks = try VQZFile.chunks(in: bytes).dropLast()
        let parts = chunks.map { ($0.tag, Array(bytes[$0.dataRange])) }
        var rng = SeededGenerator(seed: 5)
        var failures = 0
        for trial in 0..<300 {
            var edited = parts
            let i = edited.firstIndex { $0.0 == "TOKN" }! + trial % 2
            var data = edited[i].1
            switch trial % 3 {
            case 0: data[Int.random(in: 0..<data.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: data.removeLast(Int.random(in: 1...data.count, using: &rng))
            default: data += [UInt8](repeating: 0, count: 4 * Int.random(in: 1...3, using: &rng))
            }
            edited[i].1 = data
            do {
                let decoded = try VQZFile(decoding: ContainerSamples.assemble(edited), entropyPriors: lookup)
                // A flip can survive only as other valid tokens; they must still be in range.
                try decoded.tokens.validate()
            } catch is ContainerError {
                failures += 1
            }
        }
        #expect(failures >= 250, "\(failures) of 300 damaged streams were refused")
    }

    @Test func priorChunkRulesAreChecked() throws {
        let S = ContainerSamples.self
        func error(_ chunks: [(String, [UInt8])]) -> ContainerError? {
            do { _ = try VQZFile(decoding: S.assemble(chunks), entropyPriors: lookup); return nil } catch let e as ContainerError {
                return e
            } catch { return nil }
        }
        #expect(error([("HEAD", S.head(coder: 1)), ("TOKN", [0, 0, 0, 128, 0, 0, 0, 0])])
                == .inconsistent("TOKN chunk before the PRIO chunk"))
        #expect(error([("HEAD", S.head(coder: 1))]) == .inconsistent("HEAD says entropy coder prior but there is no PRIO chunk"))
        let prio = VQZFile.priorBytes(Self.prior.fingerprint, revision: Self.prior.codingRevision)
        #expect(error([("HEAD", S.head()), ("PRIO", prio)]) == .inconsistent("PRIO chunk but HEAD says entropy coder zstd"))
        var revised = prio
        revised[revised.count - 1] = 9
        #expect(error([("HEAD", S.head(coder: 1)), ("PRIO", revised)])
                == .inconsistent("PRIO: prior coding revision 9 (this vqz knows 1 and 2; upgrade vqz)"))
        #expect(error([("HEAD", S.head(coder: 1)), ("PRIO", Array(prio.dropLast()))])
                == .inconsistent("PRIO chunk of \(prio.count - 1) bytes is too short for its fields"))
    }
}
