import CZstd
import Testing
@testable import VQZ

/// Every class of malformed input, each with the exact error the reader must give.
@Suite struct ContainerMalformedTests {
    let bytes = try! ContainerSamples.small.encode()

    func decodeError(_ data: [UInt8], limits: ContainerLimits = .default) -> ContainerError? {
        do {
            _ = try VQZFile(decoding: data, limits: limits)
            return nil
        } catch let error as ContainerError {
            return error
        } catch {
            Issue.record("not a ContainerError: \(error)")
            return nil
        }
    }

    @Test func rejectsBadMagicAndVersion() {
        #expect(decodeError(Array("\u{89}PNG\r\n\u{1A}\n".utf8) + bytes.dropFirst(8)) == .badMagic)
        #expect(decodeError([0x47]) == .badMagic)
        var v2 = bytes
        v2[8] = 2
        #expect(decodeError(v2) == .unsupportedVersion(found: 2, highestSupported: 1))
        v2[8] = 0
        v2[9] = 1
        #expect(decodeError(v2) == .unsupportedVersion(found: 256, highestSupported: 1))
    }

    /// Cutting the file anywhere names the part that is missing.
    @Test func truncationAtEveryOffsetNamesTheChunk() throws {
        let chunks = try VQZFile.chunks(in: bytes)
        for cut in 0..<bytes.count {
            let expected: ContainerError
            if cut < 8 {
                expected = .truncated(chunk: "signature")
            } else if cut < 10 {
                expected = .truncated(chunk: "version")
            } else if let c = chunks.first(where: { cut < $0.offset + 8 + $0.length }) {
                if cut == c.offset {
                    expected = .truncated(chunk: "DONE")
                } else if cut < c.offset + 8 {
                    expected = .truncated(chunk: "chunk frame at offset \(c.offset)")
                } else {
                    expected = .truncated(chunk: c.tag)
                }
            } else {
                Issue.record("cut \(cut) past the last chunk")
                continue
            }
            #expect(decodeError(Array(bytes.prefix(cut))) == expected, "cut at \(cut)")
        }
    }

