import Models
import Training
import VQZ

/// The token grids of a prior's training run: each folder tokenized once by `codec` and cached
/// beside the checkpoint, with progress on the console.
struct TokenCaches {
    let codec: Codec
    let folder: String
    let progress: ProgressLine

    /// Level-1 grids of the pictures under `images`, at `scales` (and mirrored), for a token prior.
    func levelOne(_ images: String, scales: [Int], mirrored: Bool = false) throws -> [TokenGridSample] {
        try PriorTrainingData.grids(folder: images, codec: codec, cacheFolder: folder, scales: scales, mirrored: mirrored,
                                    log: { progress.log("vqz: " + $0) }, progress: report(images))
    }

    /// Grids of every level of the pictures under `images`, at `scales`, for the entropy prior.
    func allLevels(_ images: String, scales: [Int]) throws -> [LeveledTokenGrid] {
        try EntropyTrainingData.grids(folder: images, codec: codec, cacheFolder: folder, scales: scales,
                                      log: { progress.log("vqz: " + $0) }, progress: report(images))
    }

    private func report(_ images: String) -> (Int, Int) -> Void {
        { i, n in progress.update("tokenizing \(images): \(i)/\(n) pictures") }
    }
}
