import ArgumentParser
import Foundation
import Models
import NN
import Shapes
import TextToImage
import Training
import VQZ

/// `vqz train text`: the text-to-image transformer on a captioned dataset (`vqz dataset shapes`).
struct TrainTextCommand: ParsableCommand, TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Train the text-to-image transformer on captioned pictures (vqz dataset shapes).",
        discussion: """
            Builds the word-level text tokenizer from the captions of --data, tokenizes every \
            picture once at level 1 with the image tokenizer (the bundled shapes tokenizer unless \
            --model; cached beside --checkpoint), and \
            trains on the captions then the image tokens, dropping a share of captions \
            (--caption-dropout) so that 'vqz generate --guidance' has an unconditional model to \
            contrast with. Progress on stderr, checkpoints every few minutes and on Ctrl-C, \
            --resume continues, --output writes the weights (with the text tokenizer) at the end.
            """
    )
    static let trainingDefaults = TrainingDefaults(options: TextImageTrainer.defaults(checkpointPath: ""), checkpointFile: "text.ckpt.safetensors",
                                                   modelName: "vqz-text-shapes", batch: "Pairs per batch.")

    @Option(help: ArgumentHelp("Dataset folder (captions.jsonl and the pictures).", valueName: "dir")) var data: String
    @Option(help: ArgumentHelp("Validation dataset folder (e.g. the heldout split).", valueName: "dir")) var val: String?
    @Option(help: "Validation pictures at most.") var valCount = 64

    @Option(help: "Share of captions replaced by the empty caption.") var captionDropout: Float = 0.15
    @Option(help: "Weight in the loss of the image tokens over a shape, against 1 for the ground's.") var shapeWeight: Float = 1
    @Option(help: "Model width.") var width = 256
    @Option(help: "Transformer blocks.") var layers = 4
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "Text tokens before the image (longer captions are cut).") var textLength = 40

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from trained weights (e.g. the bundled text model's file) with a fresh optimizer; their shape and text tokenizer win.", valueName: "weights"))
    var initWeights: String?
    @Option(help: "With --init: blocks appended to the model, each starting as the identity, so the deeper model begins as the trained one.")
    var addLayers = 0
    @Flag(help: "Draw each scene's layout (its shapes' kinds, colours, sizes and places) before the picture; with --init, adds the layout to the trained model.")
    var layout = false
    @Flag(help: "With --layout: the picture's tokens also read a map of the layout (each cell's shape kind, part, colour and size); with --init, adds the map to the trained model.")
    var map = false
    @Flag(help: "With a map: the empty caption also reads the shapes' kinds alone and their colours alone, so that sampling can compose them (--part-guidance); with --init, adds this to the trained model.")
    var mapParts = false
    @Option(help: ArgumentHelp("With a map: 'bins' spreads each shape around its bin's centre; 'placed' puts it where the picture has it (the plan's bin centre when sampling), edges in half cells. With --init, turns a trained bins map into a placed one. Default: the model's own, else bins.", valueName: "style"))
    var mapStyle: SceneLayout.MapStyle?

    @OptionGroup var training: SharedTrainingOptions<Self>
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    var checkpoint: String { training.checkpointPath() }

    func validate() throws {
        if valCount < 1 { throw ValidationError("--val-count must be positive") }
        if !(captionDropout >= 0 && captionDropout < 1) { throw ValidationError("--caption-dropout must be in 0..<1") }
        if !(shapeWeight > 0 && shapeWeight.isFinite) { throw ValidationError("--shape-weight must be positive") }
        try training.requireCheckpoint(at: checkpoint)
        if training.resume && initWeights != nil { throw ValidationError("--resume and --init cannot be combined") }
        if addLayers < 0 || (addLayers > 0 && initWeights == nil) { throw ValidationError("--add-layers needs --init and a count of 0 or more") }
        if (layout || map) && training.resume { throw ValidationError("--layout and --map cannot be combined with --resume (the checkpoint says what the model reads)") }
        if map && !layout { throw ValidationError("--map needs --layout (the map is the layout's)") }
        if mapParts && training.resume { throw ValidationError("--map-parts cannot be combined with --resume (the checkpoint says what the model reads)") }
        if mapParts && !map && initWeights == nil { throw ValidationError("--map-parts needs --map, or --init with a model that reads one") }
        if mapStyle != nil && training.resume { throw ValidationError("--map-style cannot be combined with --resume (the checkpoint says what the model reads)") }
        if mapStyle != nil && !map && initWeights == nil { throw ValidationError("--map-style needs --map, or --init with a model that reads one") }
    }

    func run() throws {
        let console = verbosity.console
        training.useThreads()
        let codec = Codec(model: try modelOptions.load(default: .shapes))
        let records = try ShapesDataset.records(folder: data)
        guard !records.isEmpty else { throw DatasetError.empty(data) }
        // The text tokenizer: from the checkpoint when resuming, else from these captions.
        var text = TextTokenizer(training: records.map(\.caption), length: textLength)
        var config = TextImageConfig(codebookSize: codec.model.config.codebookSize, textVocabulary: text.vocabularySize,
                                     textLength: textLength, width: width, layers: layers, heads: heads,
                                     rows: records[0].scene.canvas / codec.model.downsampling,
                                     cols: records[0].scene.canvas / codec.model.downsampling,
                                     layoutLength: layout ? SceneLayout.length : 0, layoutVocabulary: layout ? SceneLayout.vocabulary : 0,
                                     mapVocabularies: map ? (mapStyle ?? .bins).vocabularies : [], mapParts: mapParts ? SceneLayout.mapParts : [])
        if training.resume {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: checkpoint)))
            let saved = try TextImageModels.load(weights: bytes)
            guard saved.metadata["kind"] == TextImageModels.checkpointKind else { throw TrainingSetupError.notACheckpoint(checkpoint, of: "a text model") }
            (text, config) = (saved.text, saved.model.config)
        }
        let initial: TextPriorModel? = try initWeights.map { try loadCaptionModel($0, codec: codec) }
        let initialNetwork = initial.map { initial -> TextImageTransformer in
            let deeper = initial.network.deepened(by: addLayers, seed: training.seed)
            let planned = layout && !deeper.config.hasLayout ? deeper.withLayout(length: SceneLayout.length, vocabulary: SceneLayout.vocabulary, seed: training.seed) : deeper
            let added = map && !planned.config.hasMap ? planned.withMap(vocabularies: (mapStyle ?? .bins).vocabularies) : planned
            let mapped = mapStyle == .placed && SceneLayout.MapStyle(vocabularies: added.config.mapVocabularies) == .bins
                ? SceneLayout.placingMap(of: added) : added
            return mapParts && mapped.config.mapParts.isEmpty && mapped.config.hasMap ? mapped.withMapParts(SceneLayout.mapParts) : mapped
        }
        if mapParts, let initialNetwork, !initialNetwork.config.hasMap {
            throw CLIError(.usage, "--map-parts: the model in \(initWeights ?? "") reads no map (add --layout --map)")
        }
        if let mapStyle, let initialNetwork, SceneLayout.MapStyle(vocabularies: initialNetwork.config.mapVocabularies) != mapStyle {
            throw CLIError(.usage, "--map-style \(mapStyle.rawValue): the model in \(initWeights ?? "") reads " + (initialNetwork.config.hasMap ? "a placed map, which cannot go back to bins" : "no map (add --layout --map)"))
        }
        if let initial, let initialNetwork, let initWeights {
            (text, config) = (initial.text, initialNetwork.config)
            console.warn(nil, "starting from the weights in \(initWeights)" + (addLayers > 0 ? ", \(addLayers) block\(addLayers == 1 ? "" : "s") added" : "")
                              + (layout && !initial.network.config.hasLayout ? ", a layout added" : "")
                              + (map && !initial.network.config.hasMap ? ", a map added" : "")
                              + (initial.network.config.hasMap && initial.network.config.mapVocabularies != initialNetwork.config.mapVocabularies ? ", its map placed" : "")
                              + (mapParts && initial.network.config.mapParts.isEmpty ? ", its map's parts composed" : ""))
        }
        guard config.isValid else { throw ValidationError("invalid model shape (--width, --layers, --heads, --text-length)") }
        let (train, validation) = try loadCaptionedPairs(data: data, records: records, val: val, valCount: valCount, text: text,
                                                         rows: config.rows, cols: config.cols, codec: codec,
                                                         cacheFolder: (checkpoint as NSString).deletingLastPathComponent, console: console,
                                                         shapeWeight: shapeWeight, layout: config.hasLayout,
                                                         map: SceneLayout.MapStyle(vocabularies: config.mapVocabularies))
        if shapeWeight != 1 {
            let over = train.reduce(0) { $0 + $1.tokenWeights.filter { $0 == shapeWeight }.count }
            console.warn(nil, String(format: "%.1f%% of the training tokens lie over a shape and weigh %g in the loss",
                                     100 * Double(over) / Double(max(1, train.count * config.rows * config.cols)), shapeWeight))
        }
        let model = initialNetwork ?? TextImageTransformer(config: config, seed: training.seed)
        let trainer = TextImageTrainer(model: model, text: text, options: training.options(checkpointPath: checkpoint), captionDropout: captionDropout)
        try training.begin(trainer, tokenizer: codec.model, initial: initial?.metadata, checkpoint: checkpoint, console: console)
        console.warn(nil, "training a text-to-image transformer (\(model.store.trainableCount) parameters, \(text.words.count) words) on \(train.count) pairs for tokenizer \(codec.model.tokens)")
        try training.run(trainer, data: train, validation: validation.isEmpty ? nil : validation, console: console,
                         progress: { p in String(format: "step %d/%d  %.3f bits/token", p.step, p.totalSteps, p.figures) },
                         validated: { step, v in
                             let split = v.overShapes.flatMap { s in v.overGround.map { String(format: " (%.4f over shapes, %.4f over the ground)", s, $0) } } ?? ""
                             let plan = v.layout.map { String(format: "; %.4f bits per layout id", $0) } ?? ""
                             return String(format: "validation at step %d: %.4f bits/token with captions%@, %.4f with the empty caption%@", step, v.captioned, split, v.empty, plan)
                         },
                         export: { name, metadata in
                             var meta = metadata
                             meta["caption_dropout"] = String(captionDropout)
                             meta["shape_weight"] = String(shapeWeight)
                             if !validation.isEmpty {
                                 let v = trainer.validate(validation)
                                 meta["val_bits_per_token"] = String(format: "%.4f", v.captioned)
                                 meta["val_bits_per_token_empty_caption"] = String(format: "%.4f", v.empty)
                                 if let bits = v.layout { meta["val_bits_per_layout_id"] = String(format: "%.4f", bits) }
                             }
                             return TextImageModels.exportWeights(model, text: text, name: name ?? Self.trainingDefaults.modelName, metadata: meta)
                         })
    }
}

extension SceneLayout.MapStyle: ExpressibleByArgument {}
