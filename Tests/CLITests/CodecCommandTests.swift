import Foundation
import Testing
import VQZ

/// compress, decompress, tokens and compare through the binary, as users run them.
@Suite struct CodecCommandTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../samples").standardized

    func copySamples() throws -> URL {
        let folder = try CLIRunner.scratchFolder()
        for name in ["kite-rgba-160x120.png", "leaf-256.jpg"] {
            try FileManager.default.copyItem(at: Self.samples.appendingPathComponent(name),
                                             to: folder.appendingPathComponent(name))
        }
        return folder
    }

    /// `eval tokenizer` reports what compress, decompress and compare give, level by level, and
    /// with --unquantized the limit the levels approach.
    @Test func evalTokenizerAgreesWithTheCommands() throws {
        let folder = try CLIRunner.scratchFolder()
        try FileManager.default.copyItem(at: Self.samples.appendingPathComponent("leaf-256.jpg"), to: folder.appendingPathComponent("leaf-256.jpg"))
        let eval = try CLIRunner.run(["eval", "tokenizer", "--data", folder.path, "--json", "--unquantized"])
        #expect(eval.status == 0, "\(eval.stderr)")
        var rows = try eval.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == TokenizerModel.photos.config.levels + 1)
        let limit = rows.removeLast()
        #expect(limit["unquantized"] as? Bool == true)
        let bpp = rows.map { $0["bpp"] as! Double }, psnr = rows.map { $0["psnr"] as! Double }
        #expect(bpp == bpp.sorted() && psnr[3] > psnr[0], "each level adds bits and quality: \(bpp) \(psnr)")
        #expect(limit["psnr"] as! Double > psnr[0], "the unquantized latent decodes better than one level: \(limit) \(psnr)")
        for row in rows { #expect((1...1024).contains(row["codes_used"] as! Int)) }
        for level in [1, 4] {
            let vqz = folder.appendingPathComponent("leaf-q\(level).vqz").path, png = folder.appendingPathComponent("leaf-q\(level).png").path
            #expect(try CLIRunner.run(["compress", "--levels", "\(level)", "leaf-256.jpg", "-o", vqz], in: folder).status == 0)
            #expect(try CLIRunner.run(["decompress", vqz, "-o", png], in: folder).status == 0)
            let compared = try CLIRunner.run(["compare", "leaf-256.jpg", png, "--json"], in: folder)
            let scores = try JSONSerialization.jsonObject(with: Data(compared.stdout.utf8)) as! [String: Any]
            let bytes = try FileManager.default.attributesOfItem(atPath: vqz)[.size] as! Int
            #expect(abs(Double(bytes * 8) / (256 * 256) - bpp[level - 1]) < 1e-3)
            #expect(abs(scores["psnr"] as! Double - psnr[level - 1]) < 0.01)
            #expect(abs(scores["msssim"] as! Double - (rows[level - 1]["msssim"] as! Double)) < 1e-4)
        }
    }

    /// Without --model, decompress decodes each file with the bundled tokenizer that wrote it (so
    /// files outlive a change of the default tokenizer), and names the model a file needs when this
    /// build has none of it.
    @Test func decompressPicksTheBundledTokenizerAFileNames() throws {
        let folder = try copySamples()
        let shapes = folder.appendingPathComponent("shapes.safetensors")
        try Data(try #require(BundledWeights.named(BundledTokenizer.shapes.rawValue))).write(to: shapes)
        #expect(try CLIRunner.run(["compress", "kite-rgba-160x120.png", "--model", shapes.path, "-o", "kite.vqz"], in: folder).status == 0)
        let plain = try CLIRunner.run(["decompress", "kite.vqz", "-o", "plain.png"], in: folder)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(try CLIRunner.run(["decompress", "kite.vqz", "--model", shapes.path, "-o", "named.png"], in: folder).status == 0)
        #expect(try Data(contentsOf: folder.appendingPathComponent("plain.png")) == Data(contentsOf: folder.appendingPathComponent("named.png")))

        // A weights file that no build bundles: its files need it back.
        var other = try [UInt8](Data(contentsOf: shapes))
        other[other.count - 1] ^= 1
        try Data(other).write(to: folder.appendingPathComponent("other.safetensors"))
        #expect(try CLIRunner.run(["compress", "leaf-256.jpg", "--model", "other.safetensors", "-o", "leaf.vqz"], in: folder).status == 0)
        let refused = try CLIRunner.run(["decompress", "leaf.vqz", "-o", "leaf.png"], in: folder)
        #expect(refused.status != 0 && refused.stderr.contains("vqz-shapes-f8-k1024@"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("leaf.png").path))
    }

    @Test func pipeRoundTrip() throws {
        let jpeg = try [UInt8](Data(contentsOf: Self.samples.appendingPathComponent("leaf-256.jpg")))
        let compressed = try CLIRunner.run(["compress", "--levels", "1"], stdin: jpeg)
        #expect(compressed.status == 0, "\(compressed.stderr)")
        #expect(compressed.stdoutBytes.starts(with: [0x89, 0x56, 0x51, 0x5A]))
        let png = try CLIRunner.run(["decompress"], stdin: compressed.stdoutBytes)
        #expect(png.status == 0, "\(png.stderr)")
        #expect(png.stdoutBytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "PNG is the default on a pipe")
    }

    @Test func severalFilesGoBesideEachInputAndBack() throws {
        let folder = try copySamples()
        let compressed = try CLIRunner.run(["compress", "kite-rgba-160x120.png", "leaf-256.jpg"], in: folder)
        #expect(compressed.status == 0, "\(compressed.stderr)")
        for name in ["kite-rgba-160x120.png.vqz", "leaf-256.jpg.vqz"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path))
        }
        // The originals are kept, so decompressing beside them needs -f.
        let refused = try CLIRunner.run(["decompress", "kite-rgba-160x120.png.vqz"], in: folder)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("exists"), "\(refused.stderr)")
        let back = try CLIRunner.run(["decompress", "-f", "kite-rgba-160x120.png.vqz", "leaf-256.jpg.vqz"], in: folder)
        #expect(back.status == 0, "\(back.stderr)")
        let jpeg = try [UInt8](Data(contentsOf: folder.appendingPathComponent("leaf-256.jpg")))
        #expect(jpeg.starts(with: [0xFF, 0xD8]), "leaf-256.jpg is written as JPEG, from its extension")
        let score = try CLIRunner.run(["compare", Self.samples.appendingPathComponent("leaf-256.jpg").path, "leaf-256.jpg"], in: folder)
        #expect(score.status == 0, "\(score.stderr)")
        #expect(score.stdout.hasPrefix("PSNR: "), "\(score.stdout)")
    }

    @Test func alphaSurvivesTheRoundTrip() throws {
        let folder = try copySamples()
        #expect(try CLIRunner.run(["compress", "-o", "k.vqz", "kite-rgba-160x120.png"], in: folder).status == 0)
        #expect(try CLIRunner.run(["decompress", "-o", "k.pam", "k.vqz"], in: folder).status == 0)
        let pam = try String(decoding: Data(contentsOf: folder.appendingPathComponent("k.pam")).prefix(80), as: UTF8.self)
        #expect(pam.contains("DEPTH 4"), "\(pam)")
    }

    @Test func badInputsFailInOneLineWithTheirCodes() throws {
        let folder = try copySamples()
        try Data("not an image".utf8).write(to: folder.appendingPathComponent("junk.png"))
        let junk = try CLIRunner.run(["compress", "junk.png"], in: folder)
        #expect(junk.status == 2)
        #expect(junk.stderr.split(separator: "\n").count == 1, "\(junk.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("junk.png.vqz").path), "no partial output")

        let level = try CLIRunner.run(["compress", "--levels", "9", "-c", "leaf-256.jpg"], in: folder)
        #expect(level.status == 1)
        #expect(level.stderr.contains("out of range"), "\(level.stderr)")

        let model = try CLIRunner.run(["compress", "--model", "missing.safetensors", "leaf-256.jpg"], in: folder)
        #expect(model.status == 3, "\(model.stderr)")

        let wrongModel = try CLIRunner.run(["compress", "--model", "leaf-256.jpg", "-c", "leaf-256.jpg"], in: folder)
        #expect(wrongModel.status == 3, "\(wrongModel.stderr)")
        #expect(wrongModel.stderr.hasPrefix("vqz: leaf-256.jpg: "), "the error names the model file: \(wrongModel.stderr)")
        let wrongPrior = try CLIRunner.run(["compress", "--entropy", "prior", "--entropy-prior", "leaf-256.jpg", "-c", "leaf-256.jpg"], in: folder)
        #expect(wrongPrior.status == 3, "\(wrongPrior.stderr)")
        #expect(wrongPrior.stderr.hasPrefix("vqz: leaf-256.jpg: "), "the error names the prior file: \(wrongPrior.stderr)")
    }

    /// Files the first photo tokenizer wrote decode with no option, zstd- and prior-coded, though
    /// the default tokenizer and entropy prior are others now: the reader picks the models the file names.
    @Test func firstTokenizerFilesDecodeWithNoOption() throws {
        let fixtures = Self.samples.appendingPathComponent("../Tests/VQZTests/Fixtures/v1").standardized
        let folder = try CLIRunner.scratchFolder()
        for name in ["dandelion-gray-level3-prior", "kite-rgba-level2-zstd", "leaf-level4-prior"] {
            let file = fixtures.appendingPathComponent(name + ".vqz").path
            let info = try CLIRunner.run(["info", "--json", file], in: folder)
            #expect(info.stdout.contains("vqz-f8-k1024-l4"), "\(name): \(info.stdout)")
            let out = try CLIRunner.run(["decompress", "-o", name + ".png", file], in: folder)
            #expect(out.status == 0, "\(name): \(out.stderr)")
            let compare = try CLIRunner.run(["compare", "--json", fixtures.appendingPathComponent(name + ".pnm").path, name + ".png"], in: folder)
            let scores = try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any]
            // The pixels they were written for, give or take one level in a few samples.
            #expect((scores?["psnr"] as? Double ?? 0) > 55, "\(name): \(compare.stdout) \(compare.stderr)")
        }
        // Their tokens export too, by the model they name.
        let tokens = try CLIRunner.run(["tokens", "-o", "leaf.npy", fixtures.appendingPathComponent("leaf-level4-prior.vqz").path], in: folder)
        #expect(tokens.status == 0, "\(tokens.stderr)")
        let npy = try [UInt8](Data(contentsOf: folder.appendingPathComponent("leaf.npy")))
        #expect(String(decoding: npy.prefix(128), as: UTF8.self).contains("'shape': (4, 32, 32)"))
    }

    @Test func tokensExportsJSONAndNpy() throws {
        let folder = try copySamples()
        let json = try CLIRunner.run(["tokens", "--levels", "2", "leaf-256.jpg"], in: folder)
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["width"] as? Int == 32)
        #expect((object?["levels"] as? [[Int]])?.count == 2)
        #expect((object?["levels"] as? [[Int]])?.first?.count == 32 * 32)

        let npy = try CLIRunner.run(["tokens", "-o", "t.npy", "leaf-256.jpg"], in: folder)
        #expect(npy.status == 0, "\(npy.stderr)")
        let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent("t.npy")))
        #expect(bytes.starts(with: [0x93] + Array("NUMPY".utf8)))
        #expect(String(decoding: bytes.prefix(128), as: UTF8.self).contains("'shape': (\(TokenizerModel.photos.config.levels), 32, 32)"))
    }
}
