/// The captioned-shapes domain of text-prompted generation (docs/TEXT.md): scenes of one to
/// three flat shapes on a plain or textured background, which the project renders itself and
/// judges exactly. Sizes and positions are in pixels of a square canvas.

import Foundation
import NN

public enum ShapeKind: String, Codable, CaseIterable, Sendable {
    case circle, square, triangle, diamond, cross

    /// Whether the point (u, v), in units of the shape's half-extent around its centre
    /// (the bounding box is [-1, 1] x [-1, 1]; v grows downwards), lies inside the shape.
    public func contains(u: Double, v: Double) -> Bool {
        switch self {
        case .circle: return u * u + v * v <= 1
        case .square: return abs(u) <= 1 && abs(v) <= 1
        case .triangle: return v <= 1 && abs(u) <= (v + 1) / 2       // apex up, base at the bottom
        case .diamond: return abs(u) + abs(v) <= 1
        case .cross: return (abs(u) <= 1.0 / 3 && abs(v) <= 1) || (abs(v) <= 1.0 / 3 && abs(u) <= 1)
        }
    }
}

public enum ShapeColor: String, Codable, CaseIterable, Sendable {
    case red, orange, yellow, green, blue, purple

    /// The nominal sRGB colour (the renderer jitters it a little).
    public var rgb: (r: Int, g: Int, b: Int) {
        switch self {
        case .red: return (215, 40, 40)
        case .orange: return (245, 130, 25)
        case .yellow: return (240, 205, 35)
        case .green: return (40, 165, 60)
        case .blue: return (45, 85, 215)
        case .purple: return (145, 60, 185)
        }
    }

    /// The nominal hue in degrees, what the judge classifies by.
    public var hue: Double { rgbHue(Double(rgb.r), Double(rgb.g), Double(rgb.b)) }
}

public enum ShapeSize: String, Codable, CaseIterable, Sendable {
    case small, large

    /// Half the side of the bounding box, in pixels of a 128-pixel canvas (scaled with the canvas).
    public func extent(canvas: Int) -> Double {
        let base: Double = self == .small ? 18 : 27
        return base * Double(canvas) / 128
    }

    /// The judge's boundary between the two: halfway between their extents.
    public static func threshold(canvas: Int) -> Double {
        (ShapeSize.small.extent(canvas: canvas) + ShapeSize.large.extent(canvas: canvas)) / 2
    }
}

/// Where a shape sits on a 3 x 3 grid of the canvas (one-shape captions name it).
public enum ScenePosition: String, Codable, CaseIterable, Sendable {
    case topLeft = "top left", top, topRight = "top right"
    case left, center, right
    case bottomLeft = "bottom left", bottom, bottomRight = "bottom right"

    public init(column: Int, row: Int) { self = ScenePosition.allCases[row * 3 + column] }
    public var column: Int { ScenePosition.allCases.firstIndex(of: self)! % 3 }
    public var row: Int { ScenePosition.allCases.firstIndex(of: self)! / 3 }

    /// The cell of a point of a canvas of side `canvas`.
    public init(x: Double, y: Double, canvas: Int) {
        let third = Double(canvas) / 3
        self.init(column: min(2, max(0, Int(x / third))), row: min(2, max(0, Int(y / third))))
    }
}

/// A spatial relation between two shapes, judged on their centres.
public enum SceneRelation: String, Codable, CaseIterable, Sendable {
    case leftOf = "left of", rightOf = "right of", above, below

    public var inverse: SceneRelation {
        switch self {
        case .leftOf: return .rightOf
        case .rightOf: return .leftOf
        case .above: return .below
        case .below: return .above
        }
    }

    /// Whether a shape centred at a holds this relation to one centred at b: the centres differ
    /// by more than `margin` pixels along the relation's axis.
    public func holds(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), margin: Double = 4) -> Bool {
        switch self {
        case .leftOf: return a.x < b.x - margin
        case .rightOf: return a.x > b.x + margin
        case .above: return a.y < b.y - margin
        case .below: return a.y > b.y + margin
        }
    }
}

public enum BackgroundKind: String, Codable, CaseIterable, Sendable {
    case plain, striped, checkered, noisy
    public var isTextured: Bool { self != .plain }
}

/// A gray background: plain, or a low-contrast texture around a mean level.
public struct SceneBackground: Codable, Equatable, Sendable {
    public var kind: BackgroundKind
    /// Mean gray level 0...255.
    public var level: Int
    /// Texture contrast (half the difference between its two grays), 0 for plain.
    public var contrast: Int
    /// Stripe or checker period in pixels; the seed of the noise.
    public var period: Int
    /// Stripes: 0 horizontal, 1 vertical, 2 and 3 the diagonals.
    public var orientation: Int

    public init(kind: BackgroundKind, level: Int, contrast: Int = 0, period: Int = 8, orientation: Int = 0) {
        self.kind = kind
        self.level = level
        self.contrast = contrast
        self.period = period
        self.orientation = orientation
    }

    public var isLight: Bool { level >= 128 }
}

