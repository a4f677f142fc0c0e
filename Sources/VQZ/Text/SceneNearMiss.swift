import NN

/// Hard negatives for the reranker: a fresh caption of a scene and its near miss, the same
/// sentence with one of the attributes it states changed. Random pairs of a batch differ in
/// everything, so telling them apart never asks about one shape's kind or one relation; a near
/// miss asks exactly that (Yuksekgonul et al. 2023, "When and why vision-language models
/// behave like bags-of-words": negatives made by editing the caption).
extension SceneCaptioner {
    /// One attribute a caption states, which a near miss changes.
    enum StatedAttribute {
        case color(Int), shape(Int), size(Int), position, relation(Int), background
    }

    /// A caption of `scene` with its `relations` and a near miss of it, each with its request.
    /// Both are written from the same draws of `rng`, so they share every word but the changed
    /// attribute's. A change never makes a held-out colour-shape pair (training must not learn
    /// those as wrong), and only what the caption says is changed (a size it leaves out would
    /// make a true caption).
    public static func captionAndNearMiss(_ scene: ShapeScene, relations: [SceneRequest.Relation], rng: inout RNG)
        -> (caption: String, request: SceneRequest, nearMiss: String, nearMissRequest: SceneRequest) {
        let wording = rng
        let (caption, request) = self.caption(scene, relations: relations, rng: &rng)
        var stated: [StatedAttribute] = []
        for (i, o) in request.objects.enumerated() {
            stated += [.color(i), .shape(i)]
            if o.size != nil { stated.append(.size(i)) }
            if o.position != nil { stated.append(.position) }
        }
        // A relation between two shapes that look the same is true both ways round.
        stated += relations.indices.filter {
            let (a, b) = (request.objects[relations[$0].subject], request.objects[relations[$0].object])
            return a.shape != b.shape || a.color != b.color || a.size != b.size
        }.map { .relation($0) }
        if request.background != nil { stated.append(.background) }
        var (changed, changedRelations) = (scene, relations)
        var tries = 0
        repeat {
            (changed, changedRelations) = change(stated[rng.int(below: stated.count)], of: scene, relations: relations, rng: &rng)
            tries += 1
        } while changed == scene && changedRelations == relations && tries < 16
        var same = wording
        let (nearMiss, nearMissRequest) = self.caption(changed, relations: changedRelations, rng: &same)
        return (caption, request, nearMiss, nearMissRequest)
    }

    /// The scene (and relations) with `attribute` changed to another value; unchanged when the
    /// only other values would make a held-out pair. A background changes to one that looks
    /// plainly different: a plain one to the other lightness or a texture, a texture to the plain
    /// ground of the other lightness (a light checkerboard is arguably a light background, and
    /// the judge does not tell textures apart).
    static func change(_ attribute: StatedAttribute, of scene: ShapeScene, relations: [SceneRequest.Relation],
                       rng: inout RNG) -> (ShapeScene, [SceneRequest.Relation]) {
        var (s, r) = (scene, relations)
        func other<T: Equatable>(_ all: [T], than value: T, allowed: (T) -> Bool) -> T {
            let choices = all.filter { $0 != value && allowed($0) }
            return choices.isEmpty ? value : choices[rng.int(below: choices.count)]
        }
        switch attribute {
        case .color(let i):
            let o = s.objects[i]
            s.objects[i].color = other(ShapeColor.allCases, than: o.color) { !ShapesDataset.isHeldOut($0, o.shape) }
        case .shape(let i):
            let o = s.objects[i]
            s.objects[i].shape = other(ShapeKind.allCases, than: o.shape) { !ShapesDataset.isHeldOut(o.color, $0) }
        case .size(let i):
            s.objects[i].size = s.objects[i].size == .small ? .large : .small
        case .position:
            let here = ScenePosition(x: s.objects[0].x, y: s.objects[0].y, canvas: s.canvas)
            let there = other(ScenePosition.allCases, than: here) { _ in true }
            let third = Double(s.canvas) / 3
            (s.objects[0].x, s.objects[0].y) = ((Double(there.column) + 0.5) * third, (Double(there.row) + 0.5) * third)
        case .relation(let k):
            r[k].relation = r[k].relation.inverse
        case .background:
            let b = s.background, lightness: SceneRequest.Background = b.isLight ? .dark : .light
            let choices: [SceneRequest.Background] = b.kind == .plain ? [lightness, .striped, .checkered, .noisy] : [lightness]
            switch choices[rng.int(below: choices.count)] {
            case .light: s.background = SceneBackground(kind: .plain, level: 200)
            case .dark: s.background = SceneBackground(kind: .plain, level: 60)
            case .striped: s.background = SceneBackground(kind: .striped, level: b.level, contrast: 20)
            case .checkered: s.background = SceneBackground(kind: .checkered, level: b.level, contrast: 20)
            case .noisy: s.background = SceneBackground(kind: .noisy, level: b.level, contrast: 20)
            }
        }
        return (s, r)
    }
}
