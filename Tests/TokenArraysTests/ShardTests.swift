import Testing
import TokenArrays
import VQZ

/// Tar archives as GNU tar lays them out, and shard plans that N workers split without overlap.
@Suite struct ShardTests {
    @Test func tarRoundTripsWithFixedHeaders() throws {
        let members = [Tar.Member(name: "000000000.json", data: Array("{}".utf8)),
                       Tar.Member(name: "000000000.tokens.npy", data: [UInt8](repeating: 7, count: 1000)),
                       Tar.Member(name: "empty", data: [])]
        let bytes = try Tar.archive(members)
        #expect(bytes.count == 512 * (1 + 1) + 512 * (1 + 2) + 512 + 1024)
        #expect(try Tar.members(of: bytes) == members)
        #expect(try Tar.archive(members) == bytes, "the same members give the same bytes")
        let header = bytes[0..<512]
        #expect(String(decoding: header[100..<107], as: UTF8.self) == "0000644")
        #expect(String(decoding: header[124..<135], as: UTF8.self) == "00000000002", "size in octal")
        #expect(String(decoding: header[136..<147], as: UTF8.self) == "00000000000", "mtime 0")
        #expect(String(decoding: header[257..<263], as: UTF8.self) == "ustar\u{0}")
        let sum = header.enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 32 : Int($1.element)) }
        #expect(String(decoding: header[148..<154], as: UTF8.self) == String(sum, radix: 8).leftPadded(6))
    }

    @Test func tarRefusesBadNamesAndDamage() throws {
        #expect(throws: TarError.badName(String(repeating: "a", count: 101))) {
            try Tar.archive([Tar.Member(name: String(repeating: "a", count: 101), data: [])])
        }
        #expect(throws: TarError.badName("é")) { try Tar.archive([Tar.Member(name: "é", data: [])]) }
        let bytes = try Tar.archive([Tar.Member(name: "a.json", data: Array("{}".utf8))])
        var damaged = bytes
        damaged[0] = UInt8(ascii: "b")
        #expect(throws: TarError.badChecksum(offset: 0)) { try Tar.members(of: damaged) }
        for n in stride(from: 0, to: bytes.count, by: 100) where n < 1024 {
            #expect(throws: TarError.self) { try Tar.members(of: Array(bytes.prefix(n))) }
        }
    }

    @Test func planKeysShardsAndWorkers() throws {
        let inputs = (0..<7).map { (path: "in/\($0).png", source: "\($0).png") }
        let plan = try ShardPlan(inputs: inputs, shardSize: 3, prefix: "train")
        #expect(plan.shards.map(\.name) == ["train-000000.tar", "train-000001.tar", "train-000002.tar"])
        #expect(plan.shards.map { $0.samples.count } == [3, 3, 1])
        #expect(plan.shards[2].samples[0] == ShardPlan.Sample(key: "000000006", path: "in/6.png", source: "6.png"))
        #expect(plan.indexName == "train-index.jsonl")
        let split = (0..<2).map { plan.shards(forWorker: $0, of: 2) }
        #expect(split[0].map(\.index) == [0, 2] && split[1].map(\.index) == [1])
        #expect(plan.shards(forWorker: 4, of: 5).isEmpty, "more workers than shards: some write nothing")
        #expect(throws: ShardError.badShardSize(0)) { try ShardPlan(inputs: inputs, shardSize: 0, prefix: "t") }
        for bad in ["", "a/b", ".hidden", "-x", "sp ace"] {
            #expect(throws: ShardError.badPrefix(bad)) { try ShardPlan(inputs: inputs, shardSize: 1, prefix: bad) }
        }
    }

    @Test func shardsHoldJSONAndTokensAndIndexThemselves() throws {
        let model = ModelFingerprint(name: "m", digest: [UInt8](repeating: 0xAB, count: 16))
        let grid = TokenGrid(width: 2, height: 1, levels: [[1, 2]], codebookSizes: [1024])
        let samples = ["000000000", "000000001"].map { (key: String) in
            (info: TokenArrayInfo(model: model, width: 16, height: 8, channels: 3, factor: 8, levels: 1, codebookSize: 1024,
                                  key: key, source: "dir/\(key).png"), tokens: grid)
        }
        let tar = try ShardFile.tar(samples)
        let members = try Tar.members(of: tar)
        #expect(members.map(\.name) == ["000000000.json", "000000000.tokens.npy", "000000001.json", "000000001.tokens.npy"])
        #expect(try NPY.readTokens(members[1].data).levels == [[1, 2]])
        let index = String(decoding: try ShardFile.indexLines(shardName: "s-000000.tar", tar: tar), as: UTF8.self)
        let lines = index.split(separator: "\n")
        #expect(lines.count == 2)
        for cut in [0, 100, 600, tar.count - 1024] {
            #expect(throws: TarError.truncated, "a shard cut at \(cut)") { try ShardFile.indexLines(shardName: "s", tar: Array(tar.prefix(cut))) }
        }
        #expect(lines[1].contains(#""key":"000000001""#) && lines[1].contains(#""shard":"s-000000.tar""#) && lines[1].contains(#""source":"dir/000000001.png""#))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
