import NN

/// Writes a caption for a scene in varied wording, and the request it makes (what the caption
/// says, which is all true of the scene). Words and phrasings come from small synonym lists so a
/// word-level text tokenizer sees varied natural sentences over a closed vocabulary.
public enum SceneCaptioner {
    static let sizeWords: [ShapeSize: [String]] = [.small: ["small", "little"], .large: ["large", "big"]]
    static let shapeWords: [ShapeKind: [String]] = [
        .circle: ["circle", "disc"], .square: ["square"], .triangle: ["triangle"],
        .diamond: ["diamond", "rhombus"], .cross: ["cross", "plus"],
    ]
    static let colorWords: [ShapeColor: [String]] = [
        .red: ["red"], .orange: ["orange"], .yellow: ["yellow"], .green: ["green"], .blue: ["blue"], .purple: ["purple", "violet"],
    ]
    static let relationWords: [SceneRelation: [String]] = [
        .leftOf: ["to the left of", "left of", "on the left of"],
        .rightOf: ["to the right of", "right of", "on the right of"],
        .above: ["above", "over"],
        .below: ["below", "under", "beneath"],
    ]
    static let positionWords: [ScenePosition: [String]] = [
        .topLeft: ["in the top left corner", "at the top left", "in the upper left"],
        .top: ["at the top", "near the top", "in the top middle"],
        .topRight: ["in the top right corner", "at the top right", "in the upper right"],
        .left: ["on the left", "at the left side", "in the middle on the left"],
        .center: ["in the center", "in the middle", "at the centre"],
        .right: ["on the right", "at the right side", "in the middle on the right"],
        .bottomLeft: ["in the bottom left corner", "at the bottom left", "in the lower left"],
        .bottom: ["at the bottom", "near the bottom", "in the bottom middle"],
        .bottomRight: ["in the bottom right corner", "at the bottom right", "in the lower right"],
    ]
    static let backgroundWords: [SceneRequest.Background: [String]] = [
        .light: ["on a light background", "against a light background", "on a pale background"],
        .dark: ["on a dark background", "against a dark background"],
        .striped: ["on a striped background", "against stripes"],
        .checkered: ["on a checkered background", "on a checkerboard"],
        .noisy: ["on a noisy background", "on a mottled background"],
    ]

    static func pick<T>(_ options: [T], _ rng: inout RNG) -> T { options[rng.int(below: options.count)] }

    /// A caption of `scene` whose relations are `relations` (subject, relation, object), with
    /// the request it makes. Sizes, positions (one-shape scenes) and the background are
    /// mentioned at random.
    public static func caption(_ scene: ShapeScene, relations: [SceneRequest.Relation], rng: inout RNG) -> (String, SceneRequest) {
        var request = SceneRequest(objects: scene.objects.map { SceneRequest.Object(shape: $0.shape, color: $0.color) },
                                   relations: relations)
        for i in request.objects.indices where rng.uniform() < 0.75 { request.objects[i].size = scene.objects[i].size }
        var phrases: [String] = []   // indefinite noun phrases, "a small red circle"
        var refs: [String] = []      // definite references, "the red circle"
        for (i, o) in request.objects.enumerated() {
            let color = pick(colorWords[o.color]!, &rng), shape = pick(shapeWords[o.shape]!, &rng)
            let words = (o.size.map { [pick(sizeWords[$0]!, &rng)] } ?? []) + [color, shape]
            phrases.append(article(before: words[0]) + " " + words.joined(separator: " "))
            refs.append("the \(color) \(shape)")
            _ = i
        }
        var text: String
        switch scene.objects.count {
        case 1:
            let np = phrases[0]
            if rng.uniform() < 0.85 {
                let position = ScenePosition(x: scene.objects[0].x, y: scene.objects[0].y, canvas: scene.canvas)
                request.objects[0].position = position
                let p = pick(positionWords[position]!, &rng)
                text = pick(["\(np) \(p)", "there is \(np) \(p)", "\(np) sits \(p)", "a picture of \(np) \(p)", "\(p), \(np)"], &rng)
            } else {
                text = pick([np, "a picture of \(np)", "there is \(np)", "just \(np)"], &rng)
            }
        default:
            let r = relations[0]
            let (a, b) = (r.subject, r.object)
            let rel = pick(relationWords[r.relation]!, &rng)
            text = pick(["\(phrases[a]) \(rel) \(phrases[b])", "\(phrases[a]) is \(rel) \(phrases[b])",
                         "there is \(phrases[a]) \(rel) \(phrases[b])", "\(phrases[b]) with \(phrases[a]) \(rel) it",
                         "\(phrases[a]) and \(phrases[b]), \(refs[a]) \(rel) \(refs[b])"], &rng)
            if relations.count > 1 {
                let r2 = relations[1]
                let rel2 = pick(relationWords[r2.relation]!, &rng)
                text += pick([", and \(phrases[r2.subject]) \(rel2) \(refs[r2.object])",
                              "; \(phrases[r2.subject]) is \(rel2) \(refs[r2.object])",
                              ", with \(phrases[r2.subject]) \(rel2) \(refs[r2.object])"], &rng)
            }
        }
        if rng.uniform() < 0.3 {
            let b = scene.background
            let mention: SceneRequest.Background
            switch b.kind {
            case .plain: mention = b.isLight ? .light : .dark
            case .striped: mention = .striped
            case .checkered: mention = .checkered
            case .noisy: mention = .noisy
            }
            request.background = mention
            text += " " + pick(backgroundWords[mention]!, &rng)
        }
        return (text, request)
    }

    static func article(before word: String) -> String {
        guard let first = word.first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }
}
