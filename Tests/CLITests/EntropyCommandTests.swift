import Foundation
import Testing

/// `--entropy prior` through the binary: smaller files, the same pixels, and a clear refusal
/// when the prior a file names is not at hand.
@Suite struct EntropyCommandTests {
    static let samples = CodecCommandTests.samples

    @Test func priorCodedFilesAreSmallerAndDecodeToTheSamePixels() throws {
        let folder = try CLIRunner.scratchFolder()
        let photo = Self.samples.appendingPathComponent("dandelion-768x512.png").path
        let zstd = try CLIRunner.run(["compress", "--levels", "2", "-o", "z.vqz", photo], in: folder)
        let prior = try CLIRunner.run(["compress", "--levels", "2", "--entropy", "prior", "-o", "p.vqz", photo], in: folder)
        #expect(zstd.status == 0 && prior.status == 0, "\(zstd.stderr) \(prior.stderr)")
        let z = try Data(contentsOf: folder.appendingPathComponent("z.vqz")), p = try Data(contentsOf: folder.appendingPathComponent("p.vqz"))
        #expect(p.count < z.count, "prior \(p.count) bytes, zstd \(z.count)")
        let info = try CLIRunner.run(["info", "p.vqz"], in: folder)
        #expect(info.stdout.contains("entropy coder:  prior, rANS with vqz2-context@"), "\(info.stdout)")
        #expect(info.stdout.contains("PRIO"), "\(info.stdout)")
        for name in ["z", "p"] {
            #expect(try CLIRunner.run(["decompress", "-o", "\(name).ppm", "\(name).vqz"], in: folder).status == 0)
        }
        #expect(try Data(contentsOf: folder.appendingPathComponent("z.ppm")) == Data(contentsOf: folder.appendingPathComponent("p.ppm")))
    }

    @Test func aFileCodedWithAnotherPriorIsRefusedByName() throws {
        let folder = try CLIRunner.scratchFolder()
        let images = folder.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.samples.appendingPathComponent("leaf-256.jpg"), to: images.appendingPathComponent("leaf.jpg"))
        // A second prior, from the training command itself (a few steps, one small picture).
        let train = try CLIRunner.run(["train", "entropy", "--data", "images", "--steps", "3", "--batch", "16", "--scales", "1",
                                       "--checkpoint", "ck/c.safetensors", "--output", "mine.safetensors", "--name", "mine"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        let leaf = images.appendingPathComponent("leaf.jpg").path
        let coded = try CLIRunner.run(["compress", "--levels", "1", "--entropy", "prior", "--entropy-prior", "mine.safetensors", "-o", "l.vqz", leaf], in: folder)
        #expect(coded.status == 0, "\(coded.stderr)")
        let refused = try CLIRunner.run(["decompress", "-o", "l.png", "l.vqz"], in: folder)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("entropy prior mine@") && refused.stderr.contains("--entropy-prior"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("l.png").path), "no partial output")
        let given = try CLIRunner.run(["decompress", "--entropy-prior", "mine.safetensors", "-o", "l.png", "l.vqz"], in: folder)
        #expect(given.status == 0, "\(given.stderr)")
    }

    @Test func unknownCoderIsAUsageError() throws {
        let r = try CLIRunner.run(["compress", "--entropy", "lzma", "-c", Self.samples.appendingPathComponent("leaf-256.jpg").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("lzma"), "\(r.stderr)")
    }
}
