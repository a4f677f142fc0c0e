import Models

/// A scene's plan in a few ids: what a text model with a layout (TextImageConfig.layoutLength)
/// draws after the caption and before the picture, so that how many shapes, which, how large and
/// where is settled before the first image token, and the image tokens only paint it. Learned from
/// the scenes the dataset records (what the renderer drew), never from the judge.
///
///     ground, then per shape in reading order: kind, colour, size, column, row; then END
///
/// Columns and rows are eighths of the canvas (two token columns of a 16 x 16 grid); a layout is
/// padded with END to `length`.
public enum SceneLayout {
    public static let maxShapes = 3
    public static let bins = 8
    /// The fields of one shape, in order.
    static let shapeFields = 5
    public static let length = 1 + maxShapes * shapeFields + 1

    static let end: Int32 = 0
    static let grounds = ids(after: 1, count: BackgroundKind.allCases.count * 2)
    static let kinds = ids(after: grounds.upperBound, count: ShapeKind.allCases.count)
    static let colours = ids(after: kinds.upperBound, count: ShapeColor.allCases.count)
    static let sizes = ids(after: colours.upperBound, count: ShapeSize.allCases.count)
    static let columns = ids(after: sizes.upperBound, count: bins)
    static let rows = ids(after: columns.upperBound, count: bins)
    public static let vocabulary = Int(rows.upperBound)

    private static func ids(after start: Int32, count: Int) -> Range<Int32> { start..<(start + Int32(count)) }

    /// The bin of a coordinate along a canvas of side `canvas`.
    static func bin(_ x: Double, canvas: Int) -> Int { min(bins - 1, max(0, Int(x / Double(canvas) * Double(bins)))) }

    /// The scene's layout: `length` ids. Shapes beyond `maxShapes` are left out.
    public static func encode(_ scene: ShapeScene) -> [Int32] {
        let ground = BackgroundKind.allCases.firstIndex(of: scene.background.kind)! * 2 + (scene.background.isLight ? 1 : 0)
        var ids = [grounds.lowerBound + Int32(ground)]
        let placed = scene.objects.map { (object: $0, column: bin($0.x, canvas: scene.canvas), row: bin($0.y, canvas: scene.canvas)) }
        // Reading order, as the image tokens are drawn.
        let ordered = placed.sorted { ($0.row, $0.column, $0.object.y, $0.object.x) < ($1.row, $1.column, $1.object.y, $1.object.x) }
        for (object, column, row) in ordered.prefix(maxShapes) {
            ids += [kinds.lowerBound + Int32(ShapeKind.allCases.firstIndex(of: object.shape)!),
                    colours.lowerBound + Int32(ShapeColor.allCases.firstIndex(of: object.color)!),
                    sizes.lowerBound + Int32(ShapeSize.allCases.firstIndex(of: object.size)!),
                    columns.lowerBound + Int32(column), rows.lowerBound + Int32(row)]
        }
        return ids + [Int32](repeating: end, count: length - ids.count)
    }

    /// The ids that may come at `position` after `before`: a ground first, then whole shapes, at
    /// least one, ended by END and padded with it. The sampler's TextImageTransformer.LayoutRule.
    public static func allowed(position: Int, before: ArraySlice<Int32>) -> [Bool] {
        var allowed = [Bool](repeating: false, count: vocabulary)
        func allow(_ r: Range<Int32>) { for id in r { allowed[Int(id)] = true } }
        if position == 0 {
            allow(grounds)
        } else if before.contains(end) || position == length - 1 {
            allowed[Int(end)] = true
        } else {
            let field = (position - 1) % shapeFields
            allow([kinds, colours, sizes, columns, rows][field])
            if field == 0 && position > 1 { allowed[Int(end)] = true }
        }
        return allowed
    }

    /// A layout read back: its ground and its shapes, or nil when it does not start with a ground.
    /// Reading stops at the first field out of place (a sampled layout obeys `allowed`, so has none).
    public static func read(_ layout: [Int32]) -> (ground: BackgroundKind, light: Bool,
                                                   shapes: [(shape: ShapeKind, color: ShapeColor, size: ShapeSize, column: Int, row: Int)])? {
        guard let first = layout.first, grounds.contains(first) else { return nil }
        let g = Int(first - grounds.lowerBound)
        var shapes: [(shape: ShapeKind, color: ShapeColor, size: ShapeSize, column: Int, row: Int)] = []
        var i = 1
        while i + shapeFields <= layout.count {
            let ids = Array(layout[i..<(i + shapeFields)])
            let fields = [kinds, colours, sizes, columns, rows]
            guard zip(ids, fields).allSatisfy({ $1.contains($0) }) else { break }
            let f = zip(ids, fields).map { Int($0 - $1.lowerBound) }
            shapes.append((ShapeKind.allCases[f[0]], ShapeColor.allCases[f[1]], ShapeSize.allCases[f[2]], f[3], f[4]))
            i += shapeFields
        }
        return (BackgroundKind.allCases[g / 2], g % 2 == 1, shapes)
    }

