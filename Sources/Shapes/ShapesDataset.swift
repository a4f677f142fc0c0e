import NN

/// The captioned shapes of `vqz dataset shapes`: random scenes, their captions, and the split
/// that keeps some colour-shape combinations out of training entirely (docs/TEXT.md).
public enum ShapesDataset {
    public enum Split: String, Codable, CaseIterable, Sendable {
        /// Never holds a held-out combination.
        case train
        /// Every scene holds at least one held-out combination: composition that training never saw.
        case heldout
    }

    /// Colour-shape pairs that no training scene contains: each colour and each shape is seen in
    /// training, with other partners.
    public static let heldOutPairs: [(color: ShapeColor, shape: ShapeKind)] = [
        (.green, .triangle), (.purple, .square), (.yellow, .circle), (.orange, .cross),
    ]

    public static func isHeldOut(_ color: ShapeColor, _ shape: ShapeKind) -> Bool {
        heldOutPairs.contains { $0.color == color && $0.shape == shape }
    }

    /// One line of captions.jsonl.
    public struct Record: Codable, Equatable, Sendable {
        public var image: String
        public var caption: String
        public var split: Split
        public var request: SceneRequest
        public var scene: ShapeScene

        public init(image: String, caption: String, split: Split, request: SceneRequest, scene: ShapeScene) {
            self.image = image
            self.caption = caption
            self.split = split
            self.request = request
            self.scene = scene
        }
    }

    public static let captionsFile = "captions.jsonl"

    /// The image file name of record `index`.
    public static func imageName(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".png"
    }

    /// Record `index` of the split drawn with `seed`: a function of the three alone, so a larger
    /// --count extends a dataset without changing its first records. With `warp` above 0 each
    /// shape's outline wobbles by up to that share of its half extent (`ShapeWarp`); the scene and
    /// caption are the unwarped record's, the warps drawn from a stream of their own.
    public static func record(index: Int, seed: UInt64, split: Split, canvas: Int = 128, warp: Double = 0) -> Record {
        let stream = (seed &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03) ^ (split == .train ? 0 : 0x5851_F42D_4C95_7F2D)
        var rng = RNG(seed: stream)
        var (scene, relations) = self.scene(split: split, canvas: canvas, rng: &rng)
        let (caption, request) = SceneCaptioner.caption(scene, relations: relations, rng: &rng)
        if warp > 0 {
            var warpRNG = RNG(seed: stream ^ 0x7A3D_C0DE_5EED_0001)
            scene.warps = scene.objects.map { _ in ShapeWarp.random(strength: warp, rng: &warpRNG) }
        }
        return Record(image: imageName(index), caption: caption, split: split, request: request, scene: scene)
    }

    /// A random scene of the split and the relations its caption will state.
    static func scene(split: Split, canvas s: Int, rng: inout RNG) -> (ShapeScene, [SceneRequest.Relation]) {
        while true {
            let u = rng.uniform()
            let n = u < 0.3 ? 1 : u < 0.75 ? 2 : 3
            var kinds: [(ShapeKind, ShapeColor, ShapeSize)] = []
            let heldOutSlot = split == .heldout ? rng.int(below: n) : -1
            for i in 0..<n {
                let size = ShapeSize.allCases[rng.int(below: 2)]
                if i == heldOutSlot {
                    let pair = heldOutPairs[rng.int(below: heldOutPairs.count)]
                    kinds.append((pair.shape, pair.color, size))
                    continue
                }
                var shape: ShapeKind, color: ShapeColor
                repeat {
                    shape = ShapeKind.allCases[rng.int(below: ShapeKind.allCases.count)]
                    color = ShapeColor.allCases[rng.int(below: ShapeColor.allCases.count)]
                } while split == .train && isHeldOut(color, shape)
                kinds.append((shape, color, size))
            }
            var relations: [SceneRequest.Relation] = []
            if n >= 2 { relations.append(.init(subject: 0, relation: SceneRelation.allCases[rng.int(below: 4)], object: 1)) }
            if n == 3 { relations.append(.init(subject: 2, relation: SceneRelation.allCases[rng.int(below: 4)], object: rng.int(below: 2))) }
            let extents = kinds.map { $0.2.extent(canvas: s) }
            guard let centres = place(extents: extents, relations: relations, canvas: s, rng: &rng) else { continue }
            let objects = (0..<n).map { i in
                SceneObject(shape: kinds[i].0, color: kinds[i].1, size: kinds[i].2, x: centres[i].x, y: centres[i].y, extent: extents[i])
            }
            let tints = (0..<n).map { _ in (0..<3).map { _ in rng.int(below: 25) - 12 } }
            return (ShapeScene(canvas: s, background: background(rng: &rng), objects: objects, tints: tints), relations)
        }
    }

