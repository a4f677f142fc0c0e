import ImageIO
import NN

// The writer. It validates with the reader's own rules first, so that a file it writes is
// always one the reader accepts under the default limits.
extension VQZFile {
    /// The .vqz bytes of this file: signature, version, HEAD, the metadata chunks (iccp, exif,
    /// xmpp), DPTH (when positions have different depths), PRIO (prior-coded files), one TOKN per
    /// level, TINT (when there is a tint plane), ALPH, DONE. A prior-coded file needs the `prior` its header names.
    public func encode(zstdLevel: Int32 = Zstd.defaultLevel, prior: EntropyPrior? = nil) throws -> [UInt8] {
        try validate(limits: .default)
        var out = ByteWriter()
        out.append(Self.signature)
        out.u16(UInt16(Self.formatVersion))
        out.chunk("HEAD", headBytes())
        for (tag, path) in Self.metadataChunks {
            if let item = metadata[keyPath: path] { out.chunk(tag, try Zstd.compress(item, level: zstdLevel)) }
        }
        if let depth = tokens.depth {
            out.chunk("DPTH", DepthMapCoding.encode(depth, width: tokens.width, levels: tokens.levels.count))
        }
        switch entropyCoder {
        case .zstd:
            for payload in try tokenPayloads(zstdLevel: zstdLevel) { out.chunk("TOKN", payload) }
        case .prior:
            guard let prior, let named = entropyPrior, prior.fingerprint == named else {
                throw ContainerError.entropyPriorUnavailable(needed: entropyPrior)
            }
            try prior.check(codebookSizes: tokens.codebookSizes)
            out.chunk("PRIO", Self.priorBytes(named, revision: prior.codingRevision))
            for payload in prior.encode(tokens).payloads { out.chunk("TOKN", payload) }
        }
        if let tint {
            out.chunk("TINT", try tint.chunkBytes(zstdLevel: zstdLevel))
        }
        if let alpha {
            out.chunk("ALPH", try Zstd.compress(alpha, level: zstdLevel))
        }
        // DONE's data is the CRC-32 of every byte before it, its own frame included.
        out.append(Array("DONE".utf8))
        out.u32(4)
        out.u32(CRC32.checksum(out.bytes))
        return out.bytes
    }

    /// The zstd-coded TOKN payloads, one per level (levels packed in parallel): the frame of the
    /// file's packing, or with none, the byte naming the level's smallest packing and its frame.
    func tokenPayloads(zstdLevel: Int32) throws -> [[UInt8]] {
        let count = tokens.codebookSizes.count
        var payloads = [Result<[UInt8], Error>](repeating: .success([]), count: count)
        payloads.withUnsafeMutableBufferPointer { results in
            parallelFor(count) { range in
                for l in range {
                    results[l] = Result {
                        let stored = tokens.storedTokens(atLevel: l), k = tokens.codebookSizes[l]
                        if let packing { return try packing.frame(stored, codebookSize: k, zstdLevel: zstdLevel) }
                        return try TokenPacking.perLevelPayload(stored, codebookSize: k, zstdLevel: zstdLevel)
                    }
                }
            }
        }
        return try payloads.map { try $0.get() }
    }

    /// PRIO's data: the prior's name and digest, then the coder's parameters (rANS scale bits,
    /// and the revision of the coding procedure, so a changed procedure is refused by name).
    static func priorBytes(_ prior: ModelFingerprint, revision: UInt8) -> [UInt8] {
        var w = ByteWriter()
        let name = Array(prior.name.utf8)
        w.u8(UInt8(name.count))
        w.append(name)
        w.append(prior.digest)
        w.u8(UInt8(FrequencyTable.scaleBits))
        w.u8(revision)
        return w.bytes
    }

    /// Revisions of the prior coding procedure (context template, frequency tables, coding order)
    /// this vqz reads: 1, the context prior without copy gates; 2, with them.
    static let priorCodingRevisions: ClosedRange<UInt8> = 1...2