    /// The scene a layout describes, each shape centred in its cell at its size: what the plan
    /// alone shows, so that the judge can score the plan apart from the painting of it.
    public static func scene(_ layout: [Int32], canvas: Int) -> ShapeScene? {
        guard let plan = read(layout) else { return nil }
        let cell = Double(canvas) / Double(bins)
        let ground = SceneBackground(kind: plan.ground, level: plan.light ? 200 : 60, contrast: plan.ground.isTextured ? 24 : 0, period: 12)
        return ShapeScene(canvas: canvas, background: ground, objects: plan.shapes.map {
            SceneObject(shape: $0.shape, color: $0.color, size: $0.size, x: (Double($0.column) + 0.5) * cell,
                        y: (Double($0.row) + 0.5) * cell, extent: $0.size.extent(canvas: canvas))
        })
    }

    /// Cells either side of a shape's centre its map spells out: the largest shape's half extent
    /// (3.4 cells of a 16-cell grid) and the cell a placed shape may sit off its bin's centre.
    static let mapReach = 5
    /// The map's channels: each cell's shape kind and offset from the shape's centre, its colour,
    /// its size (0 in each: ground). Kind and colour are separate channels so that a kind and a
    /// colour never seen together still read as the two seen apart.
    public static let mapVocabularies = MapStyle.bins.vocabularies

    /// The parts of the map a model trained with `vqz train text --map-parts` also reads alone with
    /// the empty caption: the shapes' kinds and their colours, each with their sizes (which say how
    /// far a shape reaches). Composed when sampling, they paint a kind in a colour never seen on it.
    public static let mapParts = [[0, 2], [1, 2]]

    /// A layout's map on a rows x cols token grid: [3, rows * cols] ids (mapVocabularies). A cell
    /// belongs to a shape when its centre lies within the shape's half extent plus one cell of the
    /// shape's planned centre (its bin's centre), so the map covers the shape wherever in its bin
    /// the picture puts it; a later shape's cells overwrite an earlier one's.
    public static func map(_ layout: [Int32], rows: Int, cols: Int) -> [Int32] {
        let t = rows * cols
        var map = [Int32](repeating: 0, count: 3 * t)
        guard let plan = read(layout) else { return map }
        let span = 2 * mapReach
        for shape in plan.shapes {
            // In cells: the canvas is `cols` cells wide; ShapeSize extents are for 128 pixels.
            let cx = (Double(shape.column) + 0.5) * Double(cols) / Double(bins), cy = (Double(shape.row) + 0.5) * Double(rows) / Double(bins)
            let reach = shape.size.extent(canvas: 128) / 128 * Double(cols) + 1
            let kind = ShapeKind.allCases.firstIndex(of: shape.shape)!
            for r in 0..<rows {
                for c in 0..<cols {
                    let dx = Double(c) + 0.5 - cx, dy = Double(r) + 0.5 - cy
                    guard abs(dx) <= reach && abs(dy) <= reach else { continue }
                    let ox = min(mapReach - 1, max(-mapReach, Int(dx.rounded(.down)))), oy = min(mapReach - 1, max(-mapReach, Int(dy.rounded(.down))))
                    let i = r * cols + c
                    map[i] = Int32(1 + (kind * span + oy + mapReach) * span + ox + mapReach)
                    map[t + i] = Int32(1 + ShapeColor.allCases.firstIndex(of: shape.color)!)
                    map[2 * t + i] = Int32(1 + ShapeSize.allCases.firstIndex(of: shape.size)!)
                }
            }
        }
        return map
    }

    /// How a map places its shapes on the grid.
    /// - `bins`: around the centre of each shape's bin, reaching a cell beyond its
    ///   half extent so that it covers the shape wherever in its bin the picture puts it; offsets
    ///   from the bin's centre in cells. Training and sampling both read it off the layout.
    /// - `placed`: over the cells the shape's box touches, offsets from its centre in half cells,
    ///   the centre being where the shape is: in training the recorded scene's, when sampling the
    ///   plan's (its bin's centre, as `scene(_:canvas:)` draws it). The painter is then told where
    ///   each shape's edges fall instead of having to settle it while it paints.
    public enum MapStyle: String, CaseIterable, Sendable {
        case bins, placed

        /// Half-cell offsets either side of a placed shape's centre: a large shape's half extent
        /// (3.4 cells) and the half cell its box may touch, rounded up.
        static let placedReach = 8

