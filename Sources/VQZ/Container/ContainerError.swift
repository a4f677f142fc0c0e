/// Everything that can be wrong with a .vqz file, or with a VQZFile handed to the writer.
/// Messages are one lower-case line, ready to follow "vqz: FILE: ".
public enum ContainerError: Error, Equatable, CustomStringConvertible {
    /// The first 8 bytes are not the .vqz signature: not a .vqz file at all.
    case badMagic
    /// Written by a newer vqz with an incompatible layout.
    case unsupportedVersion(found: Int, highestSupported: Int)
    /// The data ends inside the named chunk (or before it starts).
    case truncated(chunk: String)
    /// The CRC-32 in the DONE chunk does not match the bytes before it.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// A critical chunk this reader does not know; ignoring it would decode wrongly.
    case unknownCriticalChunk(String)
    /// A header field names a token packing this reader does not know.
    case unknownPacking(UInt8)
    /// A header field names an entropy coder this reader does not know or support.
    case unsupportedEntropyCoder(UInt8)
    /// Fields or chunks contradict each other or the layout of docs/FORMAT.md.
    case inconsistent(String)
    /// A declared size exceeds the format's bounds or the reader's ContainerLimits.
    case overLimit(String)
    /// A zstd frame inside the named chunk failed to decode or has the wrong size.
    case corruptPayload(chunk: String, reason: String)
    /// The file was encoded with another tokenizer than the one offered for decoding.
    case modelMismatch(needed: ModelFingerprint, available: ModelFingerprint)
    /// The tokens are coded with an entropy prior that is not available (nil: none named).
    case entropyPriorUnavailable(needed: ModelFingerprint?)

    public var description: String {
        switch self {
        case .badMagic:
            return "not a .vqz file (bad magic bytes)"
        case let .unsupportedVersion(found, highest):
            return "unsupported .vqz version \(found) (this vqz reads up to version \(highest); upgrade vqz)"
        case let .truncated(chunk):
            return "file is truncated (data ends inside \(chunk))"
        case let .checksumMismatch(stored, computed):
            return "checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): file is corrupt"
        case let .unknownCriticalChunk(tag):
            return "unknown critical chunk '\(tag)' (written by a newer vqz?)"
        case let .unknownPacking(id):
            return "unknown token packing \(id)"
        case let .unsupportedEntropyCoder(id):
            return "unsupported entropy coder \(id)"
        case let .inconsistent(what):
            return "inconsistent file: \(what)"
        case let .overLimit(what):
            return "over limit: \(what)"
        case let .corruptPayload(chunk, reason):
            return "corrupt \(chunk) payload: \(reason)"
        case let .modelMismatch(needed, available):
            return "encoded with model \(needed) but the available model is \(available)"
        case let .entropyPriorUnavailable(needed):
            return needed.map { "tokens are coded with entropy prior \($0), which is not available (give it with --entropy-prior PATH)" }
                ?? "tokens are coded with an entropy prior but none is named"
        }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}