    /// Centres for shapes of these extents: inside the canvas, apart, each relation clear (the
    /// boxes separated along its axis, the offset across it at most 0.6 of the offset along it).
    /// A single shape sits near the centre of a random cell of the 3 x 3 grid.
    static func place(extents: [Double], relations: [SceneRequest.Relation], canvas s: Int, rng: inout RNG) -> [(x: Double, y: Double)]? {
        let margin = 2.0
        func clamp(_ v: Double, _ e: Double) -> Double { min(Double(s) - e - margin, max(e + margin, v)) }
        if extents.count == 1 {
            let cell = ScenePosition.allCases[rng.int(below: 9)]
            let third = Double(s) / 3
            let e = extents[0]
            let x = clamp((Double(cell.column) + 0.5) * third + Double(rng.int(below: 9) - 4), e)
            let y = clamp((Double(cell.row) + 0.5) * third + Double(rng.int(below: 9) - 4), e)
            return [((x * 2).rounded() / 2, (y * 2).rounded() / 2)]
        }
        for _ in 0..<500 {
            // The object of the first relation anywhere, each subject at a random clear offset
            // from its object; then the whole is checked.
            func anywhere(_ e: Double) -> (x: Double, y: Double) {
                let span = max(1, Int(Double(s) - 2 * (e + margin)))
                return (e + margin + Double(rng.int(below: span)), e + margin + Double(rng.int(below: span)))
            }
            var c = extents.map(anywhere)
            for r in relations {
                let o = c[r.object], sep = extents[r.subject] + extents[r.object] + 4
                let room = Double(s) - 2 * margin - extents[r.subject] - extents[r.object] - sep
                let along = sep + Double(rng.int(below: max(1, Int(room)))), across = (Double(rng.uniform()) * 1.2 - 0.6) * along
                switch r.relation {
                case .leftOf: c[r.subject] = (o.x - along, o.y + across)
                case .rightOf: c[r.subject] = (o.x + along, o.y + across)
                case .above: c[r.subject] = (o.x + across, o.y - along)
                case .below: c[r.subject] = (o.x + across, o.y + along)
                }
            }
            if zip(c, extents).contains(where: { p, e in p.x < e + margin || p.y < e + margin || p.x > Double(s) - e - margin || p.y > Double(s) - e - margin }) {
                continue
            }
            var ok = true
            for i in 0..<c.count {
                for j in (i + 1)..<c.count {
                    let gap = extents[i] + extents[j] + 6
                    if abs(c[i].x - c[j].x) < gap && abs(c[i].y - c[j].y) < gap { ok = false }
                }
            }
            for r in relations where ok {
                let a = c[r.subject], b = c[r.object], sep = extents[r.subject] + extents[r.object] + 4
                let (along, across): (Double, Double)
                switch r.relation {
                case .leftOf: (along, across) = (b.x - a.x, abs(b.y - a.y))
                case .rightOf: (along, across) = (a.x - b.x, abs(b.y - a.y))
                case .above: (along, across) = (b.y - a.y, abs(b.x - a.x))
                case .below: (along, across) = (a.y - b.y, abs(b.x - a.x))
                }
                if along < sep || across > 0.6 * along { ok = false }
            }
            if ok { return c.map { (($0.x * 2).rounded() / 2, ($0.y * 2).rounded() / 2) } }
        }
        return nil
    }

    static func background(rng: inout RNG) -> SceneBackground {
        let u = rng.uniform()
        if u < 0.5 {
            let level = rng.uniform() < 0.5 ? 40 + rng.int(below: 51) : 170 + rng.int(below: 66)
            return SceneBackground(kind: .plain, level: level)
        }
        let kind: BackgroundKind = u < 0.667 ? .striped : u < 0.833 ? .checkered : .noisy
        return SceneBackground(kind: kind, level: 70 + rng.int(below: 121), contrast: 14 + rng.int(below: 15),
                               period: 2 * (3 + rng.int(below: 6)), orientation: rng.int(below: 4))
    }
}

import Foundation

extension ShapesDataset {
    /// A record as one line of JSON (keys sorted, so a seed gives the same bytes on every run).
    public static func jsonLine(_ record: Record) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(record), as: UTF8.self)
    }

    /// The records of a captions.jsonl file's text; a bad line is an error that names it.
    public static func records(jsonl text: String, name: String = captionsFile) throws -> [Record] {
        let decoder = JSONDecoder()
        var out: [Record] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                out.append(try decoder.decode(Record.self, from: Data(trimmed.utf8)))
            } catch {
                throw DatasetError.badRecord(file: name, line: n + 1)
            }
        }
        return out
    }

    /// The records of DIR/captions.jsonl.
    public static func records(folder: String) throws -> [Record] {
        let path = (folder as NSString).appendingPathComponent(captionsFile)
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError.noCaptions(path) }
        return try records(jsonl: String(decoding: data, as: UTF8.self), name: path)
    }
}

/// What reading a captioned dataset refuses.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case noCaptions(String)
    case badRecord(file: String, line: Int)
    case unreadableImage(String)
    case empty(String)
    case noPictureNearMiss(String)

    public var description: String {
        switch self {
        case .noCaptions(let p): return "\(p): no captions file (make one with 'vqz dataset shapes')"
        case .badRecord(let f, let l): return "\(f): line \(l) is not a caption record"
        case .unreadableImage(let p): return "\(p): cannot read the image"
        case .empty(let p): return "\(p): no records"
        case .noPictureNearMiss(let p): return "\(p): no picture near miss of its scene fits the canvas"
        }
    }
}
