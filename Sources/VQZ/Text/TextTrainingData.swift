import Foundation
import ImageIO
import Models
import NN

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
        if let cached = PriorTrainingData.load(cache: cache, tokenizer: codec.model.tokens), cached.count == paths.count,
           cached.allSatisfy({ $0.width == cols && $0.height == rows }) {
            log("token grids of \(folder) read from \(cache)")
            return cached.map(\.tokens)
        }
        var grids: [TokenGridSample] = []
        for (i, path) in paths.enumerated() {
            guard let data = FileManager.default.contents(atPath: path),
                  let image = try? FormatRegistry.standard.decode([UInt8](data)) else { throw DatasetError.unreadableImage(path) }
            let grid = codec.tokenize(image.converted(toBitDepth: 8), levels: 1)
            guard grid.width == cols && grid.height == rows else {
                throw GenerationError.badSize("\(path): a \(image.width)x\(image.height) picture gives a \(grid.width)x\(grid.height) token grid, not \(cols)x\(rows)")
            }
            grids.append(TokenGridSample(width: cols, height: rows, tokens: grid.levels[0].map { Int32($0) }))
            progress(i + 1, paths.count)
        }
        try PriorTrainingData.save(grids, cache: cache, tokenizer: codec.model.tokens)
        log("token grids cached in \(cache)")
        return grids.map(\.tokens)
    }

    /// Pairs of encoded captions and grids. The tokens over a shape (ShapeScene.shapeCells) weigh
    /// `shapeWeight` in the training loss and the ground's 1, so that the caption's subject is not
    /// outweighed by ground textures no caption describes.
    public static func pairs(records: [ShapesDataset.Record], grids: [[Int32]], text: TextTokenizer,
                             rows: Int, cols: Int, shapeWeight: Float = 1) -> [TextImagePair] {
        zip(records, grids).map { record, grid in
            let weights = shapeWeight == 1 ? [] : record.scene.shapeCells(rows: rows, cols: cols).map { $0 ? shapeWeight : 1 }
            return TextImagePair(text: text.encode(record.caption).ids, tokens: grid, tokenWeights: weights)
        }
    }
}