    /// CRC-32 catches every single-byte change; the fields read before it catch the rest.
    @Test func everySingleByteFlipIsCaught() throws {
        let chunks = try VQZFile.chunks(in: bytes)
        for offset in bytes.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var data = bytes
                data[offset] ^= mask
                guard let error = decodeError(data) else {
                    Issue.record("flip \(mask) at \(offset) decoded")
                    continue
                }
                let inData = chunks.contains { $0.dataRange.contains(offset) }
                if offset < 8 {
                    #expect(error == .badMagic)
                } else if offset < 10 {
                    #expect(error == .unsupportedVersion(found: Int(data[8]) | Int(data[9]) << 8, highestSupported: 1))
                } else if inData {
                    guard case .checksumMismatch = error else {
                        Issue.record("flip \(mask) at \(offset) in chunk data gave \(error)")
                        continue
                    }
                }
            }
        }
    }

    @Test func rejectsFramingErrors() throws {
        var trailing = bytes
        trailing.append(0)
        #expect(decodeError(trailing) == .inconsistent("1 bytes after the DONE chunk"))

        var badTag = ContainerSamples.assemble([("HEAD", ContainerSamples.head()), ("TOKN", try ContainerSamples.tokn())])
        badTag[10] = 0x31  // "1EAD"
        #expect(decodeError(badTag) == .inconsistent("chunk tag at offset 10 is not 4 ASCII letters"))

        var longDone = ContainerSamples.assemble([("HEAD", ContainerSamples.head()), ("TOKN", try ContainerSamples.tokn())])
        let doneLength = longDone.count - 8
        longDone[doneLength] = 5
        longDone.append(0)
        #expect(decodeError(longDone) == .inconsistent("DONE chunk holds 5 bytes, not 4"))

        var wrongCRC = bytes
        wrongCRC[wrongCRC.count - 1] ^= 0x10
        guard case .checksumMismatch = decodeError(wrongCRC) else {
            Issue.record("CRC change not caught")
            return
        }
    }

    @Test func rejectsChunkSequenceErrors() throws {
        let head = ContainerSamples.head()
        let tokn = try ContainerSamples.tokn()
        func expect(_ chunks: [(String, [UInt8])], _ error: ContainerError) {
            #expect(decodeError(ContainerSamples.assemble(chunks)) == error)
        }
        #expect(decodeError(ContainerSamples.assemble([("HEAD", head), ("TOKN", tokn)])) == nil)
        expect([("TOKN", tokn), ("HEAD", head)], .inconsistent("first chunk is TOKN, not HEAD"))
        expect([], .inconsistent("first chunk is DONE, not HEAD"))
        expect([("HEAD", head)], .inconsistent("0 TOKN chunks for 1 levels"))
        expect([("HEAD", head), ("TOKN", tokn), ("TOKN", tokn)], .inconsistent("more TOKN chunks than the 1 levels in HEAD"))
        let afterTokn = 10 + 8 + head.count + 8 + tokn.count
        expect([("HEAD", head), ("TOKN", tokn), ("HEAD", head)], .inconsistent("second HEAD chunk at offset \(afterTokn)"))
        expect([("HEAD", head), ("TOKN", tokn), ("ALPH", [])], .inconsistent("ALPH chunk but HEAD says no alpha"))
        expect([("HEAD", ContainerSamples.head(alpha: 1)), ("TOKN", tokn)], .inconsistent("HEAD says alpha but there is no ALPH chunk"))
        let alpha = try Zstd.compress([UInt8](repeating: 7, count: 256))
        #expect(decodeError(ContainerSamples.assemble([("HEAD", ContainerSamples.head(alpha: 1)), ("TOKN", tokn), ("ALPH", alpha)])) == nil)
        expect([("HEAD", ContainerSamples.head(alpha: 1)), ("TOKN", tokn), ("ALPH", alpha), ("ALPH", alpha)],
               .inconsistent("second ALPH chunk at offset \(afterTokn + 8 + alpha.count)"))
        expect([("HEAD", head), ("PRIO", [1]), ("TOKN", tokn)], .inconsistent("PRIO chunk but HEAD says entropy coder zstd"))
        expect([("HEAD", head), ("FUTR", [1]), ("TOKN", tokn)], .unknownCriticalChunk("FUTR"))
    }

    /// Absurd or contradictory header fields under a valid checksum.
    @Test func rejectsHeaderFields() throws {
        let tokn = try ContainerSamples.tokn()
        func expect(_ head: [UInt8], _ error: ContainerError, limits: ContainerLimits = .default,
                    sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(decodeError(ContainerSamples.assemble([("HEAD", head), ("TOKN", tokn)]), limits: limits) == error,
                    sourceLocation: sourceLocation)
        }
        typealias S = ContainerSamples
        expect(S.head(width: 0), .overLimit("image 0x16 (each side must be 1...2^32-1)"))
        expect(S.head(width: .max, height: .max), .overLimit("image 4294967295x4294967295 has more than 268435456 pixels"))
        expect(S.head(width: 100, height: 100), .overLimit("image 100x100 has more than 9999 pixels"),
               limits: ContainerLimits(maxPixels: 9999))
        expect(S.head(channels: 2), .inconsistent("2 colour channels (must be 1 or 3)"))
        expect(S.head(alpha: 2), .inconsistent("alpha flag 2 (must be 0 or 1)"))
        expect(S.head(name: []), .overLimit("model name of 0 bytes (must be 1...64)"))
        expect(S.head(name: Array(repeating: 0x61, count: 65)), .overLimit("model name of 65 bytes (must be 1...64)"))
        expect(S.head(name: [0xFF, 0xFE]), .inconsistent("model name is not UTF-8"))
        expect(S.head(gridWidth: 0), .overLimit("grid 0x2 (each side must be 1...65535)"))
        expect(S.head(gridWidth: 17), .inconsistent("grid 17x2 is larger than the image 16x16"))
        expect(S.head(width: 65535 * 2, height: 65535 * 2, gridWidth: 65535, gridHeight: 65535),
               .overLimit("image 131070x131070 has more than 268435456 pixels"))
        expect(S.head(width: 16384, height: 16384, gridWidth: 16384, gridHeight: 16384, codebookSizes: [16]),
               .overLimit("268435456 tokens (limit 67108864)"))
        expect(S.head(codebookSizes: []), .overLimit("0 quality levels (must be 1...16)"))
        expect(S.head(levels: 17, codebookSizes: []), .overLimit("17 quality levels (must be 1...16)"))
        expect(S.head(codebookSizes: [1]), .overLimit("codebook size 1 at level 0 (must be 2...65536)"))
        expect(S.head(codebookSizes: [65537]), .overLimit("codebook size 65537 at level 0 (must be 2...65536)"))
        expect(S.head(codebookSizes: [.max]), .overLimit("codebook size 4294967295 at level 0 (must be 2...65536)"))
        expect(S.head(coder: 2), .unsupportedEntropyCoder(2))
        expect(S.head(packing: 4), .unknownPacking(4))
        expect(S.head(levels: 2, codebookSizes: [16]), .inconsistent("HEAD chunk of 39 bytes is too short for its fields"))
        expect(S.head() + [0], .inconsistent("HEAD chunk has 1 bytes after its fields"))
    }

    /// Payloads are checked against the size HEAD implies before anything is allocated.
    @Test func rejectsPayloads() throws {
        let head = ContainerSamples.head()  // 2x2 grid, K = 16, byte-split: 4 bytes expected
        func expect(_ tokn: [UInt8], _ error: ContainerError, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(decodeError(ContainerSamples.assemble([("HEAD", head), ("TOKN", tokn)])) == error,
                    sourceLocation: sourceLocation)
        }
        let chunk = "TOKN (level 0)"
        // A decompression bomb: 64 MiB of zeros in a frame of a few kilobytes.
        let bomb = try Zstd.compress([UInt8](repeating: 0, count: 1 << 26), level: 1)
        expect(bomb, .corruptPayload(chunk: chunk, reason: "zstd frame declares 67108864 bytes, header implies 4"))
        expect(try Zstd.compress([1, 2, 3]), .corruptPayload(chunk: chunk, reason: "zstd frame declares 3 bytes, header implies 4"))
        expect([1, 2, 3, 4], .corruptPayload(chunk: chunk, reason: "not a zstd frame"))
        expect([], .corruptPayload(chunk: chunk, reason: "not a zstd frame"))
        expect(try ContainerSamples.tokn() + [0], .corruptPayload(chunk: chunk, reason: "1 bytes after the zstd frame"))
        expect(try ContainerSamples.tokn() + ContainerSamples.tokn(),
               .corruptPayload(chunk: chunk, reason: "\(try ContainerSamples.tokn().count) bytes after the zstd frame"))
        expect(try unsizedFrame([3, 3, 3, 3]), .corruptPayload(chunk: chunk, reason: "zstd frame does not declare its size"))
        var damaged = try Zstd.compress(Array(0..<200).map { UInt8($0 % 7) })
        damaged.removeLast(3)
        #expect(decodeError(ContainerSamples.assemble([("HEAD", ContainerSamples.head(width: 100, height: 100, gridWidth: 10, gridHeight: 20, codebookSizes: [16])), ("TOKN", damaged)]))
                == .corruptPayload(chunk: chunk, reason: "Src size is incorrect"))
        expect(try ContainerSamples.tokn(value: 16, codebookSize: 256),
               .inconsistent("token 16 at level 0 is not below codebook size 16"))
        // With a packing per level (HEAD packing 3), each TOKN chunk names its own first.
        let perLevel = ContainerSamples.head(packing: 3)
        func expectPerLevel(_ tokn: [UInt8], _ error: ContainerError, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(decodeError(ContainerSamples.assemble([("HEAD", perLevel), ("TOKN", tokn)])) == error,
                    sourceLocation: sourceLocation)
        }
        expectPerLevel([], .corruptPayload(chunk: chunk, reason: "no packing byte"))
        expectPerLevel([3] + (try ContainerSamples.tokn()), .unknownPacking(3))
        expectPerLevel([TokenPacking.planes16LE.rawValue] + (try ContainerSamples.tokn()),
                       .corruptPayload(chunk: chunk, reason: "zstd frame declares 4 bytes, header implies 8"))
        #expect(try VQZFile(decoding: ContainerSamples.assemble([("HEAD", perLevel), ("TOKN", [TokenPacking.byteSplit.rawValue] + (try ContainerSamples.tokn()))]))
                .tokens.levels == [[3, 3, 3, 3]])
        let alphaHead = ContainerSamples.head(alpha: 1)
        #expect(decodeError(ContainerSamples.assemble([("HEAD", alphaHead), ("TOKN", try ContainerSamples.tokn()),
                                                       ("ALPH", try Zstd.compress([1]))]))
                == .corruptPayload(chunk: "ALPH", reason: "zstd frame declares 1 bytes, header implies 256"))
    }

    /// A frame without its content size, as a streaming zstd writer makes it.
    func unsizedFrame(_ data: [UInt8]) throws -> [UInt8] {
        let cctx = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)
        var out = [UInt8](repeating: 0, count: 64)
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        let n = data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
                var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                _ = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end)
                return output.pos
            }
        }
        return Array(out.prefix(n))
    }
}
