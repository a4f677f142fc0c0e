import Generation
import ImageIO
import Models
import NN
import Shapes
import VQZ

/// Images from a text prompt: the prompt's words through the text tokenizer, level-1 token grids
/// sampled from the text-to-image transformer (all candidates in one batch), decoded by the
/// tokenizer. An empty prompt is the empty caption: unconditional generation.
public final class TextGenerator {
    public let codec: Codec
    public let prior: TextPriorModel

    /// The classifier-free guidance scales `vqz generate --prompt` uses unless told, of the picture
    /// and of its layout (for a model that draws one): the best of the bundled model's measured
    /// scales ('vqz eval prompts --guidance', docs/TEXT.md). A plan is best drawn bold, its painting gently.
    public static let defaultGuidance: Float = 2
    public static let defaultPlanGuidance: Float = 3
    /// The layouts drawn per picture (LayoutChoice) unless told, for a model that draws them: the
    /// bundled model's measured best ('vqz eval prompts --plans', docs/TEXT.md).
    public static let defaultPlans = 8

    public init(codec: Codec, prior: TextPriorModel) throws {
        try prior.check(codec.model)
        self.codec = codec
        self.prior = prior
    }

    public struct Result {
        public var images: [Image]
        public var grids: [[Int32]]
        /// Each grid's layout (SceneLayout), drawn before it; empty for a model without one.
        public var layouts: [[Int32]]
        /// The prompt as the model read it: its ids, the words it does not know, the words cut.
        public var prompt: TextTokenizer.Encoded
    }

    /// The picture size the model makes: its token grid times the tokenizer's downsampling.
    public var imageSize: (width: Int, height: Int) {
        let f = codec.model.downsampling
        return (prior.network.config.cols * f, prior.network.config.rows * f)
    }

    /// The layouts drawn per picture unless told: defaultPlans for a model that draws them, else 1.
    public var defaultPlanCount: Int { prior.network.config.hasLayout ? Self.defaultPlans : 1 }

    /// How a model that draws layouts picks each picture's: `candidates` layouts drawn (the layout
    /// positions only, in one batch), and the one `score` rates highest painted. `score` gets every
    /// drawn layout and returns one score each (e.g. RerankerModel.score(prompt:layouts:...)).
    public struct LayoutChoice {
        public var candidates: Int
        public var score: ([[Int32]]) throws -> [Float]
        public init(candidates: Int, score: @escaping ([[Int32]]) throws -> [Float]) {
            self.candidates = candidates
            self.score = score
        }
    }

    /// `count` pictures for `prompt`. Grid i draws from RNG(seed + i); `guidance` is the
    /// classifier-free guidance scale of the picture (1: none, 0: unconditional) and `planGuidance`
    /// that of its layout, for a model that draws one (`guidance` unless given); `partGuidance`
    /// that of each map part, for a model trained with them (0: none). With `layoutChoice`, each
    /// picture is painted from the best of several layouts.
    public func generate(prompt: String, count: Int, seed: UInt64, guidance: Float = 1, planGuidance: Float? = nil,
                         partGuidance: Float = 0, options: SamplingOptions = SamplingOptions(),
                         layoutChoice: LayoutChoice? = nil) throws -> Result {
        guard (1...256).contains(count) else { throw GenerationError.badSize("count \(count) is out of range (1...256)") }
        for scale in [guidance, planGuidance ?? guidance, partGuidance] where !(scale.isFinite && (0...100).contains(scale)) {
            throw GenerationError.badSize("guidance \(scale) is out of range (0...100)")
        }
        let encoded = prior.text.encode(prompt)
        var rngs = (0..<count).map { RNG(seed: seed &+ UInt64($0)) }
        let text = (0..<count).flatMap { _ in encoded.ids }
        let config = prior.network.config
        let (rows, cols, p) = (config.rows, config.cols, config.layoutLength), t = rows * cols
        let rule: TextImageTransformer.LayoutRule? = config.hasLayout ? SceneLayout.allowed : nil
        var chosen: [Int32]?
        if let choice = layoutChoice, config.hasLayout, choice.candidates > 1 {
            guard choice.candidates <= 256 else { throw GenerationError.badSize("\(choice.candidates) layouts per picture is out of range (1...256)") }
            let m = choice.candidates
            // Picture i's layouts draw from their own generators, so painting i still draws from RNG(seed + i).
            var planRngs = (0..<(count * m)).map { RNG(seed: (seed &+ UInt64($0 / m)) ^ (0x6c61_796f_7574 &+ UInt64($0 % m) &* 0x9E37_79B9_7F4A_7C15)) }
            let drawn = prior.network.sample(text: (0..<(count * m)).flatMap { _ in encoded.ids }, batch: count * m, guidance: guidance,
                                             layoutGuidance: planGuidance, options: options, layoutRule: rule, paint: false, rngs: &planRngs).layouts
            let plans = (0..<(count * m)).map { Array(drawn[($0 * p)..<(($0 + 1) * p)]) }
            let scores = try choice.score(plans)
            guard scores.count == plans.count else { throw GenerationError.badSize("\(scores.count) scores for \(plans.count) layouts") }
            // The first of equal scores, as the reranker's order keeps.
            chosen = (0..<count).flatMap { i in plans[((i * m)..<((i + 1) * m)).max { scores[$0] < scores[$1] }!] }
        }
        let map: TextImageTransformer.LayoutMap? = SceneLayout.MapStyle(vocabularies: config.mapVocabularies).map { style in
            { SceneLayout.map($0, rows: rows, cols: cols, style: style) }
        }
        let (layouts, tokens) = prior.network.sample(text: text, batch: count, guidance: guidance, layoutGuidance: planGuidance,
                                                     partGuidance: partGuidance, options: options, layoutRule: rule, layoutMap: map,
                                                     layouts: chosen, rngs: &rngs)
        let (w, h) = imageSize
        let grids = (0..<count).map { Array(tokens[($0 * t)..<(($0 + 1) * t)]) }
        let images = grids.map { codec.picture(level1: $0, rows: rows, cols: cols, width: w, height: h) }
        return Result(images: images, grids: grids, layouts: (0..<count).map { Array(layouts[($0 * p)..<(($0 + 1) * p)]) }, prompt: encoded)
    }
}
