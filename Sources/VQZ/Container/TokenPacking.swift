/// How one level's indices are laid out in bytes before zstd sees them. Which one compresses
/// best depends on the token statistics; `compressedSizes(of:)` measures all of them.
public enum TokenPacking: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// Each index in b = ceil(log2 K) bits, least significant bit first, bytes filled from
    /// their least significant bit; the last byte is padded with zero bits.
    case bitPacked = 0
    /// Each index as a 16-bit little-endian word.
    case planes16LE = 1
    /// ceil(b / 8) byte planes, most significant plane first: all high bytes, then all low
    /// bytes (just the low plane when K <= 256). zstd then sees each plane's own statistics.
    case byteSplit = 2

    /// The packing HEAD names in prior-coded files, whose tokens have none, so that readers
    /// without per-level packing accept them; files from such writers name it for every level.
    /// The writer otherwise packs each level the way zstd codes it smallest (HEAD packing 3,
    /// `VQZFile.packing` nil): 16-bit LE keeps repeated tokens whole for zstd's matches, which
    /// wins where regions repeat a token (level 1, smooth pictures); bit-packed spends 10 bits
    /// where tokens are nearly random (the finer levels), where zstd's byte codes spend about 11
    /// on 16-bit words.
    public static let `default` = TokenPacking.planes16LE

    /// HEAD's packing byte for a file whose TOKN chunks each name their own packing.
    static let perLevelID: UInt8 = 3

    public var description: String {
        switch self {
        case .bitPacked: return "bit-packed"
        case .planes16LE: return "16-bit-le"
        case .byteSplit: return "byte-split"
        }
    }

    /// Bits of one index for codebook size k (k >= 2).
    static func bits(codebookSize k: Int) -> Int {
        Int.bitWidth - (k - 1).leadingZeroBitCount
    }

    /// Bytes `count` indices occupy once packed; the reader checks zstd's output against it.
    public func packedSize(count: Int, codebookSize k: Int) -> Int {
        let b = Self.bits(codebookSize: k)
        switch self {
        case .bitPacked: return (count * b + 7) / 8
        case .planes16LE: return count * 2
        case .byteSplit: return count * ((b + 7) / 8)
        }
    }

    public func pack(_ tokens: [UInt16], codebookSize k: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: packedSize(count: tokens.count, codebookSize: k))
        switch self {
        case .bitPacked:
            let b = Self.bits(codebookSize: k)
            var bit = 0
            for t in tokens {
                // A token spans at most 3 bytes (16 bits starting anywhere in a byte).
                let v = UInt32(t) << UInt32(bit & 7)
                let i = bit >> 3
                out[i] |= UInt8(truncatingIfNeeded: v)
                if i + 1 < out.count { out[i + 1] |= UInt8(truncatingIfNeeded: v >> 8) }
                if i + 2 < out.count { out[i + 2] |= UInt8(truncatingIfNeeded: v >> 16) }
                bit += b
            }
        case .planes16LE:
            for (i, t) in tokens.enumerated() {
                out[2 * i] = UInt8(truncatingIfNeeded: t)
                out[2 * i + 1] = UInt8(t >> 8)
            }
        case .byteSplit:
            let n = tokens.count
            if out.count == n {
                for (i, t) in tokens.enumerated() { out[i] = UInt8(t) }
            } else {
                for (i, t) in tokens.enumerated() {
                    out[i] = UInt8(t >> 8)
                    out[n + i] = UInt8(truncatingIfNeeded: t)
                }
            }
        }
        return out
    }

    /// Inverse of `pack`; `bytes.count` must equal `packedSize(count:codebookSize:)`.
    /// Indices are not checked against k here: the reader does that once for all packings.
    func unpack(_ bytes: [UInt8], count: Int, codebookSize k: Int) -> [UInt16] {
        precondition(bytes.count == packedSize(count: count, codebookSize: k))
        var out = [UInt16](repeating: 0, count: count)
        switch self {
        case .bitPacked:
            let b = Self.bits(codebookSize: k)
            let mask = UInt32(1) << UInt32(b) - 1
            var bit = 0
            for i in 0..<count {
                let j = bit >> 3
                var v = UInt32(bytes[j])
                if j + 1 < bytes.count { v |= UInt32(bytes[j + 1]) << 8 }
                if j + 2 < bytes.count { v |= UInt32(bytes[j + 2]) << 16 }
                out[i] = UInt16((v >> UInt32(bit & 7)) & mask)
                bit += b
            }
        case .planes16LE:
            for i in 0..<count { out[i] = UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8 }
        case .byteSplit:
            if bytes.count == count {
                for i in 0..<count { out[i] = UInt16(bytes[i]) }
            } else {
                for i in 0..<count { out[i] = UInt16(bytes[i]) << 8 | UInt16(bytes[count + i]) }
            }
        }
        return out
    }

    /// The zstd frame of one level's tokens packed this way.
    public func frame(_ tokens: [UInt16], codebookSize k: Int, zstdLevel: Int32 = Zstd.defaultLevel) throws -> [UInt8] {
        try Zstd.compress(pack(tokens, codebookSize: k), level: zstdLevel)
    }

    /// The smallest of the three packings' frames for one level's tokens (the first of equals).
    public static func smallestFrame(_ tokens: [UInt16], codebookSize k: Int, zstdLevel: Int32 = Zstd.defaultLevel) throws
        -> (packing: TokenPacking, frame: [UInt8])
    {
        let frames = try allCases.map { ($0, try $0.frame(tokens, codebookSize: k, zstdLevel: zstdLevel)) }
        return frames.min { $0.1.count < $1.1.count }!
    }

    /// One level's TOKN payload in a file with a packing per level (HEAD packing 3): the byte
    /// naming the level's smallest packing, then that packing's frame.
    public static func perLevelPayload(_ tokens: [UInt16], codebookSize k: Int, zstdLevel: Int32 = Zstd.defaultLevel) throws -> [UInt8] {
        let smallest = try smallestFrame(tokens, codebookSize: k, zstdLevel: zstdLevel)
        return [smallest.packing.rawValue] + smallest.frame
    }

    /// zstd-compressed size of the whole grid under each packing (at the writer's default
    /// zstd level), to compare the packings on real token grids.
    public static func compressedSizes(of grid: TokenGrid, zstdLevel: Int32 = Zstd.defaultLevel) throws
        -> [(packing: TokenPacking, bytes: Int)]
    {
        try allCases.map { packing in
            var total = 0
            for (tokens, k) in zip(grid.levels, grid.codebookSizes) {
                total += try packing.frame(tokens, codebookSize: k, zstdLevel: zstdLevel).count
            }
            return (packing, total)
        }
    }
}