    func headBytes() -> [UInt8] {
        var head = ByteWriter()
        head.u32(UInt32(width))
        head.u32(UInt32(height))
        head.u8(UInt8(colorChannels))
        head.u8(hasAlpha ? 1 : 0)
        let name = Array(model.name.utf8)
        head.u8(UInt8(name.count))
        head.append(name)
        head.append(model.digest)
        head.u16(UInt16(tokens.width))
        head.u16(UInt16(tokens.height))
        head.u8(UInt8(tokens.levels.count))
        head.u8(entropyCoder.rawValue)
        // Prior-coded tokens have no packing; their HEAD names 16-bit LE, which readers without
        // per-level packing accept.
        head.u8(entropyCoder == .prior ? TokenPacking.default.rawValue : packing?.rawValue ?? TokenPacking.perLevelID)
        for k in tokens.codebookSizes { head.u32(UInt32(k)) }
        return head.bytes
    }

    /// The writer's checks: the reader's header rules, then the contents.
    func validate(limits: ContainerLimits) throws {
        try Self.checkHeader(width: width, height: height, colorChannels: colorChannels, model: model,
                             gridWidth: tokens.width, gridHeight: tokens.height,
                             codebookSizes: tokens.codebookSizes, limits: limits)
        try tokens.validate()
        if (entropyCoder == .prior) != (entropyPrior != nil) {
            throw ContainerError.inconsistent("entropy coder \(entropyCoder) with\(entropyPrior == nil ? "out" : "") a prior")
        }
        if let alpha, alpha.count != width * height {
            throw ContainerError.inconsistent("alpha plane of \(alpha.count) bytes for \(width * height) pixels")
        }
        if let tint {
            let (columns, rows) = TintPlane.cells(width: width, height: height, cellLog2: tint.cellLog2)
            guard tint.columns == columns, tint.rows == rows, tint.channels == colorChannels else {
                throw ContainerError.inconsistent("tint plane of \(tint.columns)x\(tint.rows)x\(tint.channels) for a \(width)x\(height) picture of \(colorChannels) colour channels")
            }
        }
        for (tag, path) in Self.metadataChunks {
            guard let item = metadata[keyPath: path] else { continue }
            guard !item.isEmpty else { throw ContainerError.inconsistent("\(tag) chunk holds nothing") }
            guard item.count <= limits.maxMetadataBytes else {
                throw ContainerError.overLimit("\(tag) chunk of \(item.count) bytes (limit \(limits.maxMetadataBytes))")
            }
        }
    }

    /// Every rule on HEAD's fields, in the order docs/FORMAT.md lists them. The reader applies
    /// these before it allocates anything whose size comes from the file.
    static func checkHeader(width: Int, height: Int, colorChannels: Int, model: ModelFingerprint,
                            gridWidth: Int, gridHeight: Int, codebookSizes: [Int],
                            limits: ContainerLimits) throws {
        guard width >= 1, height >= 1, width <= Int(UInt32.max), height <= Int(UInt32.max) else {
            throw ContainerError.overLimit("image \(width)x\(height) (each side must be 1...2^32-1)")
        }
        // Both sides fit 32 bits, but their product may not fit 63: ask for the overflow.
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= limits.maxPixels else {
            throw ContainerError.overLimit("image \(width)x\(height) has more than \(limits.maxPixels) pixels")
        }
        guard colorChannels == 1 || colorChannels == 3 else {
            throw ContainerError.inconsistent("\(colorChannels) colour channels (must be 1 or 3)")
        }
        let nameBytes = model.name.utf8.count
        guard (1...ModelFingerprint.maxNameBytes).contains(nameBytes) else {
            throw ContainerError.overLimit("model name of \(nameBytes) bytes (must be 1...\(ModelFingerprint.maxNameBytes))")
        }
        guard model.digest.count == ModelFingerprint.digestSize else {
            throw ContainerError.inconsistent("model digest of \(model.digest.count) bytes (must be \(ModelFingerprint.digestSize))")
        }
        try TokenGrid.checkShape(width: gridWidth, height: gridHeight, codebookSizes: codebookSizes)
        guard gridWidth <= width, gridHeight <= height else {
            throw ContainerError.inconsistent("grid \(gridWidth)x\(gridHeight) is larger than the image \(width)x\(height)")
        }
        let tokenCount = gridWidth * gridHeight * codebookSizes.count
        guard tokenCount <= limits.maxTokens else {
            throw ContainerError.overLimit("\(tokenCount) tokens (limit \(limits.maxTokens))")
        }
    }
}
