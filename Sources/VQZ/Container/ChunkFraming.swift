/// The layer of the reader that knows only signature, version, chunk frames and checksum.
/// It never allocates from a declared length: every length is checked against the bytes present.
enum ChunkFraming {
    static let signature: [UInt8] = [0x89, 0x56, 0x51, 0x5A, 0x0D, 0x0A, 0x1A, 0x0A]  // "\x89VQZ\r\n\x1A\n"
    static let frameSize = 8
    static let done = "DONE"

    /// The chunks of `bytes` up to and including DONE, after checking the CRC-32.
    static func chunks(in bytes: [UInt8], highestVersion: Int) throws -> [ChunkSummary] {
        let n = bytes.count
        let sig = signature
        if n < sig.count {
            throw Array(sig.prefix(n)) == bytes ? ContainerError.truncated(chunk: "signature") : .badMagic
        }
        guard Array(bytes[0..<sig.count]) == sig else { throw ContainerError.badMagic }
        var reader = ByteReader(bytes, range: sig.count..<n, overrun: .truncated(chunk: "version"))
        let version = Int(try reader.u16())
        guard version == highestVersion else {
            throw ContainerError.unsupportedVersion(found: version, highestSupported: highestVersion)
        }
        var chunks: [ChunkSummary] = []
        while true {
            let offset = reader.offset
            if reader.remaining == 0 { throw ContainerError.truncated(chunk: done) }
            if reader.remaining < frameSize { throw ContainerError.truncated(chunk: "chunk frame at offset \(offset)") }
            let tagBytes = try reader.take(4)
            guard tagBytes.allSatisfy({ (0x41...0x5A).contains($0 & ~0x20) }) else {
                throw ContainerError.inconsistent("chunk tag at offset \(offset) is not 4 ASCII letters")
            }
            let tag = String(decoding: tagBytes, as: UTF8.self)
            let length = Int(try reader.u32())
            guard length <= reader.remaining else { throw ContainerError.truncated(chunk: tag) }
            let chunk = ChunkSummary(tag: tag, offset: offset, length: length)
            _ = try reader.take(length)
            chunks.append(chunk)
            if tag == done { break }
        }
        let last = chunks[chunks.count - 1]
        guard last.length == 4 else {
            throw ContainerError.inconsistent("DONE chunk holds \(last.length) bytes, not 4")
        }
        guard reader.remaining == 0 else {
            throw ContainerError.inconsistent("\(reader.remaining) bytes after the DONE chunk")
        }
        var crcReader = ByteReader(bytes, range: last.dataRange, overrun: .truncated(chunk: done))
        let stored = try crcReader.u32()
        let computed = CRC32.checksum(bytes[0..<last.dataRange.lowerBound])
        guard stored == computed else { throw ContainerError.checksumMismatch(stored: stored, computed: computed) }
        return chunks
    }
}