        /// The ids of each channel: kind with offset, colour, size (0 in each: ground).
        public var vocabularies: [Int] {
            let span = self == .bins ? 2 * mapReach : 2 * Self.placedReach
            return [1 + ShapeKind.allCases.count * span * span, 1 + ShapeColor.allCases.count, 1 + ShapeSize.allCases.count]
        }

        /// The style whose channels have these vocabularies.
        public init?(vocabularies: [Int]) {
            guard let style = Self.allCases.first(where: { $0.vocabularies == vocabularies }) else { return nil }
            self = style
        }

        /// The `bins` kind id nearest in meaning to a `placed` one (the same kind, the cell holding
        /// the half-cell offset): where a placed map's kind table starts when a bins map's is
        /// trained already.
        public static func binsKind(ofPlaced id: Int) -> Int {
            guard id > 0 else { return 0 }
            let span = 2 * placedReach, cells = 2 * mapReach
            let kind = (id - 1) / (span * span), oy = (id - 1) / span % span - placedReach, ox = (id - 1) % span - placedReach
            func cell(_ halves: Int) -> Int { Int((Double(halves) / 2).rounded(.down)) + mapReach }
            return 1 + (kind * cells + cell(oy)) * cells + cell(ox)
        }
    }

    /// `network`, which reads a `bins` map, reading a `placed` one: each placed kind id starts as
    /// the bins id of the same kind and cell (MapStyle.binsKind), every other weight kept.
    public static func placingMap(of network: TextImageTransformer) -> TextImageTransformer {
        precondition(MapStyle(vocabularies: network.config.mapVocabularies) == .bins, "placingMap(of:) needs a bins map")
        return network.withMapChannel(0, vocabulary: MapStyle.placed.vocabularies[0], from: MapStyle.binsKind(ofPlaced:))
    }

    /// The map a picture is trained with: its layout's (`bins`) or its scene's as drawn (`placed`).
    public static func trainingMap(_ scene: ShapeScene, layout: [Int32], rows: Int, cols: Int, style: MapStyle) -> [Int32] {
        style == .bins ? map(layout, rows: rows, cols: cols) : placedMap(scene, rows: rows, cols: cols)
    }

    /// The map a sampled layout is painted with.
    public static func map(_ layout: [Int32], rows: Int, cols: Int, style: MapStyle) -> [Int32] {
        guard style == .placed else { return map(layout, rows: rows, cols: cols) }
        guard let planned = scene(layout, canvas: 128) else { return [Int32](repeating: 0, count: 3 * rows * cols) }
        return placedMap(planned, rows: rows, cols: cols)
    }

    /// A scene's `placed` map on a rows x cols token grid: [3, rows * cols] ids. A cell belongs to
    /// a shape when it touches the shape's box widened by the pixel its edge may spill into (the
    /// cells of ShapeScene.shapeCells); a later shape's cells overwrite an earlier one's.
    public static func placedMap(_ scene: ShapeScene, rows: Int, cols: Int) -> [Int32] {
        let t = rows * cols, reach = MapStyle.placedReach, span = 2 * reach
        var map = [Int32](repeating: 0, count: 3 * t)
        let cellW = Double(scene.canvas) / Double(cols), cellH = Double(scene.canvas) / Double(rows)
        for o in scene.objects {
            let kind = ShapeKind.allCases.firstIndex(of: o.shape)!
            let box = ShapeScene(canvas: scene.canvas, background: scene.background, objects: [o]).shapeCells(rows: rows, cols: cols)
            for i in 0..<t where box[i] {
                let (r, c) = (i / cols, i % cols)
                func halves(_ d: Double) -> Int { min(reach - 1, max(-reach, Int((2 * d).rounded(.down)))) }
                let ox = halves(((Double(c) + 0.5) * cellW - o.x) / cellW), oy = halves(((Double(r) + 0.5) * cellH - o.y) / cellH)
                map[i] = Int32(1 + (kind * span + oy + reach) * span + ox + reach)
                map[t + i] = Int32(1 + ShapeColor.allCases.firstIndex(of: o.color)!)
                map[2 * t + i] = Int32(1 + ShapeSize.allCases.firstIndex(of: o.size)!)
            }
        }
        return map
    }

    /// A layout in words, e.g. "light checkered ground; large blue triangle at column 5, row 2",
    /// for `vqz generate -v`.
    public static func describe(_ layout: [Int32]) -> String {
        guard let plan = read(layout) else { return "no layout" }
        return (["\(plan.light ? "light" : "dark") \(plan.ground.rawValue) ground"] + plan.shapes.map {
            "\($0.size.rawValue) \($0.color.rawValue) \($0.shape.rawValue) at column \($0.column + 1), row \($0.row + 1) of \(bins)"
        }).joined(separator: "; ")
    }
}
