import ArgumentParser
import Foundation
import Models
import NN
import Shapes
import TextToImage
import Training
import VQZ

/// What `vqz train rerank` trains.
enum RerankerObjective: String, ExpressibleByArgument, CaseIterable {
    case contrastive, caption
}

extension TrainRerankCommand {
    /// `--objective caption`: a CaptionReader trained by next-word prediction on the same pairs,
    /// each step reading a fresh wording of each picked picture's caption.
    func trainCaptionReader(codec: Codec, records: [ShapesDataset.Record], text initialText: TextTokenizer, console: Console) throws {
        var text = initialText
        let side = records[0].scene.canvas / codec.model.downsampling
        var config = CaptionReaderConfig(codebookSize: codec.model.config.codebookSize, textVocabulary: text.vocabularySize,
                                         textLength: textLength, rows: side, cols: side, codeDim: codec.model.config.codeDim,
                                         group: group, width: width, layers: layers, heads: heads)
        var initial: CaptionReader?, initialMetadata: [String: String]?
        if training.resume {
            let saved = try loadingModel(checkpoint) { try CaptionReaderModels.load(weights: [UInt8](Data(contentsOf: URL(fileURLWithPath: checkpoint)))) }
            guard saved.metadata["kind"] == CaptionReaderModels.checkpointKind else { throw TrainingSetupError.notACheckpoint(checkpoint, of: "a caption reader") }
            (text, config) = (saved.text, saved.model.config)
        } else if let initWeights {
            let loaded: RerankerModel = try loadCaptionModel(initWeights, codec: codec)
            guard case .captionReader(let reader) = loaded.reader else { throw CLIError(.usage, "\(initWeights) is not a caption reader") }
            (text, config, initial, initialMetadata) = (loaded.text, reader.config, reader, loaded.metadata)
            console.warn(nil, "starting from the weights in \(initWeights)")
        }
        guard config.isValid else { throw ValidationError("invalid model shape (--width, --layers, --heads, --group, --text-length)") }
        let (train, validation) = try loadCaptionedPairs(data: data, records: records, val: val, valCount: valCount, text: text,
                                                         rows: config.rows, cols: config.cols, codec: codec,
                                                         cacheFolder: (checkpoint as NSString).deletingLastPathComponent, console: console)
        let network = codec.model.network, codebook = network.quantizer.codebooks[0]
        let model = initial ?? CaptionReader(config: config, codes: Array(UnsafeBufferPointer(start: network.store.value(codebook), count: codebook.count)), seed: training.seed)
        let trainer = CaptionReaderTrainer(model: model, text: text, options: training.options(checkpointPath: checkpoint))
        try training.begin(trainer, tokenizer: codec.model, initial: initialMetadata, checkpoint: checkpoint, console: console)
        trainer.freshCaption = { i, rng in
            text.encode(SceneCaptioner.caption(records[i].scene, relations: records[i].request.relations, rng: &rng).0).ids
        }
        console.warn(nil, "training a caption reader (\(model.store.trainableCount) parameters, \(text.words.count) words) on \(train.count) pairs for tokenizer \(codec.model.tokens)")
        try training.run(trainer, data: train, validation: validation.isEmpty ? nil : validation, console: console,
                         progress: { p in String(format: "step %d/%d  %.3f bits/word", p.step, p.totalSteps, p.figures) },
                         validated: { step, r in
                             String(format: "validation at step %d: %.3f bits per word; top-1 among %d pairs, caption to picture %.1f%% (chance %.1f%%)",
                                    step, r.bitsPerWord, r.pairs, 100 * r.textToImage, 100 / Double(r.pairs))
                         },
                         export: { name, metadata in
                             var meta = metadata
                             if !validation.isEmpty {
                                 let r = trainer.validate(validation)
                                 meta["val_bits_per_word"] = String(format: "%.4f", r.bitsPerWord)
                                 meta["val_pairs"] = String(r.pairs)
                                 meta["val_text_to_image"] = String(format: "%.4f", r.textToImage)
                             }
                             return CaptionReaderModels.exportWeights(model, text: text, name: name ?? Self.trainingDefaults.modelName, metadata: meta)
                         })
    }
}
