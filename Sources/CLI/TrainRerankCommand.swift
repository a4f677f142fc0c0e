import ArgumentParser
import Foundation
import Models
import NN
import Shapes
import TextToImage
import Training
import VQZ

/// `vqz train rerank`: the contrastive reranker on a captioned dataset (`vqz dataset shapes`).
struct TrainRerankCommand: ParsableCommand, TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerank",
        abstract: "Train the contrastive reranker (CLIP's objective) on captioned pictures (vqz dataset shapes).",
        discussion: """
            Reads --data as 'vqz train text' does (the same word-level text tokenizer, the same \
            level-1 grids of the pictures, cached and shared with it), and trains a text encoder \
            and a token-grid encoder so that \
            each caption's embedding is nearest its own picture's among the batch (symmetric \
            InfoNCE with a learned temperature). Validation reports top-1 retrieval accuracy \
            among the --val pairs. With --near-misses, every step writes each picked picture a \
            fresh caption and a near miss of it (the same sentence with one stated colour, shape, \
            size, position, relation or background changed) that its grid must rank lower, and \
            validation also reports how often it does. With --picture-near-misses, each scene is \
            also drawn once more with one thing every caption of it states changed (a shape's \
            colour or kind, which of two related shapes is where, how many shapes there are), \
            tokenized once and cached, and every step each caption must rank its own picture over \
            that near miss: the choice reranking makes. With --picture-cell N the picture side reads \
            pictures instead of grids: each training grid decoded by the tokenizer (the round trip \
            a generated candidate makes), scaled so that a grid cell is n x n pixels. Progress on stderr, checkpoints every few minutes and on \
            Ctrl-C, --resume continues, --output writes the weights for 'vqz generate --rerank'.
            """
    )
    static let trainingDefaults = TrainingDefaults(options: RerankerTrainer.defaults(checkpointPath: ""), checkpointFile: "rerank.ckpt.safetensors",
                                                   modelName: "vqz-rerank-shapes", batch: "Pairs per batch (each pair's negatives are the others).")

    @Option(help: ArgumentHelp("Dataset folder (captions.jsonl and the pictures).", valueName: "dir")) var data: String
    @Option(help: ArgumentHelp("Validation dataset folder (e.g. the heldout split).", valueName: "dir")) var val: String?
    @Option(help: "Validation pictures at most (retrieval is among all of them).") var valCount = 128

    @Option(help: "Text encoder width.") var width = 64
    @Option(help: "Text encoder transformer blocks.") var layers = 2
    @Option(help: "Text encoder attention heads.") var heads = 4
    @Option(help: "Image encoder channels.") var channels = 64
    @Option(help: "Width of the shared embedding.") var embedding = 64
    @Option(help: ArgumentHelp("Read pictures instead of token grids: each picture's round trip through the tokenizer, scaled so that a grid cell is n x n pixels (4: half size).", valueName: "n"))
    var pictureCell: Int?
    @Option(help: "Text tokens per caption (longer captions are cut).") var textLength = 40
    @Option(help: ArgumentHelp("contrastive: CLIP's two encoders; caption: a captioner that scores a candidate by how likely the prompt is as its caption.", valueName: "kind"))
    var objective: RerankerObjective = .contrastive
    @Option(help: ArgumentHelp("Caption reader: grid cells merged per side into one picture position.", valueName: "n"))
    var group = 2
    @Flag(help: "Hard negatives: fresh captions each step, each with a near miss (one stated attribute changed) to rank under it.")
    var nearMisses = false
    @Flag(help: "Hard negatives on the picture side: each scene redrawn with one stated attribute changed, a picture each caption must rank under its own.")
    var pictureNearMisses = false

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from trained weights (e.g. the bundled reranker's file) with a fresh optimizer; their shape and text tokenizer win.", valueName: "weights"))
    var initWeights: String?

    @OptionGroup var training: SharedTrainingOptions<Self>
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    var checkpoint: String { training.checkpointPath() }

    func validate() throws {
        if training.batch < 2 || valCount < 2 { throw ValidationError("--batch and --val-count must be 2 or more") }
        try training.requireCheckpoint(at: checkpoint)
        if training.resume && initWeights != nil { throw ValidationError("--resume and --init cannot be combined") }
        if objective == .caption && (nearMisses || pictureNearMisses || pictureCell != nil) {
            throw ValidationError("--near-misses, --picture-near-misses and --picture-cell are for --objective contrastive")
        }
    }

    func run() throws {
        let console = verbosity.console
        training.useThreads()
        let codec = Codec(model: try modelOptions.load(default: .shapes))
        let records = try ShapesDataset.records(folder: data)
        guard records.count >= 2 else { throw CLIError(.usage, "\(data): contrastive training needs two captioned pictures or more") }
        // The text tokenizer: from the checkpoint when resuming, else from these captions.
        var text = TextTokenizer(training: records.map(\.caption), length: textLength)
        if objective == .caption { return try trainCaptionReader(codec: codec, records: records, text: text, console: console) }
        let side = records[0].scene.canvas / codec.model.downsampling
        var config = RerankerConfig(codebookSize: codec.model.config.codebookSize, textVocabulary: text.vocabularySize,
                                    textLength: textLength, rows: side, cols: side, width: width, layers: layers, heads: heads,
                                    codeDim: codec.model.config.codeDim, pictureCell: pictureCell, channels: channels, embedding: embedding)
        if training.resume {
            let saved = try loadingModel(checkpoint) { try RerankerModels.load(weights: [UInt8](Data(contentsOf: URL(fileURLWithPath: checkpoint)))) }
            guard saved.metadata["kind"] == RerankerModels.checkpointKind else { throw TrainingSetupError.notACheckpoint(checkpoint, of: "a reranker") }
            (text, config) = (saved.text, saved.model.config)
        }
        let initial: RerankerModel? = try initWeights.map { try loadCaptionModel($0, codec: codec) }
        if let initial, let initWeights {
            guard let network = initial.network else { throw CLIError(.usage, "\(initWeights) is a caption reader; give --objective caption") }
            (text, config) = (initial.text, network.config)
            console.warn(nil, "starting from the weights in \(initWeights)")
        }
        guard config.isValid else { throw ValidationError("invalid model shape (--width, --layers, --heads, --channels, --embedding, --text-length)") }
        // Checked on the config, so that a reader of pictures resumed or started from weights is refused too.
        if config.pictureCell != nil && pictureNearMisses { throw CLIError(.usage, "--picture-near-misses are token grids; this reranker reads pictures (--picture-cell)") }
        var (train, validation) = try loadCaptionedPairs(data: data, records: records, val: val, valCount: valCount, text: text,
                                                         rows: config.rows, cols: config.cols, codec: codec,
                                                         cacheFolder: (checkpoint as NSString).deletingLastPathComponent, console: console)
        // The image side reads each token as the tokenizer's level-1 code vector (fixed), or the
        // pictures the grids decode to.
        let network = codec.model.network, codebook = network.quantizer.codebooks[0]
        let model = initial?.network ?? Reranker(config: config, codes: Array(UnsafeBufferPointer(start: network.store.value(codebook), count: codebook.count)), seed: training.seed)
        if config.pictureCell != nil {
            let progress = ProgressLine(console: console)
            func decode(_ pairs: inout [TextImagePair], _ what: String) {
                let pictures = TextTrainingData.decodedPictures(grids: pairs.map(\.tokens), codec: codec, rows: config.rows, cols: config.cols,
                                                                read: model.scaledToRead,
                                                                progress: { i, n in if i % 100 == 0 || i == n { progress.update("decoding \(what): \(i)/\(n)") } })
                progress.finish()
                for i in pairs.indices { pairs[i].picture = pictures[i] }
            }
            decode(&train, data)
            if let val { decode(&validation, val) }
        }
        let trainer = RerankerTrainer(model: model, text: text, options: training.options(checkpointPath: checkpoint))
        try training.begin(trainer, tokenizer: codec.model, initial: initial?.metadata, checkpoint: checkpoint, console: console)
        // The validation pairs' records, for their near misses.
        let validationRecords = try val.map { Array(try ShapesDataset.records(folder: $0).prefix(validation.count)) }
        if pictureNearMisses {
            let progress = ProgressLine(console: console)
            func grids(_ folder: String, _ recs: [ShapesDataset.Record]) throws -> [[Int32]] {
                defer { progress.finish() }
                return try reportingGenerationErrors {
                    try TextTrainingData.pictureNearMissGrids(records: recs, folder: folder, codec: codec,
                                                              cacheFolder: (checkpoint as NSString).deletingLastPathComponent,
                                                              rows: config.rows, cols: config.cols, log: { console.warn(nil, $0) },
                                                              progress: { i, n in progress.update("drawing picture near misses of \(folder): \(i)/\(n)") })
                }
            }
            trainer.pictureNearMisses = try grids(data, records)
            if let val, let validationRecords { trainer.validationPictureNearMisses = try grids(val, validationRecords) }
        }
        if nearMisses {
            func encoded(_ record: ShapesDataset.Record, _ rng: inout RNG) -> NearMissCaptions {
                let drawn = SceneCaptioner.captionAndNearMiss(record.scene, relations: record.request.relations, rng: &rng)
                return NearMissCaptions(caption: text.encode(drawn.caption).ids, nearMiss: text.encode(drawn.nearMiss).ids)
            }
            trainer.nearMisses = { encoded(records[$0], &$1) }
            if let validationRecords {
                var rng = RNG(seed: 0x6e33)
                trainer.validationNearMisses = validationRecords.map { encoded($0, &rng) }
            }
        }
        console.warn(nil, "training a reranker (\(model.store.trainableCount) parameters, \(text.words.count) words) on \(train.count) pairs for tokenizer \(codec.model.tokens)")
        try training.run(trainer, data: train, validation: validation.isEmpty ? nil : validation, console: console,
                         progress: { p in String(format: "step %d/%d  loss %.3f  scale %.1f", p.step, p.totalSteps, p.figures.loss, p.figures.scale) },
                         validated: { step, r in
                             String(format: "validation at step %d: top-1 retrieval among %d pairs: caption to picture %.1f%%, picture to caption %.1f%% (chance %.1f%%)",
                                    step, r.pairs, 100 * r.textToImage, 100 * r.imageToText, 100 / Double(r.pairs))
                                 + (r.nearMiss.map { String(format: "; caption over its near miss %.1f%%", 100 * $0) } ?? "")
                                 + (r.pictureNearMiss.map { String(format: "; picture over its near miss %.1f%%", 100 * $0) } ?? "")
                         },
                         export: { name, metadata in
                             var meta = metadata
                             if nearMisses { meta["near_misses"] = "yes" }
                             if pictureNearMisses { meta["picture_near_misses"] = "yes" }
                             if !validation.isEmpty {
                                 let r = trainer.validate(validation)
                                 if let m = r.nearMiss { meta["val_near_miss"] = String(format: "%.4f", m) }
                                 if let m = r.pictureNearMiss { meta["val_picture_near_miss"] = String(format: "%.4f", m) }
                                 meta["val_pairs"] = String(r.pairs)
                                 meta["val_text_to_image"] = String(format: "%.4f", r.textToImage)
                                 meta["val_image_to_text"] = String(format: "%.4f", r.imageToText)
                             }
                             return RerankerModels.exportWeights(model, text: text, name: name ?? Self.trainingDefaults.modelName, metadata: meta)
                         })
    }
}
