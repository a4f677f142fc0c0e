import Foundation
import ImageIO
import Models
import StandardFormats
import Testing
import VQZ

/// `vqz generate` and `vqz inpaint` as scripts see them: files written, exit codes, one-line errors.
/// The priors are small untrained ones written by the test (the bundled ones may be absent).
@Suite struct GenerateInpaintTests {
    static let tokenizer = try! TokenizerModel.bundled()

    /// A tiny prior for the bundled photo tokenizer, or `model` (or, with `digest`, for some other tokenizer).
    static func priorBytes(_ kind: PriorKind = .transformer, for model: TokenizerModel = tokenizer, digest: String? = nil) -> [UInt8] {
        let k = model.config.codebookSize
        let config = kind == .pixelcnn ? PriorConfig(kind: .pixelcnn, codebookSize: k, width: 8, layers: 2)
                                       : PriorConfig(kind: kind, codebookSize: k, width: 16, layers: 1, heads: 2)
        var meta = TokenizerRecord.metadata(model)
        if let digest { meta[TokenizerRecord.digestKey] = digest }
        return Priors.exportWeights(Priors.make(config, seed: 3), name: "test", metadata: meta)
    }

    static func png(width: Int, height: Int, tint: Bool = true, value: (Int, Int) -> UInt8) throws -> [UInt8] {
        var s = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 { s[(y * width + x) * 3 + c] = value(x, y) &+ (tint ? UInt8(c * 40) : 0) } } }
        return try FormatRegistry.standard.encode(Image(width: width, height: height, channels: 3, samples8: s), as: "png")
    }

    func folder() throws -> URL {
        let url = try CLIRunner.scratchFolder()
        try Data(Self.priorBytes()).write(to: url.appendingPathComponent("prior.safetensors"))
        try Data(Self.priorBytes(.pixelcnn)).write(to: url.appendingPathComponent("pixelcnn.safetensors"))
        try Data(Self.priorBytes(.masked)).write(to: url.appendingPathComponent("masked.safetensors"))
        try Data(Self.priorBytes(digest: String(repeating: "00", count: 16))).write(to: url.appendingPathComponent("other.safetensors"))
        try Data(Self.png(width: 64, height: 48) { x, y in UInt8((x * 3 + y * 2) % 256) }).write(to: url.appendingPathComponent("photo.png"))
        try Data(Self.png(width: 64, height: 48, tint: false) { x, y in x >= 20 && x < 36 && y >= 8 && y < 20 ? 255 : 0 }).write(to: url.appendingPathComponent("mask.png"))
        try Data(Self.png(width: 10, height: 10, tint: false) { _, _ in 255 }).write(to: url.appendingPathComponent("small-mask.png"))
        return url
    }

    func decode(_ url: URL) throws -> Image { try FormatRegistry.standard.decode(Array(try Data(contentsOf: url))) }

    @Test func generateWritesNumberedFilesOrOneSheet() throws {
        let dir = try folder()
        let r = try CLIRunner.run(["generate", "--prior-weights", "prior.safetensors", "--size", "40x24", "--count", "3", "--seed", "5", "-o", "out.png"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        for i in 1...3 {
            let image = try decode(dir.appendingPathComponent("out-\(i).png"))
            #expect(image.width == 40 && image.height == 24)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.png").path))
        let sheet = try CLIRunner.run(["generate", "--prior-weights", "prior.safetensors", "--size", "40x24", "--count", "3", "--grid", "--seed", "5", "-o", "sheet.png"], in: dir)
        #expect(sheet.status == 0)
        let image = try decode(dir.appendingPathComponent("sheet.png"))
        #expect(image.width == 2 * 40 + 4 && image.height == 2 * 24 + 4)
        // The same seed gives the same bytes; an existing output needs -f.
        let again = try CLIRunner.run(["generate", "--prior-weights", "prior.safetensors", "--size", "40x24", "--count", "3", "--seed", "5", "-o", "out.png"], in: dir)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
        let forced = try CLIRunner.run(["generate", "--prior-weights", "prior.safetensors", "--size", "40x24", "--seed", "5", "-o", "one.png"], in: dir)
        #expect(forced.status == 0)
        #expect(try Data(contentsOf: dir.appendingPathComponent("one.png")) == (try Data(contentsOf: dir.appendingPathComponent("out-1.png"))))
    }

    /// A prior names the tokens it models: without --model, generate decodes through the bundled
    /// tokenizer that makes them, not the default photo one.
    @Test func aPriorPicksTheBundledTokenizerOfItsTokens() throws {
        let dir = try folder()
        let shapes = try TokenizerModel.bundled(.shapes)
        try Data(Self.priorBytes(for: shapes)).write(to: dir.appendingPathComponent("shapes-prior.safetensors"))
        try Data(try #require(BundledWeights.named(BundledTokenizer.shapes.rawValue))).write(to: dir.appendingPathComponent("shapes.safetensors"))
        let implied = try CLIRunner.run(["generate", "--prior-weights", "shapes-prior.safetensors", "--size", "32x16", "--seed", "2", "-o", "implied.png"], in: dir)
        #expect(implied.status == 0, "\(implied.stderr)")
        let named = try CLIRunner.run(["generate", "--prior-weights", "shapes-prior.safetensors", "--model", "shapes.safetensors", "--size", "32x16", "--seed", "2", "-o", "named.png"], in: dir)
        #expect(named.status == 0, "\(named.stderr)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("implied.png")) == (try Data(contentsOf: dir.appendingPathComponent("named.png"))))
    }

    @Test(arguments: [
        (["generate", "--size", "0x5", "-o", "a.png"], Int32(1), "--size"),
        (["generate", "--size", "big", "-o", "a.png"], Int32(1), "--size"),
        (["generate", "--count", "0", "-o", "a.png"], Int32(1), "--count"),
        (["generate", "--top-p", "1.5", "-o", "a.png"], Int32(1), "--top-p"),
        (["generate", "--prior-weights", "other.safetensors", "-o", "a.png"], Int32(3), "trained for the tokens of tokenizer"),
        (["generate", "--prior-weights", "prior.safetensors", "--size", "256x256", "-o", "a.png"], Int32(1), "--prior pixelcnn"),
        (["generate", "--prior-weights", "missing.safetensors", "-o", "a.png"], Int32(3), "cannot read model file"),
        (["inpaint", "photo.png", "--rect", "1,2,3", "--prior-weights", "prior.safetensors"], Int32(1), "--rect must be X,Y,W,H"),
        (["inpaint", "photo.png", "--rect", "1,2,0,4", "--prior-weights", "prior.safetensors"], Int32(1), "--rect must be X,Y,W,H"),
        (["inpaint", "photo.png", "--rect", "50,40,20,20", "--prior-weights", "prior.safetensors"], Int32(1), "does not lie inside the 64x48 image"),
        (["inpaint", "photo.png", "--prior-weights", "prior.safetensors"], Int32(1), "exactly one of --mask and --rect"),
        (["inpaint", "photo.png", "--rect", "1,1,4,4", "--mask", "mask.png"], Int32(1), "exactly one of --mask and --rect"),
        (["inpaint", "photo.png", "--mask", "small-mask.png", "--prior-weights", "prior.safetensors"], Int32(1), "mask is 10x10 but the image is 64x48"),
        (["inpaint", "photo.png", "--mask", "nothing.png", "--prior-weights", "prior.safetensors"], Int32(1), "nothing.png: cannot open"),
        (["inpaint", "nothing.png", "--rect", "1,1,4,4", "--prior-weights", "prior.safetensors"], Int32(1), "nothing.png: cannot open"),
        (["inpaint", "mask.png", "--rect", "1,1,4,4", "--prior-weights", "other.safetensors", "-o", "x.png"], Int32(3), "trained for the tokens of tokenizer"),
        (["inpaint", "photo.png", "--rect", "1,1,4,4", "--prior-weights", "masked.safetensors", "--draws", "0"], Int32(1), "--draws must be in 1...64"),
        (["inpaint", "photo.png", "--rect", "1,1,4,4", "--prior-weights", "masked.safetensors", "--steps", "0"], Int32(1), "--steps must be in 1...256"),
    ])
    func usageErrors(arguments: [String], status: Int32, message: String) throws {
        let dir = try folder()
        let r = try CLIRunner.run(arguments, in: dir)
        #expect(r.status == status, "\(arguments): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".png") }
        #expect(Set(written) == ["photo.png", "mask.png", "small-mask.png"], "no output on failure")
    }

    @Test func inpaintWritesBesideTheInputAndKeepsTheOutside() throws {
        let dir = try folder()
        let r = try CLIRunner.run(["inpaint", "photo.png", "--mask", "mask.png", "--prior-weights", "pixelcnn.safetensors",
                                   "--prior", "pixelcnn", "--candidates", "4", "--seed", "3"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let original = try decode(dir.appendingPathComponent("photo.png")).samples8
        let out = try decode(dir.appendingPathComponent("photo.inpainted.png"))
        #expect(out.width == 64 && out.height == 48)
        var changed = 0
        for y in 0..<48 {
            for x in 0..<64 {
                let inside = x >= 20 && x < 36 && y >= 8 && y < 20
                let far = x < 20 - 4 || x >= 36 + 4 || y < 8 - 4 || y >= 20 + 4
                let i = (y * 64 + x) * 3
                if far { #expect(Array(out.samples8[i..<(i + 3)]) == Array(original[i..<(i + 3)]), "pixel \(x),\(y)") }
                if inside && out.samples8[i..<(i + 3)] != original[i..<(i + 3)] { changed += 1 }
            }
        }
        #expect(changed > 16 * 12 / 2)
        let raster = try CLIRunner.run(["inpaint", "photo.png", "--rect", "20,8,16,12", "--context", "raster",
                                        "--prior-weights", "prior.safetensors", "-o", "r.png"], in: dir)
        #expect(raster.status == 0, "\(raster.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.png").path))
        let masked = try CLIRunner.run(["inpaint", "photo.png", "--rect", "20,8,16,12", "--draws", "3", "--steps", "4",
                                        "--prior-weights", "masked.safetensors", "-o", "m.png", "-v"], in: dir)
        #expect(masked.status == 0, "\(masked.stderr)")
        #expect(masked.stderr.contains("masked prior (4 steps)"), "\(masked.stderr)")
        let filled = try decode(dir.appendingPathComponent("m.png")).samples8
        for y in 0..<48 {
            for x in 0..<64 where x < 16 || x >= 40 || y < 4 || y >= 24 {
                let i = (y * 64 + x) * 3
                #expect(Array(filled[i..<(i + 3)]) == Array(original[i..<(i + 3)]), "masked: pixel \(x),\(y)")
            }
        }
    }
}
