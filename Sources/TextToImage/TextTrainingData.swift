import Foundation
import Generation
import ImageIO
import Models
import NN
import Shapes
import StandardFormats
import Training
import VQZ

/// The (caption, token grid) pairs of a captioned dataset folder: each picture tokenized once at
/// level 1 and cached like the prior's grids (PriorTrainingData's cache files).
public enum TextTrainingData {
    /// The level-1 grids of the records' pictures in `folder`, from the cache in `cacheFolder`
    /// when it holds them; every picture must give a rows x cols grid.
    public static func grids(records: [ShapesDataset.Record], folder: String, codec: Codec, cacheFolder: String,
                             rows: Int, cols: Int, log: (String) -> Void = { _ in },
                             progress: (Int, Int) -> Void = { _, _ in }) throws -> [[Int32]] {
        let paths = records.map { (folder as NSString).appendingPathComponent($0.image) }
        let cache = PriorTrainingData.cachePath(folder: cacheFolder, tokenizer: codec.model.tokens, paths: paths, scales: [1])
        return try cachedGrids(cache: cache, of: folder, count: paths.count, codec: codec, rows: rows, cols: cols, log: log, progress: progress) { i in
            guard let data = FileManager.default.contents(atPath: paths[i]),
                  let image = try? FormatRegistry.standard.decode([UInt8](data)) else { throw DatasetError.unreadableImage(paths[i]) }
            return (paths[i], image.converted(toBitDepth: 8))
        }
    }

    /// The level-1 grids of the records' picture near misses (ShapeScene.pictureNearMiss), one
    /// per record, rendered from the scenes and cached like `grids`. The same records and `seed`
    /// give the same near misses.
    public static func pictureNearMissGrids(records: [ShapesDataset.Record], folder: String, codec: Codec, cacheFolder: String,
                                            rows: Int, cols: Int, seed: UInt64 = 0x6e33_91c7, log: (String) -> Void = { _ in },
                                            progress: (Int, Int) -> Void = { _, _ in }) throws -> [[Int32]] {
        // The cache key is a digest of names: these name the near misses, not the pictures.
        let names = records.map { (folder as NSString).appendingPathComponent($0.image) + "#picture-near-miss-\(seed)" }
        let cache = PriorTrainingData.cachePath(folder: cacheFolder, tokenizer: codec.model.tokens, paths: names, scales: [1])
        return try cachedGrids(cache: cache, of: "picture near misses of \(folder)", count: records.count, codec: codec,
                               rows: rows, cols: cols, log: log, progress: progress) { i in
            var rng = RNG(seed: seed ^ (UInt64(i) &* 0x9E37_79B9_7F4A_7C15))
            guard let scene = records[i].scene.pictureNearMiss(relations: records[i].request.relations, rng: &rng) else {
                throw DatasetError.noPictureNearMiss(names[i])
            }
            return (names[i], SceneRenderer.render(scene))
        }
    }

    /// `count` pictures tokenized at level 1, or read from `cache` when it holds them all.
    static func cachedGrids(cache: String, of what: String, count: Int, codec: Codec, rows: Int, cols: Int,
                            log: (String) -> Void, progress: (Int, Int) -> Void,
                            picture: (Int) throws -> (name: String, image: Image)) throws -> [[Int32]] {
        if let cached = PriorTrainingData.load(cache: cache, tokenizer: codec.model.tokens), cached.count == count,
           cached.allSatisfy({ $0.width == cols && $0.height == rows }) {
            log("token grids of \(what) read from \(cache)")
            return cached.map(\.tokens)
        }
        var grids: [TokenGridSample] = []
        for i in 0..<count {
            let (name, image) = try picture(i)
            let grid = codec.tokenize(image, levels: 1)
            guard grid.width == cols && grid.height == rows else {
                throw GenerationError.badSize("\(name): a \(image.width)x\(image.height) picture gives a \(grid.width)x\(grid.height) token grid, not \(cols)x\(rows)")
            }
            grids.append(TokenGridSample(width: cols, height: rows, tokens: grid.levels[0].map { Int32($0) }))
            progress(i + 1, count)
        }
        try PriorTrainingData.save(grids, cache: cache, tokenizer: codec.model.tokens)
        log("token grids of \(what) cached in \(cache)")
        return grids.map(\.tokens)
    }

    /// Each grid's picture as the tokenizer decodes it (the round trip a generated candidate
    /// makes too), RGB8 of rows x cols cells of the tokenizer's downsampling, passed through
    /// `read` (e.g. a reranker's scaling down).
    public static func decodedPictures(grids: [[Int32]], codec: Codec, rows: Int, cols: Int,
                                       read: (_ rgb: [UInt8], _ width: Int, _ height: Int) -> [UInt8],
                                       progress: (Int, Int) -> Void = { _, _ in }) -> [[UInt8]] {
        let (w, h) = (cols * codec.model.downsampling, rows * codec.model.downsampling)
        return grids.enumerated().map { i, grid in
            defer { progress(i + 1, grids.count) }
            return read(codec.picture(level1: grid, rows: rows, cols: cols, width: w, height: h).samples8, w, h)
        }
    }

    /// Pairs of encoded captions and grids. The tokens over a shape (ShapeScene.shapeCells) weigh
    /// `shapeWeight` in the training loss and the ground's 1, so that the caption's subject is not
    /// outweighed by ground textures no caption describes. With `layout`, each pair carries its
    /// scene's SceneLayout, and with `map` also its map in that style (SceneLayout.trainingMap).
    public static func pairs(records: [ShapesDataset.Record], grids: [[Int32]], text: TextTokenizer,
                             rows: Int, cols: Int, shapeWeight: Float = 1, layout: Bool = false,
                             map: SceneLayout.MapStyle? = nil) -> [TextImagePair] {
        zip(records, grids).map { record, grid in
            let weights = shapeWeight == 1 ? [] : record.scene.shapeCells(rows: rows, cols: cols).map { $0 ? shapeWeight : 1 }
            let plan = layout || map != nil ? SceneLayout.encode(record.scene) : []
            let cells = map.map { SceneLayout.trainingMap(record.scene, layout: plan, rows: rows, cols: cols, style: $0) } ?? []
            return TextImagePair(text: text.encode(record.caption).ids, layout: plan, map: cells, tokens: grid, tokenWeights: weights)
        }
    }
}
