import Foundation
import VQZ
import ZIPFoundation

/// What a token array needs to decode on its own: the model that made it and the picture.
/// Stored as JSON in an .npz's `meta` member and as each shard sample's KEY.json (docs/TOKENS.md).
public struct TokenArrayInfo: Codable, Equatable, Sendable {
    public static let formatName = "vqz-tokens"
    public static let currentVersion = 1

    /// Always "vqz-tokens": tells this JSON from any other a pipeline may hold.
    public var format: String
    /// This layout's version; a reader refuses versions above the one it knows.
    public var version: Int
    /// The tokenizer's name and its 128-bit digest in hex (32 digits): the .vqz fingerprint.
    public var model: String
    public var digest: String
    /// The picture's size in pixels; the grid is ceil(width / factor) x ceil(height / factor).
    public var width: Int
    public var height: Int
    /// 1 (gray) or 3 (RGB). Alpha is not carried: tokens do not hold it.
    public var channels: Int
    /// The tokenizer's downsampling factor f.
    public var factor: Int
    /// Quality levels (the array's first axis) and the codebook size K of each.
    public var levels: Int
    public var codebookSize: Int
    /// In a shard: the sample's key and the image it came from, relative to the collection's folder.
    public var key: String?
    public var source: String?
    /// In the shard index: the shard that holds the sample.
    public var shard: String?

    enum CodingKeys: String, CodingKey {
        case format, version, model, digest, width, height, channels, factor, levels
        case codebookSize = "codebook_size"
        case key, source, shard
    }

    public init(model: ModelFingerprint, width: Int, height: Int, channels: Int, factor: Int, levels: Int,
                codebookSize: Int, key: String? = nil, source: String? = nil) {
        format = Self.formatName
        version = Self.currentVersion
        self.model = model.name
        digest = model.digestHex
        self.width = width
        self.height = height
        self.channels = channels
        self.factor = factor
        self.levels = levels
        self.codebookSize = codebookSize
        self.key = key
        self.source = source
    }

    /// The model fingerprint, when `digest` is 32 hex digits.
    public var fingerprint: ModelFingerprint? {
        let hex = Array(digest.utf8)
        guard hex.count == 2 * ModelFingerprint.digestSize else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: hex.count, by: 2) {
            guard let byte = UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return ModelFingerprint(name: model, digest: bytes)
    }

    /// Sorted keys, no escaped slashes, no trailing newline: the same bytes on every machine.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    public static func parse(_ bytes: [UInt8]) throws -> TokenArrayInfo {
        let info: TokenArrayInfo
        do { info = try JSONDecoder().decode(TokenArrayInfo.self, from: Data(bytes)) } catch {
            throw TokenArrayError.badMetadata("not the JSON vqz writes (format, version, model, digest, width, height, channels, factor, levels, codebook_size)")
        }
        guard info.format == formatName else { throw TokenArrayError.badMetadata("format is '\(info.format)', not '\(formatName)'") }
        guard (1...currentVersion).contains(info.version) else {
            throw TokenArrayError.badMetadata("version \(info.version) (this vqz reads 1...\(currentVersion))")
        }
        guard info.fingerprint != nil, !info.model.isEmpty, info.model.utf8.count <= ModelFingerprint.maxNameBytes else {
            throw TokenArrayError.badMetadata("model or digest malformed (a name of 1...64 bytes, 32 hex digits)")
        }
        guard info.width >= 1, info.height >= 1, info.width <= ContainerLimits.default.maxPixels / info.height else {
            throw TokenArrayError.badMetadata("image size \(info.width)x\(info.height) out of range")
        }
        guard info.channels == 1 || info.channels == 3 else { throw TokenArrayError.badMetadata("channels \(info.channels) (1 or 3)") }
        guard (1...1024).contains(info.factor), (1...TokenGrid.maxLevels).contains(info.levels),
              TokenGrid.codebookSizeRange.contains(info.codebookSize) else {
            throw TokenArrayError.badMetadata("factor, levels or codebook_size out of range")
        }
        return info
    }
}

/// A token grid as NumPy arrays: a bare .npy (the grid alone), or an .npz holding `tokens`
/// (the grid) and `meta` (TokenArrayInfo as a JSON string), which decodes with no other input.
public struct TokenArray: Equatable, Sendable {
    /// Shape (levels, rows, cols) in the files.
    public var tokens: TokenGrid
    /// nil for a bare .npy.
    public var info: TokenArrayInfo?

    /// Members an .npz may hold are small: the largest grid the container allows, as int64.
    static let maxMemberBytes = 8 * (1 << 26) + 4096

    public init(tokens: TokenGrid, info: TokenArrayInfo?) {
        self.tokens = tokens
        self.info = info
    }

