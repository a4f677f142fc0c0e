import ImageIO

// The reader. Three passes, so each malformed input gets the most precise error:
// framing and checksum (ChunkFraming), HEAD's fields against the limits, then the payloads,
// each checked against the size HEAD implies before and after zstd.
extension VQZFile {
    /// Reads a .vqz file. Prior-coded tokens are decoded with the prior that `entropyPriors`
    /// returns for the fingerprint PRIO names (the bundled one by default; nil: not available).
    /// With `decoder`, the model that will decode it, the header must name that model and its
    /// grid size, checked before any payload is decompressed.
    public init(decoding bytes: [UInt8], limits: ContainerLimits = .default,
                entropyPriors: (ModelFingerprint) throws -> EntropyPrior? = EntropyPrior.bundledIfNamed,
                decoder: TokenizerModel? = nil) throws {
        let chunks = try ChunkFraming.chunks(in: bytes, highestVersion: Self.formatVersion)
        guard chunks[0].tag == "HEAD" else {
            throw ContainerError.inconsistent("first chunk is \(chunks[0].tag), not HEAD")
        }
        self = try Self.readHead(bytes, chunks[0], limits: limits)
        try decoder?.checkGrid(of: self)

        let count = tokens.count
        let levelCount = tokens.codebookSizes.count
        var levels: [[UInt16]] = []
        var depth: [UInt8]?
        // Tokens stored per level: every position, or those the depth map takes that deep.
        var stored = [Int](repeating: count, count: levelCount)
        var priorName: ModelFingerprint?
        var priorRevision: UInt8 = 0
        var priorPayloads: [ArraySlice<UInt8>] = []
        var alpha: [UInt8]?
        var metadata = ImageMetadata()
        var tint: TintPlane?
        for chunk in chunks.dropFirst().dropLast() {
            switch chunk.tag {
            case "HEAD":
                throw ContainerError.inconsistent("second HEAD chunk at offset \(chunk.offset)")
            case "PRIO":
                guard entropyCoder == .prior else { throw ContainerError.inconsistent("PRIO chunk but HEAD says entropy coder \(entropyCoder)") }
                guard priorName == nil, priorPayloads.isEmpty else {
                    throw ContainerError.inconsistent("PRIO chunk at offset \(chunk.offset) after TOKN or a first PRIO")
                }
                (priorName, priorRevision) = try Self.readPrior(bytes, chunk)
            case "DPTH":
                guard depth == nil else { throw ContainerError.inconsistent("second DPTH chunk at offset \(chunk.offset)") }
                guard levels.isEmpty, priorPayloads.isEmpty else {
                    throw ContainerError.inconsistent("DPTH chunk at offset \(chunk.offset) after a TOKN chunk")
                }
                let map: [UInt8]
                do {
                    map = try DepthMapCoding.decode(bytes[chunk.dataRange], count: count, width: tokens.width, levels: levelCount)
                } catch let e as RANSError {
                    throw ContainerError.corruptPayload(chunk: "DPTH", reason: e.description)
                }
                try TokenGrid.checkDepth(map, levels: levelCount, count: count)
                for l in 0..<levelCount { stored[l] = map.reduce(0) { $0 + (Int($1) > l ? 1 : 0) } }
                depth = map
            case "TOKN" where entropyCoder == .prior:
                guard priorName != nil else { throw ContainerError.inconsistent("TOKN chunk before the PRIO chunk") }
                guard priorPayloads.count < tokens.codebookSizes.count else {
                    throw ContainerError.inconsistent("more TOKN chunks than the \(tokens.codebookSizes.count) levels in HEAD")
                }
                priorPayloads.append(bytes[chunk.dataRange])
            case "TOKN":
                let level = levels.count
                guard level < tokens.codebookSizes.count else {
                    throw ContainerError.inconsistent("more TOKN chunks than the \(tokens.codebookSizes.count) levels in HEAD")
                }
                let k = tokens.codebookSizes[level], n = stored[level]
                var frame = bytes[chunk.dataRange]
                let levelPacking: TokenPacking
                if let packing {
                    levelPacking = packing
                } else {
                    guard let id = frame.popFirst() else { throw ContainerError.corruptPayload(chunk: "TOKN (level \(level))", reason: "no packing byte") }
                    guard let named = TokenPacking(rawValue: id) else { throw ContainerError.unknownPacking(id) }
                    levelPacking = named
                }
                let packed = try Zstd.decompress(frame,
                                                 expectedSize: levelPacking.packedSize(count: n, codebookSize: k),
                                                 chunk: "TOKN (level \(level))")
                let indices = levelPacking.unpack(packed, count: n, codebookSize: k)
                try TokenGrid.checkLevel(indices, level: level, codebookSize: k, count: n)
                levels.append(Self.scatter(indices, level: level, depth: depth, count: count))
            case "TINT":
                guard tint == nil else { throw ContainerError.inconsistent("second TINT chunk at offset \(chunk.offset)") }
                tint = try TintPlane.read(bytes[chunk.dataRange], width: width, height: height, channels: colorChannels)
            case "ALPH":
                guard hasAlpha else { throw ContainerError.inconsistent("ALPH chunk but HEAD says no alpha") }
                guard alpha == nil else { throw ContainerError.inconsistent("second ALPH chunk at offset \(chunk.offset)") }
                alpha = try Zstd.decompress(bytes[chunk.dataRange], expectedSize: width * height, chunk: "ALPH")
            case let tag where Self.metadataChunks.contains(where: { $0.tag == tag }):
                let path = Self.metadataChunks.first(where: { $0.tag == tag })!.path
                guard metadata[keyPath: path] == nil else {
                    throw ContainerError.inconsistent("second \(tag) chunk at offset \(chunk.offset)")
                }
                metadata[keyPath: path] = try Zstd.decompress(bytes[chunk.dataRange], maxSize: limits.maxMetadataBytes,
                                                              chunk: tag)
            default:
                if chunk.isCritical { throw ContainerError.unknownCriticalChunk(chunk.tag) }
                // Ancillary chunks of later versions carry nothing this version needs.
            }
        }
        if hasAlpha && alpha == nil { throw ContainerError.inconsistent("HEAD says alpha but there is no ALPH chunk") }
        if entropyCoder == .prior {
            guard let priorName else { throw ContainerError.inconsistent("HEAD says entropy coder prior but there is no PRIO chunk") }
            guard priorPayloads.count == tokens.codebookSizes.count else {
                throw ContainerError.inconsistent("\(priorPayloads.count) TOKN chunks for \(tokens.codebookSizes.count) levels")
            }
            // The model is checked last: the file is otherwise sound, so a missing prior is the problem to report.
            guard let prior = try entropyPriors(priorName), prior.fingerprint == priorName else {
                throw ContainerError.entropyPriorUnavailable(needed: priorName)
            }
            guard prior.codingRevision == priorRevision else {
                throw ContainerError.inconsistent("PRIO: coding revision \(priorRevision), but prior \(priorName) codes with revision \(prior.codingRevision)")
            }
            try prior.check(codebookSizes: tokens.codebookSizes)
            levels = try prior.decode(priorPayloads, width: tokens.width, height: tokens.height, depth: depth)
            entropyPrior = priorName
        }
        guard levels.count == tokens.codebookSizes.count else {
            throw ContainerError.inconsistent("\(levels.count) TOKN chunks for \(tokens.codebookSizes.count) levels")
        }
        self.tokens.levels = levels
        self.tokens.depth = depth
        self.alpha = alpha
        self.metadata = metadata
        self.tint = tint
    }

