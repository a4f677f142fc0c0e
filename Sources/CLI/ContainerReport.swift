import VQZ

/// What `vqz info` shows about one .vqz file, as text or JSON.
struct ContainerReport: Encodable {
    struct Chunk: Encodable {
        var tag: String
        var offset: Int
        var length: Int
    }

    /// The tint plane's shape: cells of `cellSide` pixels, `columns` x `rows` of them per channel.
    struct Tint: Encodable {
        var cellSide: Int
        var step: Int
        var columns: Int
        var rows: Int
    }

    var file: String
    var bytes: Int
    var version: Int
    var width: Int
    var height: Int
    var channels: Int
    var alpha: Bool
    var model: String
    var modelDigest: String
    var gridWidth: Int
    var gridHeight: Int
    var levels: Int
    var codebookSizes: [Int]
    var entropyCoder: String
    var entropyPrior: String?
    /// One packing's name for every level, "per-level" when each TOKN chunk names its own
    /// (listed in `levelPackings`), "none" for prior-coded tokens.
    var packing: String
    var levelPackings: [String]?
    var chunks: [Chunk]
    var bitsPerPixel: Double
    var tint: Tint?

    init(name: String, bytes data: [UInt8], entropyPriors: (ModelFingerprint) throws -> EntropyPrior?) throws {
        let vqz = try VQZFile(decoding: data, entropyPriors: entropyPriors)
        file = name
        bytes = data.count
        version = VQZFile.formatVersion
        width = vqz.width
        height = vqz.height
        channels = vqz.colorChannels
        alpha = vqz.hasAlpha
        model = vqz.model.name
        modelDigest = vqz.model.digestHex
        gridWidth = vqz.tokens.width
        gridHeight = vqz.tokens.height
        levels = vqz.tokens.levels.count
        codebookSizes = vqz.tokens.codebookSizes
        entropyCoder = vqz.entropyCoder.description
        entropyPrior = vqz.entropyPrior?.description
        let framed = try VQZFile.chunks(in: data)
        chunks = framed.map { Chunk(tag: $0.tag, offset: $0.offset, length: $0.length) }
        if let one = vqz.packing {
            packing = one.description
        } else if vqz.entropyCoder == .prior {
            packing = "none"
        } else {
            // Each TOKN chunk names its level's packing in its first byte (the reader checked it).
            packing = "per-level"
            levelPackings = framed.filter { $0.tag == "TOKN" }.map { TokenPacking(rawValue: data[$0.offset + 8])?.description ?? "?" }
        }
        bitsPerPixel = Double(data.count * 8) / Double(vqz.width * vqz.height)
        tint = vqz.tint.map { Tint(cellSide: $0.cellSide, step: $0.step, columns: $0.columns, rows: $0.rows) }
    }

    var text: String {
        let colour = channels == 1 ? "gray" : "RGB"
        var lines = [
            "file:           \(file)",
            "size:           \(bytes) bytes, \(formatted(bitsPerPixel)) bits per pixel",
            "version:        \(version)",
            "image:          \(width)x\(height) \(colour)\(alpha ? " + alpha" : "")",
            "model:          \(model) (digest \(modelDigest))",
            "token grid:     \(gridWidth)x\(gridHeight), \(levels) level\(levels == 1 ? "" : "s")",
            "codebook sizes: \(codebookSizes.map(String.init).joined(separator: ", "))",
            "entropy coder:  " + (entropyPrior.map { "\(entropyCoder), rANS with \($0)" } ?? "\(entropyCoder), " + (levelPackings.map { "packing per level: " + $0.joined(separator: ", ") } ?? "\(packing) packing")),
            "chunks:",
        ]
        for c in chunks {
            lines.append("  \(c.tag)  offset \(c.offset)  \(c.length) bytes")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func formatted(_ x: Double) -> String {
        // Four decimals without Foundation's locale-dependent formatting.
        let scaled = (x * 10000).rounded()
        let whole = Int(scaled) / 10000, frac = Int(scaled) % 10000
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: 4 - f.count) + f
    }
}
