import VQZ

/// A collection of images as WebDataset shards: which image goes into which shard under which
/// key. The plan depends only on the ordered list of inputs and the shard size, so every worker
/// that is given the same list computes the same plan and writes its own shards of it.
public struct ShardPlan: Equatable, Sendable {
    public struct Sample: Equatable, Sendable {
        /// Nine digits, the sample's position in the collection: WebDataset keys may not hold
        /// dots, which file names do.
        public var key: String
        /// Where to read the image.
        public var path: String
        /// How KEY.json names it: relative to the folder it was found in, or as listed.
        public var source: String

        public init(key: String, path: String, source: String) {
            self.key = key
            self.path = path
            self.source = source
        }
    }

    public struct Shard: Equatable, Sendable {
        public var index: Int
        /// PREFIX-NNNNNN.tar
        public var name: String
        public var samples: [Sample]
    }

    public let prefix: String
    public let shards: [Shard]

    /// `inputs` in collection order; `shardSize` images per shard (the last may hold fewer).
    public init(inputs: [(path: String, source: String)], shardSize: Int, prefix: String) throws {
        guard shardSize >= 1 else { throw ShardError.badShardSize(shardSize) }
        guard Self.isValidPrefix(prefix) else { throw ShardError.badPrefix(prefix) }
        self.prefix = prefix
        var shards: [Shard] = []
        var start = 0
        while start < inputs.count {
            let end = min(start + shardSize, inputs.count)
            let samples = (start..<end).map { i in
                Sample(key: Self.digits(i, width: 9), path: inputs[i].path, source: inputs[i].source)
            }
            let index = shards.count
            shards.append(Shard(index: index, name: "\(prefix)-\(Self.digits(index, width: 6)).tar", samples: samples))
            start = end
        }
        self.shards = shards
    }

    /// The shards worker `worker` of `workers` writes: those whose index is worker modulo workers.
    /// The N workers together write each shard exactly once.
    public func shards(forWorker worker: Int, of workers: Int) -> [Shard] {
        shards.filter { $0.index % workers == worker }
    }

    /// PREFIX-index.jsonl: one line per sample of every shard, in key order.
    public var indexName: String { "\(prefix)-index.jsonl" }

    /// A file-name-safe prefix: letters, digits, '.', '_', '-'; not starting with '.' or '-'.
    public static func isValidPrefix(_ prefix: String) -> Bool {
        guard let first = prefix.utf8.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-"), prefix.utf8.count <= 64 else { return false }
        return prefix.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    static func digits(_ n: Int, width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

/// One shard's bytes and its index lines.
public enum ShardFile {
    /// A tar of KEY.json then KEY.tokens.npy for each sample, in the order given.
    public static func tar(_ samples: [(info: TokenArrayInfo, tokens: TokenGrid)]) throws -> [UInt8] {
        var members: [Tar.Member] = []
        for (info, tokens) in samples {
            guard let key = info.key else { throw ShardError.missingKey }
            members.append(Tar.Member(name: key + ".json", data: info.json()))
            members.append(Tar.Member(name: key + ".tokens.npy", data: NPY.write(tokens)))
        }
        return try Tar.archive(members)
    }

    /// The index lines of a shard: each sample's KEY.json with "shard" added, one per line.
    /// Read from the shard itself, so the index says what the shards hold. `read(offset, count)`
    /// gives bytes of the shard, so that a reader can skip the token arrays without reading them.
    public static func indexLines(shardName: String, size: Int, read: (Int, Int) throws -> [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while true {
            guard size - offset >= Tar.blockSize else { throw TarError.truncated }
            guard let header = try Tar.header(try read(offset, Tar.blockSize)[...], offset: offset) else { return out }
            offset += Tar.blockSize
            guard header.paddedSize <= size - offset else { throw TarError.truncated }
            if header.isFile && header.name.hasSuffix(".json") {
                var info = try TokenArrayInfo.parse(try read(offset, header.size))
                info.shard = shardName
                out += info.json() + [0x0A]
            }
            offset += header.paddedSize
        }
    }

    public static func indexLines(shardName: String, tar bytes: [UInt8]) throws -> [UInt8] {
        try indexLines(shardName: shardName, size: bytes.count) { offset, count in Array(bytes[offset..<(offset + count)]) }
    }
}

public enum ShardError: Error, Equatable, CustomStringConvertible {
    case badShardSize(Int)
    case badPrefix(String)
    case badWorker(String)
    case missingKey

    public var description: String {
        switch self {
        case .badShardSize(let n): return "--shard-size must be at least 1 (found \(n))"
        case .badPrefix(let p): return "shard prefix '\(p)' must be 1...64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
        case .badWorker(let w): return "--worker '\(w)' must be I/N with 0 <= I < N"
        case .missingKey: return "a shard sample has no key"
        }
    }
}