    /// A level's stored tokens placed at the positions that have one; 0 elsewhere.
    private static func scatter(_ stored: [UInt16], level: Int, depth: [UInt8]?, count: Int) -> [UInt16] {
        guard let depth else { return stored }
        var full = [UInt16](repeating: 0, count: count)
        var next = 0
        for i in 0..<count where Int(depth[i]) > level {
            full[i] = stored[next]
            next += 1
        }
        return full
    }

    /// PRIO's fields: the prior's fingerprint, after checking the coder parameters.
    private static func readPrior(_ bytes: [UInt8], _ chunk: ChunkSummary) throws -> (ModelFingerprint, UInt8) {
        var r = ByteReader(bytes, range: chunk.dataRange,
                           overrun: .inconsistent("PRIO chunk of \(chunk.length) bytes is too short for its fields"))
        let nameLength = Int(try r.u8())
        guard nameLength >= 1 else { throw ContainerError.inconsistent("PRIO names a prior with an empty name") }
        guard let name = String(validating: try r.take(nameLength), as: UTF8.self) else {
            throw ContainerError.inconsistent("prior name is not UTF-8")
        }
        let digest = Array(try r.take(ModelFingerprint.digestSize))
        let scaleBits = Int(try r.u8()), revision = try r.u8()
        guard r.remaining == 0 else { throw ContainerError.inconsistent("PRIO chunk has \(r.remaining) bytes after its fields") }
        guard scaleBits == FrequencyTable.scaleBits else {
            throw ContainerError.inconsistent("PRIO: rANS scale of \(scaleBits) bits (this vqz codes with \(FrequencyTable.scaleBits))")
        }
        guard priorCodingRevisions.contains(revision) else {
            throw ContainerError.inconsistent("PRIO: prior coding revision \(revision) (this vqz knows \(priorCodingRevisions.map(String.init).joined(separator: " and ")); upgrade vqz)")
        }
        return (ModelFingerprint(name: name, digest: digest), revision)
    }

    /// HEAD's fields, checked; the result has empty levels and, when HEAD says alpha, an empty
    /// alpha plane as a marker, both filled by the caller from their own chunks.
    /// The tokenizer a .vqz file names, read from its header alone (framing and checksum checked):
    /// how a reader that holds several models picks the one to decode with.
    public static func tokenizer(of bytes: [UInt8], limits: ContainerLimits = .default) throws -> ModelFingerprint {
        let chunks = try ChunkFraming.chunks(in: bytes, highestVersion: formatVersion)
        guard chunks[0].tag == "HEAD" else {
            throw ContainerError.inconsistent("first chunk is \(chunks[0].tag), not HEAD")
        }
        return try readHead(bytes, chunks[0], limits: limits).model
    }

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
        let packing = TokenPacking(rawValue: packingID)
        guard packing != nil || packingID == TokenPacking.perLevelID else { throw ContainerError.unknownPacking(packingID) }
        let model = ModelFingerprint(name: name, digest: digest)
        try checkHeader(width: width, height: height, colorChannels: colorChannels, model: model,
                        gridWidth: gridWidth, gridHeight: gridHeight, codebookSizes: codebookSizes, limits: limits)
        let grid = TokenGrid(width: gridWidth, height: gridHeight, levels: [], codebookSizes: codebookSizes)
        return VQZFile(width: width, height: height, colorChannels: colorChannels, model: model, tokens: grid,
                       alpha: alphaFlag == 1 ? [] : nil, packing: coder == .prior ? nil : packing, entropyCoder: coder)
    }
}
