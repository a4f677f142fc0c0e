import Foundation
import ImageIO
import Models
import Shapes
import TextToImage

/// The measurement of `vqz eval prompts`: pictures generated from captioned prompts, judged by the
/// scene judge against what each caption asks for. One row per guidance scale; with a reranker,
/// one more per scale for the best of N candidates (and, with `oracle`, the judge's own pick of
/// the same N: the most any reranker could pick); for a model that draws layouts, one per scale
/// for the plain row's layout rendered as a clean scene (what the plan got right, apart from
/// what the painting of it lost).
public struct PromptEvaluation {
    /// A row of the table: what was asked and found, the prompts with every attribute found, time.
    public struct Row {
        public var label: String
        public var score = SceneScore()
        public var complete = 0
        public var seconds = 0.0
    }

    /// Reranked rows: `candidates` pictures per prompt and scale, the one `reranker` scores
    /// highest against `basis` judged; with `oracle`, the judge's own pick of them too.
    public typealias Reranking = (reranker: RerankerModel, basis: RerankBasis, candidates: Int, oracle: Bool)

    public let generator: TextGenerator
    public let scales: [Float]
    /// Prompt i is generated with seed + i at every scale.
    public var seed: UInt64 = 1
    public var options = SamplingOptions()
    public var planGuidance: Float?
    public var partGuidance: Float = 0
    /// How the layouts are chosen for a prompt (nil: the first drawn).
    public var layoutChoice: (String) -> TextGenerator.LayoutChoice? = { _ in nil }
    public var reranking: Reranking?

    public init(generator: TextGenerator, scales: [Float]) {
        self.generator = generator
        self.scales = scales
    }

    /// The empty rows, in the table's order: plain, reranked, the judge's picks, plans.
    public func rows() -> [Row] {
        var rows = scales.map { Row(label: String(format: "%.2f", $0)) }
        if let r = reranking { rows += scales.map { Row(label: String(format: "%.2f+r%d", $0, r.candidates)) } }
        if let r = reranking, r.oracle { rows += scales.map { Row(label: String(format: "%.2f+o%d", $0, r.candidates)) } }
        if generator.prior.network.config.hasLayout { rows += scales.map { Row(label: String(format: "%.2f plan", $0)) } }
        return rows
    }

    /// Generates and judges prompt `index` in every row; returns the pictures judged, the plain
    /// rows' then the reranked rows'.
    public func evaluate(_ record: ShapesDataset.Record, index: Int, into rows: inout [Row]) throws -> [Image] {
        let planRows = generator.prior.network.config.hasLayout ? rows.count - scales.count : nil
        func add(_ row: Int, _ score: SceneScore, since t0: Date) {
            rows[row].seconds += Date().timeIntervalSince(t0)
            rows[row].score.add(score)
            if score.satisfiedTotal == score.requestedTotal { rows[row].complete += 1 }
        }
        func judge(_ row: Int, _ image: Image, since t0: Date) {
            add(row, SceneJudge.score(record.request, SceneJudge.analyse(image)), since: t0)
        }
        func generate(_ count: Int, _ scale: Float) throws -> TextGenerator.Result {
            try generator.generate(prompt: record.caption, count: count, seed: seed &+ UInt64(index), guidance: scale, planGuidance: planGuidance,
                                   partGuidance: partGuidance, options: options, layoutChoice: layoutChoice(record.caption))
        }
        var pictures: [Image] = []
        for (s, scale) in scales.enumerated() {
            let t0 = Date()
            let result = try generate(1, scale)
            let image = result.images[0]
            judge(s, image, since: t0)
            if let planRows, let plan = SceneLayout.scene(result.layouts[0], canvas: image.width) {
                judge(planRows + s, SceneRenderer.render(plan), since: Date())
            }
            pictures.append(image)
        }
        guard let reranking else { return pictures }
        for (s, scale) in scales.enumerated() {
            let t0 = Date()
            let result = try generate(reranking.candidates, scale)
            let best = try generator.ranked(result, by: reranking.reranker, prompt: record.caption, against: reranking.basis).result.images[0]
            judge(scales.count + s, best, since: t0)
            pictures.append(best)
            if reranking.oracle {
                // The judge's own pick among the same candidates (max(by:) keeps the first of equals); timed as the reranked row.
                let scores = result.images.map { SceneJudge.score(record.request, SceneJudge.analyse($0)) }
                add(2 * scales.count + s, scores.max { $0.satisfiedTotal < $1.satisfiedTotal }!, since: t0)
            }
        }
        return pictures
    }
}