    public static let zipMagic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]

    /// True when `bytes` begin like an .npy or an .npz (a zip archive).
    public static func recognises(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: NPY.magic) || bytes.starts(with: zipMagic) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06])
    }

    /// Reads an .npy or an .npz, told apart by their first bytes.
    public init(reading bytes: [UInt8], limits: ContainerLimits = .default) throws {
        if bytes.starts(with: NPY.magic) {
            self.init(tokens: try NPY.readTokens(bytes, limits: limits), info: nil)
            return
        }
        guard bytes.starts(with: [0x50, 0x4B]) else { throw TokenArrayError.notATokenArray }
        let members = try Self.members(of: bytes, named: ["tokens.npy", "meta.npy"])
        guard let tokenBytes = members["tokens.npy"] else { throw TokenArrayError.badArchive("no 'tokens' array") }
        var grid = try NPY.readTokens(tokenBytes, limits: limits)
        var info: TokenArrayInfo?
        if let meta = members["meta.npy"] {
            let parsed = try TokenArrayInfo.parse(Array(try NPY.readString(meta).utf8))
            guard parsed.levels == grid.levels.count else {
                throw TokenArrayError.badMetadata("meta says \(parsed.levels) levels, the array has \(grid.levels.count)")
            }
            grid.codebookSizes = Array(repeating: parsed.codebookSize, count: grid.levels.count)
            info = parsed
        }
        self.init(tokens: grid, info: info)
    }

    /// The bare .npy: uint16, shape (levels, rows, cols).
    public func npy() -> [UInt8] { NPY.write(tokens) }

    /// An .npz as numpy.savez_compressed writes it: members tokens.npy and (with info) meta.npy.
    /// Entries carry a fixed date, so the same tokens give the same bytes.
    public func npz() throws -> [UInt8] {
        let archive = try Archive(data: Data(), accessMode: .create)
        var members: [(String, [UInt8])] = [("tokens.npy", npy())]
        if let info { members.append(("meta.npy", NPY.write(string: String(decoding: info.json(), as: UTF8.self)))) }
        let epoch = DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"),
                                   year: 1980, month: 1, day: 1).date!
        for (name, data) in members {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), modificationDate: epoch,
                                 permissions: 0o644, compressionMethod: .deflate) { position, size in
                Data(data[Int(position)..<(Int(position) + size)])
            }
        }
        guard let data = archive.data else { throw TokenArrayError.badArchive("the archive was not written") }
        return Array(data)
    }

    /// Decodes to what a .vqz of the same tokens holds, checked against `model`: the model must
    /// be the one `info` names (else `ContainerError.modelMismatch`), and the grid the one the
    /// model makes of the picture. A bare .npy has no size: `size` gives it, else the grid
    /// times the factor; no channel count: RGB.
    public func container(for model: TokenizerModel, size: (width: Int, height: Int)? = nil,
                          limits: ContainerLimits = .default) throws -> VQZFile {
        var grid = tokens
        grid.codebookSizes = Array(repeating: model.config.codebookSize, count: grid.levels.count)
        let width: Int, height: Int, channels: Int
        if let info {
            guard let needed = info.fingerprint, needed == model.fingerprint else {
                throw ContainerError.modelMismatch(needed: info.fingerprint ?? ModelFingerprint(name: info.model, digest: []), available: model.fingerprint)
            }
            (width, height, channels) = (size?.width ?? info.width, size?.height ?? info.height, info.channels)
        } else {
            let f = model.downsampling
            (width, height, channels) = (size?.width ?? tokens.width * f, size?.height ?? tokens.height * f, 3)
        }
        // The .vqz reader's pixel budget: the decoder allocates the whole picture.
        guard width <= limits.maxPixels / height else {
            throw TokenArrayError.badShape("a \(width)x\(height) picture is over the \(limits.maxPixels)-pixel limit")
        }
        return VQZFile(width: width, height: height, colorChannels: channels, model: model.fingerprint, tokens: grid)
    }

    /// The members named, their sizes bounded before anything is inflated (no zip bombs).
    static func members(of bytes: [UInt8], named wanted: Set<String>) throws -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        for member in try ZipLayout.check(bytes) where wanted.contains(member.name) {
            guard found[member.name] == nil else { throw TokenArrayError.badArchive("member '\(member.name)' twice") }
            // Deflate expands at most about 1032 to 1: a larger claim is a lie, refused before allocating for it.
            guard member.uncompressedSize <= maxMemberBytes, member.uncompressedSize <= 1032 * member.data.count + 1024 else {
                throw TokenArrayError.badArchive("member '\(member.name)' claims \(member.uncompressedSize) bytes")
            }
            found[member.name] = try ZipLayout.extract(member, from: bytes)
        }
        return found
    }
}
