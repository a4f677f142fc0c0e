import Foundation
import ImageIO
import Models
import StandardFormats
import Testing
import VQZ

/// The baselines on the command line: `vqz reconstruct`, `vqz generate --model VAE`, the refusals
/// of codec commands, and `vqz train tokenizer --kind`. Small untrained models written by the test.
@Suite struct BaselineCommandTests {
    static func weights(_ kind: AutoencoderKind) -> [UInt8] {
        Autoencoder(config: AutoencoderConfig(kind: kind, channels: [4, 6, 8], bottomBlocks: 1, codeDim: 3), seed: 2)
            .exportWeights(name: "tiny-\(kind)")
    }

    func folder() throws -> URL {
        let url = try CLIRunner.scratchFolder()
        try Data(Self.weights(.vae)).write(to: url.appendingPathComponent("vae.safetensors"))
        try Data(Self.weights(.ae)).write(to: url.appendingPathComponent("ae.safetensors"))
        try Data(GenerateInpaintTests.png(width: 36, height: 20) { x, y in UInt8((x * 5 + y * 3) % 256) })
            .write(to: url.appendingPathComponent("photo.png"))
        return url
    }

    func decode(_ url: URL) throws -> Image { try FormatRegistry.standard.decode(Array(try Data(contentsOf: url))) }

    @Test func reconstructWithEachKind() throws {
        let dir = try folder()
        for model in ["vae.safetensors", "ae.safetensors"] {
            let out = "out-\(model).png"
            let r = try CLIRunner.run(["reconstruct", "photo.png", "--model", model, "-o", out], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            let image = try decode(dir.appendingPathComponent(out))
            #expect(image.width == 36 && image.height == 20 && image.channels == 3)
        }
        // Without -o: NAME.reconstructed.png beside the input; an existing output needs -f.
        #expect(try CLIRunner.run(["reconstruct", "photo.png", "--model", "vae.safetensors"], in: dir).status == 0)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("photo.reconstructed.png").path))
        let again = try CLIRunner.run(["reconstruct", "photo.png", "--model", "vae.safetensors"], in: dir)
        #expect(again.status == 1 && again.stderr.contains("already exists"))
        // The bundled tokenizer through the codec: the same pixels as compress | decompress.
        let vq = try CLIRunner.run(["reconstruct", "photo.png", "--levels", "1", "-o", "-"], in: dir)
        let vqz = try CLIRunner.run(["compress", "--levels", "1", "-c", "photo.png"], in: dir)
        let back = try CLIRunner.run(["decompress", "-c"], stdin: vqz.stdoutBytes, in: dir)
        #expect(vq.status == 0 && back.status == 0)
        #expect(try FormatRegistry.standard.decode(vq.stdoutBytes) == (try FormatRegistry.standard.decode(back.stdoutBytes)))
    }

    @Test func generateSamplesTheVAE() throws {
        let dir = try folder()
        let r = try CLIRunner.run(["generate", "--model", "vae.safetensors", "--size", "24x16", "--count", "2", "--seed", "3", "-o", "s.png"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let first = try decode(dir.appendingPathComponent("s-1.png"))
        #expect(first.width == 24 && first.height == 16)
        let again = try CLIRunner.run(["generate", "--model", "vae.safetensors", "--size", "24x16", "--seed", "3", "-o", "t.png"], in: dir)
        #expect(again.status == 0)
        #expect(try Data(contentsOf: dir.appendingPathComponent("t.png")) == (try Data(contentsOf: dir.appendingPathComponent("s-1.png"))))
    }

    @Test(arguments: [
        (["generate", "--model", "ae.safetensors", "-o", "a.png"], Int32(1), "no prior to sample"),
        (["generate", "--model", "vae.safetensors", "--top-k", "4", "-o", "a.png"], Int32(1), "--top-k and --top-p"),
        (["compress", "--model", "vae.safetensors", "-c", "photo.png"], Int32(3), "not a codec"),
        (["tokens", "--model", "ae.safetensors", "photo.png"], Int32(3), "not a codec"),
        (["reconstruct", "photo.png", "--model", "ae.safetensors", "--levels", "2", "-o", "a.png"], Int32(1), "no quality levels"),
        (["reconstruct", "photo.png", "--model", "missing.safetensors", "-o", "a.png"], Int32(3), "cannot read model file"),
        (["reconstruct", "nothing.png", "--model", "ae.safetensors", "-o", "a.png"], Int32(1), "nothing.png: cannot open"),
        (["train", "tokenizer", "--kind", "gan", "--data", "."], Int32(1), "--kind"),
        (["train", "tokenizer", "--kind", "vae", "--beta", "-1", "--data", "."], Int32(1), "--beta"),
        (["train", "tokenizer", "--kind", "ae", "--init", "vae.safetensors", "--data", "."], Int32(1), "--init"),
        (["train", "tokenizer", "--val-side", "4", "--data", "."], Int32(1), "--val-side must be at least 8"),
        (["train", "tokenizer", "--continue-schedule", "--data", "."], Int32(1), "--continue-schedule takes up the schedule of the --init weights"),
    ])
    func refusals(arguments: [String], status: Int32, message: String) throws {
        let r = try CLIRunner.run(arguments, in: try folder())
        #expect(r.status == status, "\(arguments): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
    }

    /// A few steps of each baseline on a tiny shape write weights that name their kind and that
    /// `vqz reconstruct` reads.
    @Test func trainBaselines() throws {
        let dir = try folder()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("train"), withIntermediateDirectories: true)
        try Data(GenerateInpaintTests.png(width: 72, height: 64) { x, y in UInt8((x * 7 + y * 5) % 256) })
            .write(to: dir.appendingPathComponent("train/photo.png"))
        // Too small to crop from: refused, not a hang.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("small"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("photo.png"), to: dir.appendingPathComponent("small/photo.png"))
        let small = try CLIRunner.run(["train", "tokenizer", "--kind", "ae", "--data", "small", "--steps", "1"], in: dir)
        #expect(small.status == 1 && small.stderr == "vqz: small: no training picture is at least 64x64 pixels\n", "\(small.stderr)")
        for kind in ["ae", "vae"] {
            let r = try CLIRunner.run(["train", "tokenizer", "--kind", kind, "--data", "train", "--steps", "2", "--batch", "1",
                                       "--crop", "16", "--channels", "4,8", "--code-dim", "2", "--threads", "1",
                                       "--val", "train", "--val-side", "1024",
                                       "--checkpoint", "\(kind).ckpt", "--output", "\(kind)-trained.safetensors"], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("1 validation crops of up to 1024x1024"), "\(r.stderr)")
            let bytes = Array(try Data(contentsOf: dir.appendingPathComponent("\(kind)-trained.safetensors")))
            let (model, meta) = try Autoencoder.load(weights: bytes)
            #expect(model.kind.rawValue == kind && meta["steps"] == "2")
            let resumed = try CLIRunner.run(["train", "tokenizer", "--kind", kind, "--data", "train", "--steps", "3", "--batch", "1",
                                             "--crop", "16", "--channels", "4,8", "--code-dim", "2", "--threads", "1",
                                             "--checkpoint", "\(kind).ckpt", "--resume"], in: dir)
            #expect(resumed.status == 0 && resumed.stderr.contains("at step 2"), "\(resumed.stderr)")
            let rec = try CLIRunner.run(["reconstruct", "photo.png", "--model", "\(kind)-trained.safetensors", "-o", "\(kind).png"], in: dir)
            #expect(rec.status == 0, "\(rec.stderr)")
        }
    }
}
