import ArgumentParser
import Foundation
import Generation
import ImageIO
import Models
import Shapes
import StandardFormats
import TextToImage
import VQZ

/// `vqz eval prompts FILE`: the share of what held-out prompts ask for that the generated
/// pictures hold, as the scene judge reads them, at several guidance scales.
struct EvalPromptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompts",
        abstract: "Attribute accuracy of text-prompted generation on captioned prompts (the scene judge).",
        discussion: """
            FILE is a captions.jsonl from 'vqz dataset shapes' (use --split heldout for \
            compositions that training never saw). Each caption is generated once per --guidance \
            scale with the same seed, and the judge scores the picture against what the caption \
            asks for: the number of shapes, each one's kind, colour, size and position when asked, \
            the relations, the background when asked (size, position and relations count only for \
            shapes of the right kind and colour). 'present' is the share of all requested \
            attributes found, 'all' the share of prompts with every one found. With \
            --rerank (the bundled reranker, or --rerank-weights PATH), each scale also gets a \
            row 'S+rN': --candidates N pictures generated in one batch (the first with the \
            plain row's seed) and the one the reranker scores highest judged, against the plan \
            each was painted from or the prompt (--rerank-by, as vqz generate). --oracle adds a \
            row 'S+oN' per scale: the candidate the judge itself scores highest among the same N, \
            the most any reranker could pick from them (a diagnostic, not a setting). A model \
            that draws layouts (vqz train text --layout) also gets a row 'S plan' per scale: the \
            plain row's layout rendered as a clean scene and judged, which tells what the plan \
            got right from what the painting of it lost. Its layouts are drawn at --plan-guidance \
            in every row; the scales of the rows are the paintings'.
            """
    )

    @Argument(help: ArgumentHelp("Captions file (captions.jsonl).", valueName: "FILE")) var file: String
    @Option(help: ArgumentHelp("Text-to-image weights (.safetensors from 'vqz train text'; the bundled model without it).", valueName: "PATH"))
    var textWeights: String?
    @Option(help: ArgumentHelp("Guidance scales to compare, separated by commas.", valueName: "S,...")) var guidance = "1," + String(format: "%g", TextGenerator.defaultGuidance)
    @Option(help: "Prompts to use at most.") var limit = 100
    @Option(help: "Sampling temperature.") var temperature: Float = 1
    @Option(name: .customLong("top-k"), help: "Sample among the K most likely tokens only.") var topK: Int?
    @Option(help: "Seed of the first prompt (prompt i uses seed + i).") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Write each prompt's pictures here, one per scale, side by side.", valueName: "DIR")) var save: String?
    @Flag(help: "Add reranked best-of-N rows, scored by the bundled reranker (or --rerank-weights).") var rerank = false
    @Option(help: ArgumentHelp("Reranker weights (.safetensors from 'vqz train rerank'): adds reranked best-of-N rows.", valueName: "PATH"))
    var rerankWeights: String?
    @Option(help: "Candidates per prompt and scale for the reranked rows.") var candidates = 8
    @Option(help: "What the reranked rows hold the candidates against: 'plan' (the default for a model that draws layouts) or 'prompt', as vqz generate.")
    var rerankBy: RerankBasis?
    @Option(help: "With a model that draws layouts: N layouts per picture, the one the reranker (bundled or --rerank-weights) scores highest on its clean rendering painted, in every row (default \(TextGenerator.defaultPlans), as vqz generate).")
    var plans: Int?
    @Option(help: ArgumentHelp("With a model that draws layouts: the guidance scale of the layouts in every row (default \(TextGenerator.defaultPlanGuidance), as vqz generate).", valueName: "S"))
    var planGuidance: Float?
    @Option(help: ArgumentHelp("With a model trained with map parts: the guidance scale of each part in every row (default 0, none, as vqz generate).", valueName: "S"))
    var partGuidance: Float?
    @Flag(help: "Add rows of the candidate the judge scores highest (needs --rerank): the ceiling of any reranker on those candidates.")
    var oracle = false
    @OptionGroup var modelOptions: ModelOptions

    var scales: [Float] { guidance.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        if scales.isEmpty || scales.count != guidance.split(separator: ",").count || !scales.allSatisfy({ $0 >= 0 && $0 <= 100 }) {
            throw ValidationError("--guidance takes scales in 0...100 separated by commas")
        }
        if limit < 1 { throw ValidationError("--limit must be positive") }
        if !(2...256).contains(candidates) { throw ValidationError("--candidates must be in 2...256") }
        if rerankBy != nil && !rerank && rerankWeights == nil { throw ValidationError("--rerank-by goes with the reranked rows: add --rerank") }
        if oracle && !rerank && rerankWeights == nil { throw ValidationError("--oracle compares with the reranker's pick: add --rerank") }
        if let plans, !(1...256).contains(plans) { throw ValidationError("--plans must be in 1...256") }
        try requireGuidanceScale(planGuidance, option: "--plan-guidance")
        try requireGuidanceScale(partGuidance, option: "--part-guidance")
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(.usage, "\(file): cannot read the captions") }
        let records = Array(try ShapesDataset.records(jsonl: String(decoding: data, as: UTF8.self), name: file).prefix(limit))
        guard !records.isEmpty else { throw DatasetError.empty(file) }
        let (model, codec) = try loadTextModel(textWeights, modelOptions: modelOptions)
        let generator = try reportingGenerationErrors { try TextGenerator(codec: codec, prior: model) }
        let plans = try planCount(self.plans, generator: generator)
        let planGuidance = try planGuidanceScale(self.planGuidance, generator: generator)
        let partGuidance = try partGuidanceScale(self.partGuidance, generator: generator)
        let loaded = try rerank || rerankWeights != nil || plans > 1 ? loadReranker(rerankWeights, codec: codec) : nil
        let reranker = rerank || rerankWeights != nil ? loaded : nil
        let basis = try reranker.map { try rerankBasis(rerankBy, generator: generator, reranker: $0) }
        func choice(_ prompt: String) -> TextGenerator.LayoutChoice? {
            loaded.flatMap { generator.layoutChoice(plans: plans, reranker: $0, prompt: prompt) }
        }
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }
        let unknown = Set(records.flatMap { model.text.encode($0.caption).unknown })
        if !unknown.isEmpty { Console().warn(nil, "the text model does not know: \(unknown.sorted().joined(separator: ", "))") }
        // One row per scale, then with the reranker one per scale again, then with --oracle once more:
        // (label, score, prompts all right, seconds).
        var rows = scales.map { (label: String(format: "%.2f", $0), score: SceneScore(), complete: 0, seconds: 0.0) }
        if reranker != nil { rows += scales.map { (String(format: "%.2f+r%d", $0, candidates), SceneScore(), 0, 0.0) } }
        if oracle { rows += scales.map { (String(format: "%.2f+o%d", $0, candidates), SceneScore(), 0, 0.0) } }
        let planRows = model.network.config.hasLayout ? rows.count : nil
        if planRows != nil { rows += scales.map { (String(format: "%.2f plan", $0), SceneScore(), 0, 0.0) } }
        let options = SamplingOptions(temperature: temperature, topK: topK)
        func add(_ row: Int, _ score: SceneScore, since t0: Date) {
            rows[row].seconds += Date().timeIntervalSince(t0)
            rows[row].score.add(score)
            if score.satisfiedTotal == score.requestedTotal { rows[row].complete += 1 }
        }
        func judge(_ row: Int, _ image: Image, _ record: ShapesDataset.Record, since t0: Date) {
            add(row, SceneJudge.score(record.request, SceneJudge.analyse(image)), since: t0)
        }
        for (i, record) in records.enumerated() {
            var pictures: [Image] = []
            for (s, scale) in scales.enumerated() {
                let t0 = Date()
                let result = try generator.generate(prompt: record.caption, count: 1, seed: seed &+ UInt64(i), guidance: scale, planGuidance: planGuidance,
                                                    partGuidance: partGuidance, options: options, layoutChoice: choice(record.caption))
                let image = result.images[0]
                judge(s, image, record, since: t0)
                if let planRows, let plan = SceneLayout.scene(result.layouts[0], canvas: image.width) {
                    judge(planRows + s, SceneRenderer.render(plan), record, since: Date())
                }
                pictures.append(image)
            }
            if let reranker {
                for (s, scale) in scales.enumerated() {
                    let t0 = Date()
                    let result = try generator.generate(prompt: record.caption, count: candidates, seed: seed &+ UInt64(i), guidance: scale,
                                                        planGuidance: planGuidance, partGuidance: partGuidance, options: options,
                                                        layoutChoice: choice(record.caption))
                    let best = try generator.ranked(result, by: reranker, prompt: record.caption, against: basis).result.images[0]
                    judge(scales.count + s, best, record, since: t0)
                    pictures.append(best)
                    if oracle {
                        // The judge's own pick among the same candidates (max(by:) keeps the first of equals); timed as the reranked row.
                        let scores = result.images.map { SceneJudge.score(record.request, SceneJudge.analyse($0)) }
                        add(2 * scales.count + s, scores.max { $0.satisfiedTotal < $1.satisfiedTotal }!, since: t0)
                    }
                }
            }
            if let save {
                let sheet = Generator.contactSheet(pictures, gap: 4)
                let name = ((record.image as NSString).deletingPathExtension) + "-prompt.png"
                try AtomicFile.write(try FormatRegistry.standard.encode(sheet, as: "png"), to: (save as NSString).appendingPathComponent(name), overwrite: true)
            }
        }
        let rerankedBy = basis.map { ", reranked by \($0.rankedBy)" } ?? ""
        print("prompts: \(records.count) from \(file), model \(model.metadata["name"] ?? "?") (\(model.metadata["steps"] ?? "?") steps)"
              + (loaded.map { ", reranker \($0.metadata["name"] ?? "?") (\($0.metadata["steps"] ?? "?") steps)" } ?? "")
              + (planGuidance.map { String(format: ", layouts at guidance %.2f", $0) } ?? "")
              + (partGuidance != 0 ? String(format: ", map parts at %.2f", partGuidance) : "")
              + (plans > 1 ? ", best of \(plans) layouts" : "") + rerankedBy)
        print("guidance  present  all     " + SceneScore.Attribute.allCases.map { $0.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined() + "s/prompt")
        for row in rows {
            let t = row.score
            var line = row.label + String(repeating: " ", count: max(0, 9 - row.label.count))
                + String(format: " %6.2f%% %5.1f%%  ", 100 * t.share, 100 * Double(row.complete) / Double(records.count))
            for a in SceneScore.Attribute.allCases {
                let r = t.requested[a] ?? 0
                line += (r == 0 ? "-" : String(format: "%.1f%%", 100 * Double(t.satisfied[a] ?? 0) / Double(r))).padding(toLength: 11, withPad: " ", startingAt: 0)
            }
            print(line + String(format: "%.2f", row.seconds / Double(records.count)))
        }
    }
}
