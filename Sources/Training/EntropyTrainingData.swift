import Foundation
import ImageIO
import Models
import NN
import VQZ

/// Every level's token grid of each picture of a folder at the given scales, as the codec makes
/// them (the entropy prior codes exactly these), made once per tokenizer and cached.
public enum EntropyTrainingData {
    public static let cacheKind = "vqz-level-token-cache"

    public static func tokenize(_ pictures: [RGBPicture], codec: Codec, scales: [Int],
                                progress: (Int, Int) -> Void = { _, _ in }) -> [LeveledTokenGrid] {
        var grids: [LeveledTokenGrid] = []
        for (i, picture) in pictures.enumerated() {
            for image in PriorTrainingData.scaled(picture, scales: scales, atLeast: codec.model.downsampling) {
                let grid = codec.tokenize(image, levels: codec.model.levels)
                grids.append(LeveledTokenGrid(width: grid.width, height: grid.height, levels: grid.levels.map { $0.map { Int32($0) } }))
            }
            progress(i + 1, pictures.count)
        }
        return grids
    }

    /// The grids of the pictures under `folder`, from the cache in `cacheFolder` when it holds them.
    public static func grids(folder: String, codec: Codec, cacheFolder: String, scales: [Int],
                             log: (String) -> Void = { _ in }, progress: (Int, Int) -> Void = { _, _ in }) throws -> [LeveledTokenGrid] {
        let images = try TrainingImages.load(folder: folder)
        for s in images.skipped { log("\(s.path): skipped: \(s.reason)") }
        let fingerprint = codec.model.tokens
        let path = PriorTrainingData.cachePath(folder: cacheFolder, tokenizer: fingerprint, paths: images.paths,
                                               scales: scales, levels: codec.model.levels)
        if let cached = load(cache: path, tokenizer: fingerprint) {
            log("token grids of \(folder) read from \(path)")
            return cached
        }
        let t0 = Date()
        let grids = tokenize(images.pictures, codec: codec, scales: scales, progress: progress)
        try save(grids, cache: path, tokenizer: fingerprint)
        log(String(format: "tokenized %d pictures of %@ (%d grids) at %d levels in %.0f s; cached in %@",
                   images.pictures.count, folder, grids.count, codec.model.levels, Date().timeIntervalSince(t0), path))
        return grids
    }

    /// The cached grids, or nil when the file is absent, unreadable or made by another tokenizer.
    static func load(cache path: String, tokenizer: ModelFingerprint) -> [LeveledTokenGrid]? {
        guard let entries = PriorTrainingData.readCache(path, kind: cacheKind, tokenizer: tokenizer),
              entries.allSatisfy({ $0.shape.count == 3 }) else { return nil }
        return entries.map { e in
            let (l, h, w) = (e.shape[0], e.shape[1], e.shape[2])
            return LeveledTokenGrid(width: w, height: h, levels: (0..<l).map { j in e.values[(j * h * w)..<((j + 1) * h * w)].map { Int32($0) } })
        }
    }

    /// Writes the grids (float32 [L, H, W], exact for indices below 2^24) atomically.
    static func save(_ grids: [LeveledTokenGrid], cache path: String, tokenizer: ModelFingerprint) throws {
        try PriorTrainingData.writeCache(grids.enumerated().map { i, g in
            SafeTensors.Entry(name: "grid\(i)", dtype: .f32, shape: [g.levels.count, g.height, g.width],
                              values: g.levels.flatMap { $0.map { Float($0) } })
        }, kind: cacheKind, tokenizer: tokenizer, to: path)
    }
}
