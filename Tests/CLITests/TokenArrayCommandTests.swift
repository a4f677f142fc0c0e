import Foundation
import Testing
import TokenArrays
import VQZ

/// Token arrays out of `vqz tokens` and back through `vqz decompress`, and collections into
/// WebDataset shards, through the binary as users run them.
@Suite struct TokenArrayCommandTests {
    func folder(with names: [String: String]) throws -> URL {
        let folder = try CLIRunner.scratchFolder()
        for (sample, name) in names {
            let url = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: CodecCommandTests.samples.appendingPathComponent(sample), to: url)
        }
        return folder
    }

    func bytes(_ folder: URL, _ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
    }

    /// P6 pixels after the header.
    func ppmPixels(_ bytes: [UInt8], width: Int, height: Int) -> [UInt8] {
        Array(bytes.suffix(width * height * 3))
    }

    /// An array holds the tokens alone, so it decodes to the pixels of a .vqz without a tint plane.
    @Test func unchangedArraysDecodeToTheVQZPixels() throws {
        let dir = try folder(with: ["leaf-256.jpg": "leaf.jpg"])
        func run(_ args: [String]) throws {
            let r = try CLIRunner.run(args, in: dir)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        try run(["compress", "--levels", "2", "--no-tint", "leaf.jpg", "-o", "leaf.vqz"])
        try run(["tokens", "leaf.vqz", "-o", "from-vqz.npz"])
        try run(["tokens", "--levels", "2", "leaf.jpg", "-o", "from-image.npz"])
        #expect(try bytes(dir, "from-vqz.npz") == bytes(dir, "from-image.npz"), "the image and its .vqz give the same array")
        try run(["decompress", "leaf.vqz", "-o", "vqz.png"])
        try run(["decompress", "from-vqz.npz"])
        #expect(try bytes(dir, "from-vqz.png") == bytes(dir, "vqz.png"), "named beside the array, the same pixels as the .vqz")
        try run(["tokens", "leaf.vqz", "-o", "bare.npy"])
        try run(["decompress", "bare.npy", "--size", "256x256", "-o", "bare.png"])
        #expect(try bytes(dir, "bare.png") == bytes(dir, "vqz.png"), "a bare array with its size decodes the same")
    }

    /// One token changed: the picture changes around it and nowhere far from it.
    @Test func anEditedTokenChangesItsNeighbourhoodOnly() throws {
        let dir = try folder(with: ["leaf-256.jpg": "leaf.jpg"])
        #expect(try CLIRunner.run(["tokens", "leaf.jpg", "-o", "t.npy"], in: dir).status == 0)
        var array = try bytes(dir, "t.npy")
        let offset = try NPY.header(of: array).dataOffset
        let first = Int(array[offset]) | Int(array[offset + 1]) << 8
        let edited = (first + 512) % 1024
        array[offset] = UInt8(edited & 0xFF)
        array[offset + 1] = UInt8(edited >> 8)
        try Data(array).write(to: dir.appendingPathComponent("edited.npy"))
        for name in ["t", "edited"] {
            // f32: the int16 decoder scales each activation tensor by its maximum, so one token
            // can move every pixel by a level; the reference arithmetic is local.
            let r = try CLIRunner.run(["decompress", "\(name).npy", "--decoder-precision", "f32", "--format", "ppm", "-o", "\(name).ppm"], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let before = ppmPixels(try bytes(dir, "t.ppm"), width: 256, height: 256)
        let after = ppmPixels(try bytes(dir, "edited.ppm"), width: 256, height: 256)
        func differs(_ xs: Range<Int>, _ ys: Range<Int>) -> Bool {
            ys.contains { y in xs.contains { x in (0..<3).contains { before[(y * 256 + x) * 3 + $0] != after[(y * 256 + x) * 3 + $0] } } }
        }
        #expect(differs(0..<8, 0..<8), "the token's own 8x8 pixels change")
        #expect(!differs(128..<256, 0..<256) && !differs(0..<256, 128..<256), "pixels 128 away do not")
    }

    @Test func modelMismatchAndBadArraysFailInOneLine() throws {
        let dir = try CLIRunner.scratchFolder()
        let other = ModelFingerprint(name: "other-tokenizer", digest: [UInt8](repeating: 7, count: 16))
        let grid = TokenGrid(width: 4, height: 4, levels: [Array(repeating: 3, count: 16)], codebookSizes: [1024])
        let info = TokenArrayInfo(model: other, width: 32, height: 32, channels: 3, factor: 8, levels: 1, codebookSize: 1024)
        try Data(TokenArray(tokens: grid, info: info).npz()).write(to: dir.appendingPathComponent("other.npz"))
        let mismatch = try CLIRunner.run(["decompress", "other.npz", "-o", "x.png"], in: dir)
        #expect(mismatch.status == 3)
        #expect(mismatch.stderr.hasPrefix("vqz: other.npz: encoded with model other-tokenizer@0707070707070707 but the available model is "))
        #expect(mismatch.stderr.split(separator: "\n").count == 1)

        let outOfRange = TokenGrid(width: 4, height: 4, levels: [Array(repeating: 1024, count: 16)], codebookSizes: [65536])
        try Data(NPY.write(outOfRange)).write(to: dir.appendingPathComponent("range.npy"))
        var float = NPY.write(grid)
        let dtype = try #require((0..<60).first { float[$0..<($0 + 3)].elementsEqual("<u2".utf8) })
        float[dtype + 1] = UInt8(ascii: "f")
        try Data(float).write(to: dir.appendingPathComponent("float.npy"))
        let npz = try TokenArray(tokens: grid, info: info).npz()
        try Data(npz.prefix(npz.count - 30)).write(to: dir.appendingPathComponent("cut.npz"))
        try Data(NPY.write(grid)).write(to: dir.appendingPathComponent("grid.npy"))
        for (args, message) in [
            (["decompress", "range.npy", "-o", "a.png"], "vqz: range.npy: level 1 holds tokens outside the model's codebook of 1024"),
            (["decompress", "float.npy", "-o", "b.png"], "vqz: float.npy: unsupported .npy dtype '<f2' (tokens must be integers)"),
            (["decompress", "cut.npz", "-o", "c.png"], "vqz: cut.npz: bad .npz archive: not a readable zip archive"),
            (["decompress", "grid.npy", "--size", "100x100", "-o", "d.png"], "vqz: grid.npy: token grid 4x4 does not match the 100x100 image (its model makes a 13x13 grid)"),
        ] {
            let r = try CLIRunner.run(args, in: dir)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr == message + "\n")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(args[3]).path), "no partial output")
        }
        let size = try CLIRunner.run(["decompress", "grid.npy", "--size", "100", "-o", "e.png"], in: dir)
        #expect(size.status == 1 && size.stderr.contains("--size must be WIDTHxHEIGHT"))
    }

    /// A folder into shards: keys in path order, the index, resuming, and two workers whose
    /// union is the single run byte for byte.
    @Test func collectionsBecomeDeterministicResumableShards() throws {
        let dir = try folder(with: ["kite-rgba-160x120.png": "photos/b/kite.png", "leaf-256.jpg": "photos/a/leaf.jpg",
                                    "dandelion-768x512.png": "photos/a/z/flower.png"])
        let photos = dir.appendingPathComponent("photos")
        try Data("not an image".utf8).write(to: photos.appendingPathComponent("notes.txt"))
        try FileManager.default.copyItem(at: photos.appendingPathComponent("b/kite.png"), to: photos.appendingPathComponent(".hidden.png"))
        let single = try CLIRunner.run(["tokens", "photos", "--shards", "one", "--shard-size", "2", "--levels", "1"], in: dir)
        #expect(single.status == 0, "\(single.stderr)")
        let one = dir.appendingPathComponent("one")
        #expect(try FileManager.default.contentsOfDirectory(atPath: one.path).sorted() == ["tokens-000000.tar", "tokens-000001.tar", "tokens-index.jsonl"])
        let first = try Tar.members(of: bytes(one, "tokens-000000.tar"))
        #expect(first.map(\.name) == ["000000000.json", "000000000.tokens.npy", "000000001.json", "000000001.tokens.npy"])
        let meta = try TokenArrayInfo.parse(first[2].data)
        #expect(meta.source == "a/z/flower.png" && meta.width == 768 && meta.height == 512 && meta.levels == 1 && meta.factor == 8)
        #expect(try NPY.header(of: first[3].data).shape == [1, 64, 96])
        let index = String(decoding: try bytes(one, "tokens-index.jsonl"), as: UTF8.self).split(separator: "\n")
        #expect(index.map { try! TokenArrayInfo.parse(Array($0.utf8)).source } == ["a/leaf.jpg", "a/z/flower.png", "b/kite.png"])
        #expect(index[2].contains(#""shard":"tokens-000001.tar""#))

        let shards = try ["tokens-000000.tar", "tokens-000001.tar", "tokens-index.jsonl"].map { try bytes(one, $0) }
        try FileManager.default.removeItem(at: one.appendingPathComponent("tokens-000001.tar"))
        let resumed = try CLIRunner.run(["tokens", "photos", "--shards", "one", "--shard-size", "2", "--levels", "1", "-v"], in: dir)
        #expect(resumed.stderr.contains("1 shards written, 1 already there"), "\(resumed.stderr)")
        for worker in ["1/2", "0/2"] {
            let r = try CLIRunner.run(["tokens", "photos", "--shards", "two", "--shard-size", "2", "--levels", "1", "--worker", worker], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for (i, name) in ["tokens-000000.tar", "tokens-000001.tar", "tokens-index.jsonl"].enumerated() {
            #expect(try bytes(one, name) == shards[i], "resumed: \(name)")
            #expect(try bytes(dir.appendingPathComponent("two"), name) == shards[i], "two workers: \(name)")
        }
    }

    @Test func corruptImagesAreLeftOutAndReported() throws {
        let dir = try folder(with: ["kite-rgba-160x120.png": "in/a.png"])
        try Data("\u{89}PNG\r\n\u{1A}\n broken".utf8).write(to: dir.appendingPathComponent("in/b.png"))
        try Data("in/a.png\nin/b.png\n".utf8).write(to: dir.appendingPathComponent("list.txt"))
        let r = try CLIRunner.run(["tokens", "--files-from", "list.txt", "--shards", "out"], in: dir)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("vqz: in/b.png: "), "\(r.stderr)")
        let members = try Tar.members(of: bytes(dir.appendingPathComponent("out"), "tokens-000000.tar"))
        #expect(members.map(\.name) == ["000000000.json", "000000000.tokens.npy"])

        let missing = try CLIRunner.run(["tokens", "in/a.png", "in/none.png", "--shards", "out2"], in: dir)
        #expect(missing.status == 1 && missing.stderr.contains("in/none.png"))
        let usage = try CLIRunner.run(["tokens", "in/a.png", "in/b.png"], in: dir)
        #expect(usage.status == 1 && usage.stderr.contains("several inputs need --shards DIR"))
        let worker = try CLIRunner.run(["tokens", "in", "--shards", "o", "--worker", "2/2"], in: dir)
        #expect(worker.status == 1 && worker.stderr.contains("--worker '2/2' must be I/N with 0 <= I < N"))
    }
}
