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

/// Hard negatives on the picture side: the scene redrawn with one thing changed that every
/// caption of it states, so that the picture no longer fits any of them. Reranking asks which of
/// several pictures fits one caption best; random pictures of a batch differ from a caption's own
/// in everything, a picture near miss in one shape's colour or kind, in which of two related
/// shapes stands where, or in how many shapes there are. Sizes, a lone shape's position and the
/// background are left alone: a caption may not state them, and then the changed picture would
/// still fit it.
extension ShapeScene {
    /// This scene with one stated attribute changed; never a held-out colour-shape pair (training
    /// must not see those drawn), and never shapes that overlap or leave the canvas. Nil only for
    /// a scene no change fits (none the dataset command makes).
    public func pictureNearMiss(relations: [SceneRequest.Relation], rng: inout RNG) -> ShapeScene? {
        enum Change { case color(Int), shape(Int), relation(Int), count }
        var changes: [Change] = objects.indices.flatMap { [.color($0), .shape($0)] }
        // Two shapes that look the same are not told apart by swapping them.
        changes += relations.indices.filter {
            let (a, b) = (objects[relations[$0].subject], objects[relations[$0].object])
            return a.shape != b.shape || a.color != b.color || a.size != b.size
        }.map { .relation($0) }
        changes.append(.count)
        for _ in 0..<64 {
            var s = self
            switch changes[rng.int(below: changes.count)] {
            case .color(let i): s = SceneCaptioner.change(.color(i), of: self, relations: relations, rng: &rng).0
            case .shape(let i): s = SceneCaptioner.change(.shape(i), of: self, relations: relations, rng: &rng).0
            case .relation(let k):
                let (a, b) = (relations[k].subject, relations[k].object)
                (s.objects[a].x, s.objects[a].y, s.objects[b].x, s.objects[b].y) = (objects[b].x, objects[b].y, objects[a].x, objects[a].y)
            case .count:
                if objects.count >= 2 && (objects.count == 3 || rng.uniform() < 0.5) {
                    s.removeObject(at: rng.int(below: objects.count))
                } else if let added = addingObject(rng: &rng) {
                    s = added
                }
            }
            if s != self && s.shapesFit { return s }
        }
        return nil
    }

    /// Whether every shape's box lies inside the canvas and no two boxes overlap.
    public var shapesFit: Bool {
        let c = Double(canvas)
        for (i, o) in objects.enumerated() {
            guard o.x - o.extent >= 0, o.y - o.extent >= 0, o.x + o.extent <= c, o.y + o.extent <= c else { return false }
            for p in objects[..<i] where abs(o.x - p.x) < o.extent + p.extent && abs(o.y - p.y) < o.extent + p.extent { return false }
        }
        return true
    }

    mutating func removeObject(at i: Int) {
        objects.remove(at: i)
        tints.remove(at: i)
        warps?.remove(at: i)
    }

    /// This scene with one more shape of a random training kind, colour and size where it fits,
    /// or nil when 32 tries find no room.
    func addingObject(rng: inout RNG) -> ShapeScene? {
        var shape: ShapeKind, color: ShapeColor
        repeat {
            shape = ShapeKind.allCases[rng.int(below: ShapeKind.allCases.count)]
            color = ShapeColor.allCases[rng.int(below: ShapeColor.allCases.count)]
        } while ShapesDataset.isHeldOut(color, shape)
        let size = ShapeSize.allCases[rng.int(below: 2)], e = size.extent(canvas: canvas)
        for _ in 0..<32 {
            var s = self
            let x = e + Double(rng.uniform()) * (Double(canvas) - 2 * e), y = e + Double(rng.uniform()) * (Double(canvas) - 2 * e)
            s.objects.append(SceneObject(shape: shape, color: color, size: size, x: x, y: y, extent: e))
            s.tints.append((0..<3).map { _ in rng.int(below: 25) - 12 })
            if let warps {
                s.warps?.append(ShapeWarp.random(strength: warps.flatMap(\.amplitudes).max() ?? 0, rng: &rng))
            }
            if s.shapesFit { return s }
        }
        return nil
    }
}
