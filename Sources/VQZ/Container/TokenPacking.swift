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

    /// The packing the writer uses: the smallest on the first real token grids (the bundled
    /// vqz-f8-k1024-l4 tokenizer, 4 levels, zstd 19) by `compressedSizes(of:)`:
    /// samples/dandelion-768x512.png (96x64) 16-bit-le 14627, byte-split 17898, bit-packed 19263 bytes;
    /// samples/kite-rgba-160x120.png (20x15) 16-bit-le 1144, byte-split 1242, bit-packed 1190 bytes.
    /// Measure again when the model changes.
    public static let `default` = TokenPacking.planes16LE

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

    /// zstd-compressed size of the whole grid under each packing (at the writer's default
    /// zstd level), to pick the default packing on real token grids.
    public static func compressedSizes(of grid: TokenGrid, zstdLevel: Int32 = Zstd.defaultLevel) throws
        -> [(packing: TokenPacking, bytes: Int)]
    {
        try allCases.map { packing in
            var total = 0
            for (tokens, k) in zip(grid.levels, grid.codebookSizes) {
                total += try Zstd.compress(packing.pack(tokens, codebookSize: k), level: zstdLevel).count
            }
            return (packing, total)
        }
    }
}