/// One shape of a scene.
public struct SceneObject: Codable, Equatable, Sendable {
    public var shape: ShapeKind
    public var color: ShapeColor
    public var size: ShapeSize
    /// Centre, in pixels.
    public var x: Double
    public var y: Double
    /// Half the side of the bounding box, in pixels.
    public var extent: Double

    public init(shape: ShapeKind, color: ShapeColor, size: ShapeSize, x: Double, y: Double, extent: Double) {
        self.shape = shape
        self.color = color
        self.size = size
        self.x = x
        self.y = y
        self.extent = extent
    }

    public var position: (x: Double, y: Double) { (x, y) }
}

/// A scene: its canvas, background and shapes (drawn in order; they never overlap).
public struct ShapeScene: Codable, Equatable, Sendable {
    public var canvas: Int
    public var background: SceneBackground
    public var objects: [SceneObject]
    /// The per-pixel colour jitter of each object, drawn with the scene (so rendering is a pure function).
    public var tints: [[Int]]
    /// Each object's outline distortion, when the scene has them (`vqz dataset shapes --warp`).
    public var warps: [ShapeWarp]?

    public init(canvas: Int, background: SceneBackground, objects: [SceneObject], tints: [[Int]]? = nil, warps: [ShapeWarp]? = nil) {
        self.canvas = canvas
        self.background = background
        self.objects = objects
        self.tints = tints ?? objects.map { _ in [0, 0, 0] }
        self.warps = warps
    }
}

/// A smooth wobble of a shape's outline: the point (u, v) of the shape's unit box is drawn where
/// the undistorted shape has (u + du, v + dv), with
///
///     du = a0 sin(f0 v + p0) + a1 sin(f1 u + p1)        dv = a2 sin(f2 u + p2) + a3 sin(f3 v + p3)
///
/// so edges bend, corners round or sharpen and the shape stays one piece: pictures that look drawn
/// by an unsteady hand (as the text model draws) while still being the shape their caption names.
public struct ShapeWarp: Codable, Equatable, Sendable {
    /// In units of the shape's half extent.
    public var amplitudes: [Double]
    /// In radians per half extent.
    public var frequencies: [Double]
    public var phases: [Double]

    public init(amplitudes: [Double], frequencies: [Double], phases: [Double]) {
        precondition(amplitudes.count == 4 && frequencies.count == 4 && phases.count == 4, "a shape warp has four terms")
        self.amplitudes = amplitudes
        self.frequencies = frequencies
        self.phases = phases
    }

    /// A random warp with amplitudes up to `strength` and one to two and a half wobbles across the shape.
    public static func random(strength: Double, rng: inout RNG) -> ShapeWarp {
        ShapeWarp(amplitudes: (0..<4).map { _ in strength * Double(rng.uniform()) },
                  frequencies: (0..<4).map { _ in Double.pi * (0.5 + Double(rng.uniform())) },
                  phases: (0..<4).map { _ in 2 * Double.pi * Double(rng.uniform()) })
    }

    /// The point of the undistorted shape drawn at (u, v).
    public func source(u: Double, v: Double) -> (u: Double, v: Double) {
        let (a, f, p) = (amplitudes, frequencies, phases)
        return (u + a[0] * sin(f[0] * v + p[0]) + a[1] * sin(f[1] * u + p[1]),
                v + a[2] * sin(f[2] * u + p[2]) + a[3] * sin(f[3] * v + p[3]))
    }

    /// How far outside the shape's box it may reach, in half extents.
    public var reach: Double { amplitudes.reduce(0) { $0 + abs($1) } }
}

/// The hue of an RGB colour in degrees 0..<360 (0 for grays).
func rgbHue(_ r: Double, _ g: Double, _ b: Double) -> Double {
    let mx = max(r, g, b), mn = min(r, g, b), d = mx - mn
    guard d > 0 else { return 0 }
    var h: Double
    if mx == r { h = (g - b) / d } else if mx == g { h = 2 + (b - r) / d } else { h = 4 + (r - g) / d }
    h *= 60
    return h < 0 ? h + 360 : h
}

extension ShapeScene {
    /// Whether each cell of a rows x cols grid laid over the canvas (row-major) overlaps a
    /// shape's bounding box, widened by the pixel its anti-aliased edge may spill into. On the
    /// token grid these are the tokens a caption describes; the rest are ground.
    public func shapeCells(rows: Int, cols: Int) -> [Bool] {
        let cellW = Double(canvas) / Double(cols), cellH = Double(canvas) / Double(rows)
        var cells = [Bool](repeating: false, count: rows * cols)
        for o in objects {
            let r = o.extent + 1
            let c0 = max(0, Int(((o.x - r) / cellW).rounded(.down))), c1 = min(cols - 1, Int(((o.x + r) / cellW).rounded(.down)))
            let r0 = max(0, Int(((o.y - r) / cellH).rounded(.down))), r1 = min(rows - 1, Int(((o.y + r) / cellH).rounded(.down)))
            guard c0 <= c1, r0 <= r1 else { continue }
            for row in r0...r1 { for col in c0...c1 { cells[row * cols + col] = true } }
        }
        return cells
    }
}
