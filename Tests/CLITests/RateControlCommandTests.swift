import Foundation
import Testing
import VQZ

/// The quality scale and the size and fidelity targets of `vqz compress`, as a user checks them:
/// file sizes, and PSNR from `vqz compare`.
@Suite struct RateControlCommandTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../samples").standardized

    func folderWithPhoto() throws -> URL {
        let folder = try CLIRunner.scratchFolder()
        try FileManager.default.copyItem(at: Self.samples.appendingPathComponent("leaf-256.jpg"),
                                         to: folder.appendingPathComponent("leaf-256.jpg"))
        return folder
    }

    /// Compresses with `options`, decodes, and returns (bytes, PSNR against the input).
    func compressed(_ options: [String], in folder: URL) throws -> (bytes: Int, psnr: Double) {
        let c = try CLIRunner.run(["compress", "-f", "-o", "out.vqz"] + options + ["leaf-256.jpg"], in: folder)
        #expect(c.status == 0, "\(options): \(c.stderr)")
        let d = try CLIRunner.run(["decompress", "-f", "-o", "out.png", "out.vqz"], in: folder)
        #expect(d.status == 0, "\(d.stderr)")
        let compare = try CLIRunner.run(["compare", "--json", "leaf-256.jpg", "out.png"], in: folder)
        let json = try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as! [String: Any]
        let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("out.vqz").path)[.size] as! Int
        return (size, json["psnr"] as! Double)
    }

    @Test func qualityIsMonotoneInBytesAndFidelity() throws {
        let folder = try folderWithPhoto()
        let points = try [0, 20, 40, 60, 80, 100].map { try compressed(["-q", "\($0)"], in: folder) }
        #expect(points.map(\.bytes) == points.map(\.bytes).sorted(), "\(points)")
        #expect(points.map(\.psnr) == points.map(\.psnr).sorted(), "\(points)")
        #expect(points.last!.bytes > 2 * points.first!.bytes, "the scale spans the levels: \(points)")
        // The ends of the scale are the uniform grids.
        #expect(try compressed(["--levels", "1"], in: folder).bytes == points.first!.bytes)
        #expect(try compressed(["--levels", "\(TokenizerModel.photos.config.levels)"], in: folder).bytes == points.last!.bytes)
    }

    @Test func sizeTargetLandsJustUnderIt() throws {
        let folder = try folderWithPhoto()
        let low = try compressed(["-q", "0"], in: folder).bytes, high = try compressed(["-q", "100"], in: folder).bytes
        for target in [low + (high - low) / 4, (low + high) / 2] {
            let got = try compressed(["--size", "\(target)"], in: folder).bytes
            #expect(got <= target && Double(got) >= 0.97 * Double(target), "--size \(target) gave \(got) bytes")
        }
    }

    @Test func psnrTargetIsMet() throws {
        let folder = try folderWithPhoto()
        let low = try compressed(["-q", "0"], in: folder), high = try compressed(["-q", "100"], in: folder)
        let target = (low.psnr + high.psnr) / 2
        let got = try compressed(["--psnr", String(format: "%.3f", target)], in: folder)
        #expect(got.psnr >= target && got.bytes < high.bytes, "--psnr \(target) gave \(got)")
    }

    /// `--effort` chooses tokens by what they decode to: closer to the photo than nearest codes
    /// at about the same bytes (most where every level is kept), at a point of the scale and
    /// under a size target alike.
    @Test func effortDecodesCloserAtAboutTheSameBytes() throws {
        let folder = try folderWithPhoto()
        for (quality, gain) in [("60", 0.0), ("100", 0.3)] {
            let plain = try compressed(["-q", quality], in: folder), refined = try compressed(["-q", quality, "--effort", "4"], in: folder)
            #expect(refined.psnr > plain.psnr + gain, "-q \(quality): \(plain) -> \(refined)")
            #expect(Double(refined.bytes) < 1.15 * Double(plain.bytes), "-q \(quality): \(plain) -> \(refined)")
        }
        let target = try compressed(["-q", "60"], in: folder).bytes
        let sized = try compressed(["--size", "\(target)", "--effort", "4"], in: folder)
        #expect(sized.bytes <= target, "--size \(target) --effort 4 gave \(sized.bytes) bytes")
    }

    /// A token array has one level count everywhere: a file with a depth map is refused by name.
    @Test func tokensOfAFileWithADepthMapAreRefused() throws {
        let folder = try folderWithPhoto()
        #expect(try CLIRunner.run(["compress", "-q", "50", "-o", "mid.vqz", "leaf-256.jpg"], in: folder).status == 0)
        let r = try CLIRunner.run(["tokens", "mid.vqz"], in: folder)
        #expect(r.status == 1 && r.stdout.isEmpty, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("vqz: mid.vqz: positions keep different numbers of levels") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    @Test func unreachableTargetsAndConflictsAreOneLineErrors() throws {
        let folder = try folderWithPhoto()
        for (options, needle) in [(["--size", "100"], "cannot fit in 100 bytes"), (["--psnr", "80"], "cannot reach 80.0 dB"),
                                  (["-q", "101"], "0...100"), (["-q", "50", "--levels", "2"], "exclude each other"),
                                  (["--effort", "1001"], "--effort must be 0...1000")] {
            let r = try CLIRunner.run(["compress", "-o", "x.vqz"] + options + ["leaf-256.jpg"], in: folder)
            #expect(r.status == 1, "\(options): \(r.stderr)")
            #expect(r.stderr.contains(needle) && r.stderr.split(separator: "\n").count == 1, "\(options): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.vqz").path))
        }
    }
}

/// `vqz eval scale` reports what `vqz compress -q` and `--size` write.
@Suite struct EvalScaleCommandTests {
    @Test func evalScaleAgreesWithTheCommands() throws {
        let folder = try CLIRunner.scratchFolder()
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples")
        try FileManager.default.copyItem(at: samples.appendingPathComponent("leaf-256.jpg"), to: folder.appendingPathComponent("leaf-256.jpg"))
        let eval = try CLIRunner.run(["eval", "scale", "--data", folder.path, "--points", "5", "--targets", "4", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let row = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let points = row["points"] as! [[Double]], landings = row["landings"] as! [[Int]]
        #expect(points.map { $0[0] } == [0, 25, 50, 75, 100])
        let bytes = points.map { Int($0[1]) }, psnr = points.map { $0[2] }
        #expect(bytes == bytes.sorted() && psnr == psnr.sorted(), "the scale rises in bytes and PSNR: \(bytes) \(psnr)")
        func written(_ arguments: [String]) throws -> Int {
            let out = folder.appendingPathComponent("x.vqz").path
            let run = try CLIRunner.run(["compress", "leaf-256.jpg", "-f", "-o", out] + arguments, in: folder)
            #expect(run.status == 0, "\(run.stderr)")
            return try FileManager.default.attributesOfItem(atPath: out)[.size] as! Int
        }
        #expect(try written(["-q", "50"]) == bytes[2])
        #expect(landings.count == 4)
        for landing in landings {
            #expect(landing[1] <= landing[0], "--size never exceeds its target: \(landing)")
            #expect(Double(landing[1]) >= 0.97 * Double(landing[0]), "--size lands within 3% under its target: \(landing)")
            #expect(try written(["--size", "\(landing[0])"]) == landing[1])
        }
        #expect(try CLIRunner.run(["eval", "scale", "--data", folder.path, "--points", "1"]).status != 0)
    }
}
