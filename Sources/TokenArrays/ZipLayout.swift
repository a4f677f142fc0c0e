import CLibz

/// Reads the members of a zip archive (an .npz). Written by hand over zlib because ZIPFoundation
/// trusts what it reads: a damaged archive makes its in-memory reader trap on an offset, or its
/// inflate loop spin for ever once a stream runs past its member. Here every offset and size is
/// checked before use, and inflating is bounded by the member's sizes and checked by its CRC-32.
/// Accepts what numpy.savez and vqz write (stored or deflated members, local zip64 extras);
/// refuses the rest as not a token array: zip64 directories, encryption, data descriptors,
/// split archives, more than 16 members.
enum ZipLayout {
    static let maxMembers = 16

    struct Member {
        var name: String
        var method: Int
        var crc: UInt32
        /// Where the member's stored bytes are in the archive.
        var data: Range<Int>
        var uncompressedSize: Int
    }

    /// The bytes of `member`, which `check` returned for `archive`.
    static func extract(_ member: Member, from archive: [UInt8]) throws -> [UInt8] {
        let fail = TokenArrayError.badArchive("member '\(member.name)' is damaged")
        var out = [UInt8](repeating: 0, count: member.uncompressedSize)
        if member.method == 0 {
            out = Array(archive[member.data])
        } else if member.uncompressedSize > 0 || !member.data.isEmpty {
            var stream = z_stream()
            // Raw deflate (negative window bits), as zip stores it.
            guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw fail }
            defer { inflateEnd(&stream) }
            var input = Array(archive[member.data])
            let result = input.withUnsafeMutableBufferPointer { inBuffer in
                out.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_in = inBuffer.baseAddress
                    stream.avail_in = UInt32(inBuffer.count)
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(outBuffer.count)
                    // One call with all input and all output room: it ends, or says why not.
                    return inflate(&stream, Z_FINISH)
                }
            }
            guard result == Z_STREAM_END, stream.avail_out == 0, stream.avail_in == 0 else { throw fail }
        }
        let crc = out.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        guard crc == member.crc else { throw TokenArrayError.badArchive("member '\(member.name)' fails its CRC-32") }
        return out
    }

    static func check(_ b: [UInt8]) throws -> [Member] {
        func u16(_ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func fail(_ why: String) -> TokenArrayError { .badArchive(why) }

        // The end record: the last signature found searching back, as ZIPFoundation finds it,
        // and its comment must end the file.
        guard b.count >= 22 else { throw fail("not a readable zip archive") }
        var eocd = -1
        var at = b.count - 22
        while at >= max(0, b.count - 22 - 65535) {
            if b[at] == 0x50 && b[at + 1] == 0x4B && b[at + 2] == 0x05 && b[at + 3] == 0x06 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0, eocd + 22 + u16(eocd + 20) == b.count else { throw fail("not a readable zip archive") }
        if eocd >= 20 && b[eocd - 20] == 0x50 && b[eocd - 19] == 0x4B && b[eocd - 18] == 0x06 && b[eocd - 17] == 0x07 {
            throw fail("zip64 directory (a token array is far smaller)")
        }
        let count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16)
        guard u16(eocd + 4) == 0, u16(eocd + 6) == 0, u16(eocd + 8) == count else { throw fail("split archive") }
        guard count <= maxMembers else { throw fail("\(count) members (the most is \(maxMembers))") }
        guard cdOffset <= eocd, cdSize <= eocd - cdOffset else { throw fail("central directory outside the file") }

        var members: [Member] = []
        var entry = cdOffset
        let cdEnd = cdOffset + cdSize
        for _ in 0..<count {
            guard cdEnd - entry >= 46, u32(entry) == 0x0201_4B50 else { throw fail("damaged central directory") }
            let flags = u16(entry + 8), method = u16(entry + 10)
            let compressed = u32(entry + 20), uncompressed = u32(entry + 24)
            let nameLength = u16(entry + 28), extraLength = u16(entry + 30), commentLength = u16(entry + 32)
            let local = u32(entry + 42)
            guard cdEnd - entry - 46 >= nameLength + extraLength + commentLength else { throw fail("damaged central directory") }
            guard flags & 0x0009 == 0 else { throw fail("encrypted member or data descriptor") }
            guard method == 0 || method == 8 else { throw fail("compression method \(method) (stored or deflate only)") }
            guard compressed != 0xFFFF_FFFF, uncompressed != 0xFFFF_FFFF, local != 0xFFFF_FFFF, u16(entry + 34) == 0 else {
                throw fail("zip64 member (a token array is far smaller)")
            }
            guard method == 8 || compressed == uncompressed else { throw fail("stored member of two sizes") }
            let nameBytes = Array(b[(entry + 46)..<(entry + 46 + nameLength)])
            // The local header repeats the name; its extra field (numpy writes a zip64 one) only moves the data.
            guard local <= cdOffset, cdOffset - local >= 30, u32(local) == 0x0403_4B50 else { throw fail("damaged member header") }
            let localName = u16(local + 26), localExtra = u16(local + 28)
            guard cdOffset - local - 30 >= localName + localExtra,
                  b[(local + 30)..<(local + 30 + localName)].elementsEqual(nameBytes),
                  u16(local + 6) & 0x0009 == 0, u16(local + 8) == method else { throw fail("damaged member header") }
            let data = local + 30 + localName + localExtra
            guard cdOffset - data >= compressed else { throw fail("member data outside the file") }
            members.append(Member(name: String(decoding: nameBytes, as: UTF8.self), method: method, crc: UInt32(u32(entry + 16)),
                                  data: data..<(data + compressed), uncompressedSize: uncompressed))
            entry += 46 + nameLength + extraLength + commentLength
        }
        return members
    }
}
