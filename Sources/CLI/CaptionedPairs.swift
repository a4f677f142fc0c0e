import Foundation
import Models
import Shapes
import TextToImage
import VQZ

/// The (caption, token grid) pairs that `vqz train text` and `vqz train rerank` learn from: the
/// records of --data, and the first `valCount` of --val, each picture tokenized once at level 1
/// (cached in `cacheFolder`), with warnings for captions cut and validation words never trained on.
/// The training pairs' tokens over a shape weigh `shapeWeight` in the loss (TextTrainingData.pairs);
/// the validation pairs' are marked the same way (validation itself weighs every token alike).
/// With `layout`, every pair carries its scene's layout (SceneLayout).
func loadCaptionedPairs(data: String, records: [ShapesDataset.Record], val: String?, valCount: Int, text: TextTokenizer,
                        rows: Int, cols: Int, codec: Codec, cacheFolder: String, console: Console,
                        shapeWeight: Float = 1, layout: Bool = false, map: SceneLayout.MapStyle? = nil) throws
    -> (train: [TextImagePair], validation: [TextImagePair]) {
    let progress = ProgressLine(console: console)
    func load(_ folder: String, _ recs: [ShapesDataset.Record], shapeWeight: Float = 1) throws -> [TextImagePair] {
        let grids = try reportingGenerationErrors {
            try TextTrainingData.grids(records: recs, folder: folder, codec: codec, cacheFolder: cacheFolder, rows: rows, cols: cols,
                                       log: { console.warn(nil, $0) },
                                       progress: { i, n in progress.update("tokenizing \(folder): \(i)/\(n)") })
        }
        progress.finish()
        return TextTrainingData.pairs(records: recs, grids: grids, text: text, rows: rows, cols: cols, shapeWeight: shapeWeight, layout: layout, map: map)
    }
    let cut = records.filter { text.encode($0.caption).truncated > 0 }.count
    if cut > 0 { console.warn(nil, "\(cut) captions are longer than \(text.length) words and are cut (--text-length)") }
    let train = try load(data, records, shapeWeight: shapeWeight)
    guard let val else { return (train, []) }
    let v = Array(try ShapesDataset.records(folder: val).prefix(valCount))
    let unknown = Set(v.flatMap { text.encode($0.caption).unknown })
    if !unknown.isEmpty { console.warn(nil, "validation captions use words the training captions do not: \(unknown.sorted().joined(separator: ", "))") }
    // Marked the same way, so that validation can say how much of the loss lies over the shapes.
    return (train, try load(val, v, shapeWeight: shapeWeight))
}
