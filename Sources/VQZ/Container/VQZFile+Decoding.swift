// The reader. Three passes, so each malformed input gets the most precise error:
// framing and checksum (ChunkFraming), HEAD's fields against the limits, then the payloads,
// each checked against the size HEAD implies before and after zstd.
extension VQZFile {
    public init(decoding bytes: [UInt8], limits: ContainerLimits = .default) throws {
        let chunks = try ChunkFraming.chunks(in: bytes, highestVersion: Self.formatVersion)
        guard chunks[0].tag == "HEAD" else {
            throw ContainerError.inconsistent("first chunk is \(chunks[0].tag), not HEAD")
        }
        self = try Self.readHead(bytes, chunks[0], limits: limits)

        let count = tokens.count
        var levels: [[UInt16]] = []
        var alpha: [UInt8]?
        for chunk in chunks.dropFirst().dropLast() {
            switch chunk.tag {
            case "HEAD":
                throw ContainerError.inconsistent("second HEAD chunk at offset \(chunk.offset)")
            case "TOKN":
                let level = levels.count
                guard level < tokens.codebookSizes.count else {
                    throw ContainerError.inconsistent("more TOKN chunks than the \(tokens.codebookSizes.count) levels in HEAD")
                }
                let k = tokens.codebookSizes[level]
                let packed = try Zstd.decompress(bytes[chunk.dataRange],
                                                 expectedSize: packing.packedSize(count: count, codebookSize: k),
                                                 chunk: "TOKN (level \(level))")
                let indices = packing.unpack(packed, count: count, codebookSize: k)
                try TokenGrid.checkLevel(indices, level: level, codebookSize: k, count: count)
                levels.append(indices)
            case "ALPH":
                guard hasAlpha else { throw ContainerError.inconsistent("ALPH chunk but HEAD says no alpha") }
                guard alpha == nil else { throw ContainerError.inconsistent("second ALPH chunk at offset \(chunk.offset)") }
                alpha = try Zstd.decompress(bytes[chunk.dataRange], expectedSize: width * height, chunk: "ALPH")
            default:
                if chunk.isCritical { throw ContainerError.unknownCriticalChunk(chunk.tag) }
                // Ancillary chunks of later versions carry nothing this version needs.
            }
        }
        guard levels.count == tokens.codebookSizes.count else {
            throw ContainerError.inconsistent("\(levels.count) TOKN chunks for \(tokens.codebookSizes.count) levels")
        }
        if hasAlpha && alpha == nil { throw ContainerError.inconsistent("HEAD says alpha but there is no ALPH chunk") }
        self.tokens.levels = levels
        self.alpha = alpha
    }

    /// HEAD's fields, checked; the result has empty levels and, when HEAD says alpha, an empty
    /// alpha plane as a marker, both filled by the caller from their own chunks.
    private static func readHead(_ bytes: [UInt8], _ chunk: ChunkSummary, limits: ContainerLimits) throws -> VQZFile {
        var r = ByteReader(bytes, range: chunk.dataRange,
                           overrun: .inconsistent("HEAD chunk of \(chunk.length) bytes is too short for its fields"))
        let width = Int(try r.u32())
        let height = Int(try r.u32())
        let colorChannels = Int(try r.u8())
        let alphaFlag = try r.u8()
        guard alphaFlag <= 1 else { throw ContainerError.inconsistent("alpha flag \(alphaFlag) (must be 0 or 1)") }
        let nameLength = Int(try r.u8())
        let nameBytes = try r.take(nameLength)
        guard let name = String(validating: nameBytes, as: UTF8.self) else {
            throw ContainerError.inconsistent("model name is not UTF-8")
        }
        let digest = Array(try r.take(ModelFingerprint.digestSize))
        let gridWidth = Int(try r.u16())
        let gridHeight = Int(try r.u16())
        let levelCount = Int(try r.u8())
        let coderID = try r.u8()
        let packingID = try r.u8()
        guard levelCount <= TokenGrid.maxLevels else {
            throw ContainerError.overLimit("\(levelCount) quality levels (must be 1...\(TokenGrid.maxLevels))")
        }
        var codebookSizes: [Int] = []
        for _ in 0..<levelCount { codebookSizes.append(Int(try r.u32())) }
        guard r.remaining == 0 else {
            throw ContainerError.inconsistent("HEAD chunk has \(r.remaining) bytes after its fields")
        }
        guard let coder = EntropyCoder(rawValue: coderID) else { throw ContainerError.unsupportedEntropyCoder(coderID) }
        guard let packing = TokenPacking(rawValue: packingID) else { throw ContainerError.unknownPacking(packingID) }
        let model = ModelFingerprint(name: name, digest: digest)
        try checkHeader(width: width, height: height, colorChannels: colorChannels, model: model,
                        gridWidth: gridWidth, gridHeight: gridHeight, codebookSizes: codebookSizes, limits: limits)
        let grid = TokenGrid(width: gridWidth, height: gridHeight, levels: [], codebookSizes: codebookSizes)
        return VQZFile(width: width, height: height, colorChannels: colorChannels, model: model, tokens: grid,
                       alpha: alphaFlag == 1 ? [] : nil, packing: packing, entropyCoder: coder)
    }
}
