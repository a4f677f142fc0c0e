/// POSIX ustar archives of regular files, the container of WebDataset shards. The writer fixes
/// every field that would vary between machines (mtime 0, uid/gid 0, no user or group names,
/// mode 0644), so the same members give the same bytes anywhere. The reader reads what the writer
/// writes (and plain ustar/GNU archives of regular files), checking every header.
public enum Tar {
    public static let blockSize = 512
    /// ustar's size field holds 11 octal digits.
    public static let maxMemberSize = (1 << 33) - 1

    public struct Member: Equatable, Sendable {
        public var name: String
        public var data: [UInt8]

        public init(name: String, data: [UInt8]) {
            self.name = name
            self.data = data
        }
    }

    /// Members in the order given, then the two zero blocks that end an archive. Names must be
    /// ASCII and at most 100 bytes (the name field; shard keys are short).
    public static func archive(_ members: [Member]) throws -> [UInt8] {
        var out: [UInt8] = []
        for member in members {
            let name = Array(member.name.utf8)
            guard !name.isEmpty, name.count <= 100, name.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw TarError.badName(member.name)
            }
            guard member.data.count <= maxMemberSize else { throw TarError.memberTooLarge(member.name) }
            var header = [UInt8](repeating: 0, count: blockSize)
            put(name, at: 0, in: &header)
            put(octal(0o644, width: 8), at: 100, in: &header)
            put(octal(0, width: 8), at: 108, in: &header)   // uid
            put(octal(0, width: 8), at: 116, in: &header)   // gid
            put(octal(member.data.count, width: 12), at: 124, in: &header)
            put(octal(0, width: 12), at: 136, in: &header)  // mtime
            header[156] = UInt8(ascii: "0")                 // regular file
            put(Array("ustar\u{0}00".utf8), at: 257, in: &header)
            put(octal(0, width: 8), at: 329, in: &header)   // devmajor
            put(octal(0, width: 8), at: 337, in: &header)   // devminor
            // The checksum is summed with its own field as eight spaces, then written as six
            // octal digits, NUL, space (what GNU tar and Python's tarfile write).
            put([UInt8](repeating: 0x20, count: 8), at: 148, in: &header)
            let sum = header.reduce(0) { $0 + Int($1) }
            put(octal(sum, width: 7) + [0x20], at: 148, in: &header)
            out += header
            out += member.data
            out += [UInt8](repeating: 0, count: (blockSize - member.data.count % blockSize) % blockSize)
        }
        out += [UInt8](repeating: 0, count: 2 * blockSize)
        return out
    }

    /// One member's header.
    public struct Header: Equatable, Sendable {
        public var name: String
        /// Bytes of data after the header; they occupy `paddedSize` bytes of the archive.
        public var size: Int
        /// A regular file (the other entry types are skipped by readers).
        public var isFile: Bool

        public var paddedSize: Int { size + (blockSize - size % blockSize) % blockSize }
    }

    /// The header in a 512-byte block, nil for the zero block that ends an archive. The
    /// checksum and the numeric fields are checked; `offset` only names the block in errors.
    public static func header(_ block: ArraySlice<UInt8>, offset: Int) throws -> Header? {
        guard block.count == blockSize else { throw TarError.truncated }
        let header = Array(block)
        if header.allSatisfy({ $0 == 0 }) { return nil }
        let stored = try number(header[148..<156])
        let sum = header.enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 0x20 : Int($1.element)) }
        guard stored == sum else { throw TarError.badChecksum(offset: offset) }
        let size = try number(header[124..<136])
        var name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        if header[257..<262].elementsEqual("ustar".utf8) {
            let prefix = String(decoding: header[345..<500].prefix { $0 != 0 }, as: UTF8.self)
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        return Header(name: name, size: size, isFile: header[156] == UInt8(ascii: "0") || header[156] == 0)
    }

    /// The regular files of an archive, in order. Directories and other entry types are
    /// skipped; a damaged header, a size past the end, or a missing end is an error.
    public static func members(of bytes: [UInt8]) throws -> [Member] {
        var members: [Member] = []
        var offset = 0
        while true {
            guard bytes.count - offset >= blockSize else { throw TarError.truncated }
            guard let header = try header(bytes[offset..<(offset + blockSize)], offset: offset) else { return members }
            offset += blockSize
            guard header.paddedSize <= bytes.count - offset else { throw TarError.truncated }
            if header.isFile { members.append(Member(name: header.name, data: Array(bytes[offset..<(offset + header.size)]))) }
            offset += header.paddedSize
        }
    }

    private static func put(_ bytes: [UInt8], at offset: Int, in header: inout [UInt8]) {
        for (i, b) in bytes.enumerated() { header[offset + i] = b }
    }

    /// `width - 1` zero-padded octal digits and a NUL.
    private static func octal(_ value: Int, width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
    }

    /// An octal field: optional spaces, digits, then NUL or spaces.
    private static func number(_ field: ArraySlice<UInt8>) throws -> Int {
        var value = 0, seenDigit = false, ended = false
        for b in field {
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "7") && !ended {
                guard value < 1 << 40 else { throw TarError.badHeader }
                value = value * 8 + Int(b - UInt8(ascii: "0"))
                seenDigit = true
            } else if b == 0x20 || b == 0 {
                if seenDigit { ended = true }
            } else {
                throw TarError.badHeader
            }
        }
        guard seenDigit else { throw TarError.badHeader }
        return value
    }
}

public enum TarError: Error, Equatable, CustomStringConvertible {
    case badName(String)
    case memberTooLarge(String)
    case truncated
    case badHeader
    case badChecksum(offset: Int)

    public var description: String {
        switch self {
        case .badName(let n): return "tar member name '\(n)' is not 1...100 printable ASCII bytes"
        case .memberTooLarge(let n): return "tar member '\(n)' is larger than ustar allows"
        case .truncated: return "the tar archive is truncated"
        case .badHeader: return "a tar header field is not an octal number"
        case .badChecksum(let offset): return "the tar header at offset \(offset) has a wrong checksum"
        }
    }
}
