import CZstd
import ImageIO
import Testing
@testable import VQZ

/// The iccp, exif and xmpp chunks (docs/FORMAT.md): written only when there is metadata,
/// read back byte for byte, skipped by the framing as ancillary, and bounded like ALPH.
@Suite struct ContainerMetadataTests {
    static let metadata = ImageMetadata(iccProfile: Array(repeating: 7, count: 3000), exif: Array("MM\0*exif".utf8),
                                        xmp: Array("<x:xmpmeta/>".utf8))

    static var withMetadata: VQZFile {
        var file = ContainerSamples.small
        file.metadata = metadata
        return file
    }

    func decodeError(_ data: [UInt8], limits: ContainerLimits = .default) -> ContainerError? {
        do {
            _ = try VQZFile(decoding: data, limits: limits)
            return nil
        } catch {
            return error as? ContainerError
        }
    }

    @Test func roundTripsEachKindAlone() throws {
        let cases: [(MetadataKinds, [String])] = [([.icc], ["iccp"]), ([.exif], ["exif"]), ([.xmp], ["xmpp"]),
                                                  ([.icc, .xmp], ["iccp", "xmpp"])]
        for (kinds, tags) in cases {
            var file = ContainerSamples.small
            file.metadata = Self.metadata.keeping(kinds)
            let bytes = try file.encode()
            #expect(try VQZFile(decoding: bytes) == file)
            #expect(try VQZFile.chunks(in: bytes).map(\.tag).filter { ["iccp", "exif", "xmpp"].contains($0) } == tags)
        }
    }

    @Test func chunksFollowHeadAndAreAncillary() throws {
        let chunks = try VQZFile.chunks(in: try Self.withMetadata.encode())
        #expect(chunks.map(\.tag) == ["HEAD", "iccp", "exif", "xmpp", "TOKN", "TOKN", "ALPH", "DONE"])
        #expect(chunks.filter { ["iccp", "exif", "xmpp"].contains($0.tag) }.allSatisfy { !$0.isCritical })
    }

    /// A file without metadata is byte for byte what this layout wrote before the chunks existed.
    @Test func noMetadataMeansNoChunks() throws {
        let bytes = try ContainerSamples.small.encode()
        #expect(try VQZFile.chunks(in: bytes).map(\.tag) == ["HEAD", "TOKN", "TOKN", "ALPH", "DONE"])
        #expect(try VQZFile(decoding: bytes).metadata == ImageMetadata())
    }

    /// The profile compresses: 3000 equal bytes take a few dozen in the file.
    @Test func chunksAreCompressed() throws {
        let with = try Self.withMetadata.encode().count, without = try ContainerSamples.small.encode().count
        #expect(with - without < 200)
    }

    func replacing(_ tag: String, with data: [UInt8], duplicate: Bool = false) throws -> [UInt8] {
        var chunks = try ContainerSamples.chunks(of: Self.withMetadata)
        let at = chunks.firstIndex { $0.0 == tag }!
        if duplicate { chunks.insert((tag, data), at: at) } else { chunks[at].1 = data }
        return ContainerSamples.assemble(chunks)
    }

    @Test func rejectsMalformedMetadataChunks() throws {
        #expect(decodeError(try replacing("exif", with: [1, 2, 3]))
                    == .corruptPayload(chunk: "exif", reason: "not a zstd frame"))
        #expect(decodeError(try replacing("xmpp", with: try Zstd.compress([]))) == .inconsistent("xmpp chunk holds nothing"))
        let twice = try replacing("iccp", with: try Zstd.compress([9]), duplicate: true)
        let second = try VQZFile.chunks(in: twice).filter { $0.tag == "iccp" }[1].offset
        #expect(decodeError(twice) == .inconsistent("second iccp chunk at offset \(second)"))
        // A frame cut short declares its size but cannot deliver it.
        let frame = try Zstd.compress(Self.metadata.iccProfile!)
        guard case .corruptPayload(chunk: "iccp", _) = decodeError(try replacing("iccp", with: Array(frame.dropLast(3)))) else {
            Issue.record("a cut frame was accepted")
            return
        }
    }

    /// The declared size is checked against the limit before anything is allocated: a frame of
    /// a few bytes that claims 2^40 is refused by its header alone.
    @Test func boundsTheDeclaredSize() throws {
        #expect(decodeError(try Self.withMetadata.encode(), limits: ContainerLimits(maxMetadataBytes: 2999))
                    == .overLimit("iccp chunk of 3000 bytes (limit 2999)"))
        // A zstd frame header: magic, descriptor (8-byte content size, single segment), size 2^40.
        let lying: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0] + [0, 0, 0, 0, 0, 1, 0, 0] + [1, 0, 0]
        #expect(decodeError(try replacing("exif", with: lying))
                    == .overLimit("exif chunk of 1099511627776 bytes (limit 16777216)"))
    }

    @Test func writerRefusesWhatTheReaderWouldReject() {
        var file = ContainerSamples.small
        file.metadata.exif = []
        #expect(throws: ContainerError.inconsistent("exif chunk holds nothing")) { try file.encode() }
        file.metadata.exif = Array(repeating: 1, count: ContainerLimits.default.maxMetadataBytes + 1)
        #expect(throws: ContainerError.overLimit("exif chunk of 16777217 bytes (limit 16777216)")) { try file.encode() }
    }
}
