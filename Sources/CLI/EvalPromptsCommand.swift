import ArgumentParser
import Evaluation
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

    @Argument(help: ArgumentHelp("Captions file (captions.jsonl).", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("Guidance scales to compare, separated by commas.", valueName: "s,...")) var guidance = "1," + String(format: "%g", TextGenerator.defaultGuidance)
    @Option(help: "Prompts to use at most.") var limit = 100
    @Option(help: "Sampling temperature.") var temperature: Float = 1
    @Option(name: .customLong("top-k"), help: "Sample among the K most likely tokens only.") var topK: Int?
    @Option(help: "Seed of the first prompt (prompt i uses seed + i).") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Write each prompt's pictures here, one per scale, side by side.", valueName: "dir")) var save: String?
    @Flag(help: "Add reranked best-of-N rows, scored by the bundled reranker (or --rerank-weights).") var rerank = false
    @Option(help: "Candidates per prompt and scale for the reranked rows.") var candidates = 8
    @Flag(help: "Add rows of the candidate the judge scores highest (needs --rerank): the ceiling of any reranker on those candidates.")
    var oracle = false
    @OptionGroup var text: TextGenerationOptions
    @OptionGroup var modelOptions: ModelOptions

    var scales: [Float] { guidance.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) } }

    /// Whether the table has reranked rows.
    var ranking: Bool { rerank || text.rerankWeights != nil }

    func validate() throws {
        if scales.isEmpty || scales.count != guidance.split(separator: ",").count || !scales.allSatisfy({ $0 >= 0 && $0 <= 100 }) {
            throw ValidationError("--guidance takes scales in 0...100 separated by commas")
        }
        if limit < 1 { throw ValidationError("--limit must be positive") }
        if !(2...256).contains(candidates) { throw ValidationError("--candidates must be in 2...256") }
        if text.rerankBy != nil && !ranking { throw ValidationError("--rerank-by goes with the reranked rows: add --rerank") }
        if oracle && !ranking { throw ValidationError("--oracle compares with the reranker's pick: add --rerank") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(.usage, "\(file): cannot read the captions") }
        let records = Array(try ShapesDataset.records(jsonl: String(decoding: data, as: UTF8.self), name: file).prefix(limit))
        guard !records.isEmpty else { throw DatasetError.empty(file) }
        let setup = try text.setUp(modelOptions: modelOptions, ranking: ranking)
        let model = setup.model
        var evaluation = PromptEvaluation(generator: setup.generator, scales: scales)
        (evaluation.seed, evaluation.options) = (seed, SamplingOptions(temperature: temperature, topK: topK))
        (evaluation.planGuidance, evaluation.partGuidance, evaluation.layoutChoice) = (setup.planGuidance, setup.partGuidance, setup.layoutChoice)
        if let reranker = setup.reranker, let basis = setup.basis {
            evaluation.reranking = (reranker, basis, candidates, oracle)
        }
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }
        let unknown = Set(records.flatMap { model.text.encode($0.caption).unknown })
        if !unknown.isEmpty { Console().warn(nil, "the text model does not know: \(unknown.sorted().joined(separator: ", "))") }
        var rows = evaluation.rows()
        for (i, record) in records.enumerated() {
            let pictures = try evaluation.evaluate(record, index: i, into: &rows)
            if let save {
                let sheet = Generator.contactSheet(pictures, gap: 4)
                let name = ((record.image as NSString).deletingPathExtension) + "-prompt.png"
                try AtomicFile.write(try FormatRegistry.standard.encode(sheet, as: "png"), to: (save as NSString).appendingPathComponent(name), overwrite: true)
            }
        }
        let (plans, planGuidance, partGuidance) = (setup.plans, setup.planGuidance, setup.partGuidance)
        let rerankedBy = setup.basis.map { ", reranked by \($0.rankedBy)" } ?? ""
        print("prompts: \(records.count) from \(file), model \(model.metadata["name"] ?? "?") (\(model.metadata["steps"] ?? "?") steps)"
              + (setup.reranker.map { ", reranker \($0.metadata["name"] ?? "?") (\($0.metadata["steps"] ?? "?") steps)" } ?? "")
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
