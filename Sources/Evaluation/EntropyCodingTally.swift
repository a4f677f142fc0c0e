import Foundation
import ImageIO
import VQZ

/// What `vqz eval entropy` counts over pictures: per level, the bytes zstd and the entropy prior
/// (rANS) code the same tokens in, and the floor (the prior's information content); then whole
/// .vqz files with each coder at level 1 and at every level, with the token coding times.
public struct EntropyCodingTally {
    public let codec: Codec
    public let prior: EntropyPrior
    public var pictures = 0, pixels = 0, tokens = 0
    public var zstdBytes: [Int], priorBytes: [Int]
    public var floorBits: [Double]
    /// Indexed [coder: zstd, prior][levels kept: 1, all].
    public var fileBytes = [[Int]](repeating: [0, 0], count: 2)
    public var encodeSeconds = [[Double]](repeating: [0, 0], count: 2), decodeSeconds = [[Double]](repeating: [0, 0], count: 2)

    public init(codec: Codec, prior: EntropyPrior) {
        self.codec = codec
        self.prior = prior
        zstdBytes = [Int](repeating: 0, count: codec.model.levels)
        priorBytes = zstdBytes
        floorBits = [Double](repeating: 0, count: codec.model.levels)
    }

    /// Counts one picture; false when a file's tokens did not come back as they went in.
    public mutating func add(_ image: Image) throws -> Bool {
        let levels = codec.model.levels
        // Tokens only: the tint plane is coded the same way under either coder.
        let file = try codec.analyse(image).file(quality: .levels(levels))
        pictures += 1
        pixels += image.pixelCount
        tokens += file.tokens.count
        let coded = prior.encode(file.tokens)
        for l in 0..<levels {
            zstdBytes[l] += try TokenPacking.perLevelPayload(file.tokens.levels[l], codebookSize: file.tokens.codebookSizes[l]).count
            priorBytes[l] += coded.payloads[l].count
            floorBits[l] += coded.informationBits[l]
        }
        for (column, kept) in [1, levels].enumerated() {
            var plain = file
            plain.tokens = file.tokens.prefix(levels: kept)
            var withPrior = plain
            withPrior.useEntropyPrior(prior)
            for (row, (f, p)) in [(plain, nil), (withPrior, prior)].enumerated() {
                let t0 = Date()
                let bytes = try f.encode(prior: p)
                let t1 = Date()
                let back = try VQZFile(decoding: bytes, entropyPriors: { [prior] _ in prior })
                let t2 = Date()
                guard back.tokens == f.tokens else { return false }
                fileBytes[row][column] += bytes.count
                encodeSeconds[row][column] += t1.timeIntervalSince(t0)
                decodeSeconds[row][column] += t2.timeIntervalSince(t1)
            }
        }
        return true
    }
}
