import Foundation
import Testing
import TokenArrays
import VQZ

/// .npz token arrays carry what decoding needs; the reader refuses damaged archives and
/// metadata that does not describe the array.
@Suite struct TokenArrayTests {
    static let model = ModelFingerprint(name: "vq-f8-k1024", digest: Array(0..<16))
    static let grid = TokenGrid(width: 4, height: 3, levels: [Array(0..<12), Array(100..<112)], codebookSizes: [1024, 1024])
    static let info = TokenArrayInfo(model: model, width: 30, height: 20, channels: 3, factor: 8, levels: 2, codebookSize: 1024)

    @Test func npzRoundTripsTokensAndMetadata() throws {
        let array = TokenArray(tokens: Self.grid, info: Self.info)
        let bytes = try array.npz()
        #expect(bytes.starts(with: TokenArray.zipMagic))
        let read = try TokenArray(reading: bytes)
        #expect(read == array)
        #expect(read.info?.fingerprint == Self.model)
        #expect(try array.npz() == bytes, "the same tokens give the same bytes")
    }

    @Test func metadataIsSortedJSONOfTheFingerprint() throws {
        let text = String(decoding: Self.info.json(), as: UTF8.self)
        #expect(text == #"{"channels":3,"codebook_size":1024,"digest":"000102030405060708090a0b0c0d0e0f","factor":8,"format":"vqz-tokens","height":20,"levels":2,"model":"vq-f8-k1024","version":1,"width":30}"#)
        #expect(try TokenArrayInfo.parse(Self.info.json()) == Self.info)
    }

    @Test func bareNpyHasNoMetadata() throws {
        let read = try TokenArray(reading: TokenArray(tokens: Self.grid, info: nil).npy())
        #expect(read.info == nil && read.tokens.levels == Self.grid.levels)
    }

    @Test(arguments: [
        (#"{"format":"other","version":1}"#, "not the JSON vqz writes (format, version, model, digest, width, height, channels, factor, levels, codebook_size)"),
        (#"{"channels":3,"codebook_size":1024,"digest":"00","factor":8,"format":"vqz-tokens","height":20,"levels":2,"model":"m","version":1,"width":30}"#, "model or digest malformed (a name of 1...64 bytes, 32 hex digits)"),
        (#"{"channels":3,"codebook_size":1024,"digest":"000102030405060708090a0b0c0d0e0f","factor":8,"format":"vqz-tokens","height":20,"levels":2,"model":"m","version":2,"width":30}"#, "version 2 (this vqz reads 1...1)"),
        (#"{"channels":3,"codebook_size":1024,"digest":"000102030405060708090a0b0c0d0e0f","factor":8,"format":"vqz-tokens","height":2000000,"levels":2,"model":"m","version":1,"width":3000000}"#, "image size 3000000x2000000 out of range"),
        (#"{"channels":4,"codebook_size":1024,"digest":"000102030405060708090a0b0c0d0e0f","factor":8,"format":"vqz-tokens","height":20,"levels":2,"model":"m","version":1,"width":30}"#, "channels 4 (1 or 3)"),
    ])
    func badMetadataIsRefused(json: String, reason: String) {
        #expect(throws: TokenArrayError.badMetadata(reason)) { try TokenArrayInfo.parse(Array(json.utf8)) }
    }

    @Test func metadataMustDescribeTheArray() throws {
        var info = Self.info
        info.levels = 3
        let bytes = try TokenArray(tokens: Self.grid, info: info).npz()
        #expect(throws: TokenArrayError.badMetadata("meta says 3 levels, the array has 2")) { try TokenArray(reading: bytes) }
    }

    @Test func decodingChecksModelAndPictureSize() throws {
        let model = try TokenizerModel.bundled()
        let f = model.downsampling
        let grid = TokenGrid(width: 4, height: 3, levels: [Array(repeating: 5, count: 12)], codebookSizes: [65536])
        let own = TokenArrayInfo(model: model.fingerprint, width: 4 * f - 3, height: 3 * f, channels: 1, factor: f, levels: 1, codebookSize: 1024)
        let file = try TokenArray(tokens: grid, info: own).container(for: model)
        #expect(file.width == 4 * f - 3 && file.height == 3 * f && file.colorChannels == 1 && file.model == model.fingerprint)
        #expect(file.tokens.codebookSizes == [model.config.codebookSize])

        let bare = try TokenArray(tokens: grid, info: nil).container(for: model)
        #expect(bare.width == 4 * f && bare.height == 3 * f && bare.colorChannels == 3, "a bare array is its grid times the factor")
        #expect(try TokenArray(tokens: grid, info: nil).container(for: model, size: (30, 20)).width == 30)

        #expect(throws: ContainerError.modelMismatch(needed: Self.model, available: model.fingerprint)) {
            try TokenArray(tokens: grid, info: Self.info).container(for: model)
        }
        let huge = TokenGrid(width: 8192, height: 8192, levels: [], codebookSizes: [])
        #expect(throws: TokenArrayError.badShape("a 65536x65536 picture is over the 268435456-pixel limit")) {
            try TokenArray(tokens: huge, info: nil).container(for: model)
        }
    }

    @Test func damagedArchivesAreRefused() throws {
        let bytes = try TokenArray(tokens: Self.grid, info: Self.info).npz()
        // Cut anywhere or with any byte flipped, an archive is refused or read whole; it never traps.
        for n in 0..<bytes.count {
            #expect(throws: TokenArrayError.self) { try TokenArray(reading: Array(bytes.prefix(n))) }
        }
        for i in 0..<bytes.count {
            var flipped = bytes
            flipped[i] ^= 0x55
            if let read = try? TokenArray(reading: flipped) { #expect(read.tokens.levels.count == 2) }
        }
        #expect(throws: TokenArrayError.notATokenArray) { try TokenArray(reading: Array("GIF89a".utf8)) }
    }
}
