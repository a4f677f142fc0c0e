import Foundation
import ImageIO
import Models
import NN
import VQZ

/// Level-1 token grids of a folder of pictures, made once per tokenizer and cached.
public enum PriorTrainingData {
    public static let cacheKind = "vqz-token-cache"

    /// The level-1 grid of every picture at each scale in `scales` (1 full size, 2 half, 4 quarter...;
    /// powers of two). The default, half and quarter, is what a short training run can use: a 16x16
    /// crop then spans a good part of a scene, and tokenizing costs a third of the full size.
    /// `mirrored` adds the grids of each picture mirrored left to right: the tokenizer's own grids of
    /// other pictures, where flipping a grid would not be (a token's patch is not symmetric).
    public static func tokenize(_ pictures: [RGBPicture], codec: Codec, scales: [Int] = [2, 4], mirrored: Bool = false,
                                progress: (Int, Int) -> Void = { _, _ in }) -> [TokenGridSample] {
        var grids: [TokenGridSample] = []
        for (i, picture) in pictures.enumerated() {
            for image in (mirrored ? [picture, picture.mirrored()] : [picture]).flatMap({ scaled($0, scales: scales, atLeast: codec.model.downsampling) }) {
                let grid = codec.tokenize(image, levels: 1)
                grids.append(TokenGridSample(width: grid.width, height: grid.height, tokens: grid.levels[0].map { Int32($0) }))
            }
            progress(i + 1, pictures.count)
        }
        return grids
    }

    /// The picture at each of `scales` (powers of two, by repeated halving), while both sides
    /// stay at least `atLeast` pixels.
    static func scaled(_ picture: RGBPicture, scales: [Int], atLeast side: Int) -> [Image] {
        var p = picture, factor = 1, out: [Image] = []
        for scale in scales.sorted() {
            while factor < scale { p = p.halved(); factor *= 2 }
            if p.width < side || p.height < side { break }
            out.append(Image(width: p.width, height: p.height, channels: 3, samples8: p.pixels))
        }
        return out
    }

    /// The cache file for these pictures and this tokenizer, in `folder`: the name carries the
    /// tokenizer's digest and a digest of the picture list, so another tokenizer or another
    /// folder never reads stale tokens.
    public static func cachePath(folder: String, tokenizer: ModelFingerprint, paths: [String], scales: [Int],
                                 levels: Int = 1, mirrored: Bool = false) -> String {
        let what = "\n\(scales)" + (levels == 1 ? "" : " levels \(levels)") + (mirrored ? " mirrored" : "")
        let key = fnv1a128(Array((paths.joined(separator: "\n") + what).utf8)).prefix(6)
        let hex = key.map { String(format: "%02x", $0) }.joined()
        return (folder as NSString).appendingPathComponent("tokens-\(tokenizer.digestHex.prefix(16))-\(hex).safetensors")
    }

    /// The cached grids, or nil when the file is absent, unreadable or made by another tokenizer.
    public static func load(cache path: String, tokenizer: ModelFingerprint) -> [TokenGridSample]? {
        guard let entries = readCache(path, kind: cacheKind, tokenizer: tokenizer), entries.allSatisfy({ $0.shape.count == 2 }) else { return nil }
        return entries.map { TokenGridSample(width: $0.shape[1], height: $0.shape[0], tokens: $0.values.map { Int32($0) }) }
    }

    /// Writes the grids (as float32, exact for indices below 2^24) atomically.
    public static func save(_ grids: [TokenGridSample], cache path: String, tokenizer: ModelFingerprint) throws {
        try writeCache(grids.enumerated().map { i, g in
            SafeTensors.Entry(name: "grid\(i)", dtype: .f32, shape: [g.height, g.width], values: g.tokens.map { Float($0) })
        }, kind: cacheKind, tokenizer: tokenizer, to: path)
    }

    /// The tensors grid0, grid1... of a cache file of `kind`, nil when the file is absent,
    /// unreadable, incomplete or made by another tokenizer.
    static func readCache(_ path: String, kind: String, tokenizer: ModelFingerprint) -> [SafeTensors.Entry]? {
        guard let data = FileManager.default.contents(atPath: path),
              let (tensors, meta) = try? SafeTensors.read([UInt8](data)),
              meta["kind"] == kind, meta[TokenizerRecord.digestKey] == tokenizer.digestHex,
              let count = meta["grids"].flatMap(Int.init)
        else { return nil }
        let grids = (0..<count).compactMap { tensors["grid\($0)"] }
        return grids.count == count ? grids : nil
    }

    /// Writes `grids` (named grid0, grid1...) as a cache file of `kind` made by `tokenizer`.
    static func writeCache(_ grids: [SafeTensors.Entry], kind: String, tokenizer: ModelFingerprint, to path: String) throws {
        let meta = ["kind": kind, "grids": String(grids.count),
                    TokenizerRecord.nameKey: tokenizer.name, TokenizerRecord.digestKey: tokenizer.digestHex]
        try writeCache(SafeTensors.write(grids, metadata: meta), to: path)
    }

    /// Writes a cache file through a temporary beside it; rename() replaces atomically, so a
    /// second run tokenizing at the same time loses nothing.
    static func writeCache(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try Data(bytes).write(to: temp)
        guard rename(temp.path, path) == 0 else {
            try? FileManager.default.removeItem(at: temp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// Grids of the pictures under `folder`, from the cache in `cacheFolder` when it holds them.
    public static func grids(folder: String, codec: Codec, cacheFolder: String, scales: [Int] = [2, 4], mirrored: Bool = false,
                             log: (String) -> Void = { _ in }, progress: (Int, Int) -> Void = { _, _ in }) throws -> [TokenGridSample] {
        let images = try TrainingImages.load(folder: folder)
        for s in images.skipped { log("\(s.path): skipped: \(s.reason)") }
        let path = cachePath(folder: cacheFolder, tokenizer: codec.model.tokens, paths: images.paths, scales: scales, mirrored: mirrored)
        if let cached = load(cache: path, tokenizer: codec.model.tokens) {
            log("token grids of \(folder) read from \(path)")
            return cached
        }
        let t0 = Date()
        let grids = tokenize(images.pictures, codec: codec, scales: scales, mirrored: mirrored, progress: progress)
        try save(grids, cache: path, tokenizer: codec.model.tokens)
        log(String(format: "tokenized %d pictures of %@ (%d grids) in %.0f s; cached in %@",
                   images.pictures.count, folder, grids.count, Date().timeIntervalSince(t0), path))
        return grids
    }
}
