import Foundation
import Testing

/// The conventions vqz shares with zstd and cwebp (docs/CONVENTIONS.md): --version, -t, -r, -T,
/// progress on a terminal only, and usage errors that point to the command's own help.
@Suite struct ConventionsTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../samples").standardized
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    func copySamples(_ names: [String], to folder: URL, as renamed: [String]? = nil) throws {
        for (i, name) in names.enumerated() {
            let target = folder.appendingPathComponent(renamed?[i] ?? name)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.samples.appendingPathComponent(name), to: target)
        }
    }

    /// Every regular file under `folder`, relative, sorted.
    func listing(_ folder: URL) -> [String] {
        let walker = FileManager.default.enumerator(atPath: folder.path)
        var names: [String] = []
        while let name = walker?.nextObject() as? String {
            if walker?.fileAttributes?[.type] as? FileAttributeType == .typeRegular { names.append(name) }
        }
        return names.sorted()
    }

    @Test func versionNamesTheBundledModelsWithTheDigestInfoShows() throws {
        let version = try CLIRunner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stderr == "")
        let snapshot = try? String(contentsOf: Self.snapshots.appendingPathComponent("version.txt"), encoding: .utf8)
        #expect(version.stdout == snapshot, "to accept a new version text: vqz --version > Tests/CLITests/Snapshots/version.txt")
        // The digest a .vqz file records is the one --version gives the bundled tokenizer.
        let folder = try CLIRunner.scratchFolder()
        try copySamples(["leaf-256.jpg"], to: folder)
        #expect(try CLIRunner.run(["compress", "-q", "1", "leaf-256.jpg"], in: folder).status == 0)
        let info = try CLIRunner.run(["info", "--json", "leaf-256.jpg.vqz"], in: folder)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let digest = try #require(json["modelDigest"] as? String)
        let name = try #require(json["model"] as? String)
        let tokenizerLine = version.stdout.split(separator: "\n").first { $0.hasPrefix("  tokenizer ") }
        #expect(tokenizerLine?.hasSuffix("\(name)  digest \(digest)") == true)
    }

    @Test func testFlagDecodesWritesNothingAndFailsWithTwoOnACorruptFile() throws {
        let folder = try CLIRunner.scratchFolder()
        try copySamples(["leaf-256.jpg"], to: folder)
        #expect(try CLIRunner.run(["compress", "-q", "1", "leaf-256.jpg"], in: folder).status == 0)
        var bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent("leaf-256.jpg.vqz")))
        bytes[bytes.count / 2] ^= 0x55
        try Data(bytes).write(to: folder.appendingPathComponent("bad.vqz"))
        let before = listing(folder)

        let both = try CLIRunner.run(["decompress", "-t", "leaf-256.jpg.vqz", "bad.vqz"], in: folder)
        #expect(both.status == 2)
        let lines = both.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2] == "")
        #expect(lines.first == "vqz: leaf-256.jpg.vqz: OK")
        #expect(lines.count > 1 && lines[1].hasPrefix("vqz: bad.vqz: "))
        #expect(both.stdout == "")
        #expect(listing(folder) == before)

        let good = try [UInt8](Data(contentsOf: folder.appendingPathComponent("leaf-256.jpg.vqz")))
        let piped = try CLIRunner.run(["decompress", "--test"], stdin: good, in: folder)
        #expect(piped.status == 0)
        #expect(piped.stderr == "vqz: stdin: OK\n")
        #expect(piped.stdout == "")
        let quiet = try CLIRunner.run(["decompress", "-t", "--quiet", "leaf-256.jpg.vqz"], in: folder)
        #expect(quiet.status == 0 && quiet.stderr == "")
        let refused = try CLIRunner.run(["decompress", "-t", "-c", "leaf-256.jpg.vqz"], in: folder)
        #expect(refused.status == 1)
    }

    @Test func recursiveCompressTakesImagesAndDecompressTakesVQZFiles() throws {
        let folder = try CLIRunner.scratchFolder()
        try copySamples(["leaf-256.jpg", "kite-rgba-160x120.png"], to: folder, as: ["pics/leaf.jpg", "pics/deeper/kite.png"])
        try Data("not an image\n".utf8).write(to: folder.appendingPathComponent("pics/notes.txt"))

        let compress = try CLIRunner.run(["compress", "-q", "1", "-r", "pics"], in: folder)
        #expect(compress.status == 0)
        #expect(compress.stderr == "")
        #expect(listing(folder) == ["pics/deeper/kite.png", "pics/deeper/kite.png.vqz", "pics/leaf.jpg", "pics/leaf.jpg.vqz", "pics/notes.txt"])

        // zstd -r stops on outputs that exist (without -f) with an error for each, and so does vqz.
        let again = try CLIRunner.run(["compress", "-q", "1", "-r", "pics"], in: folder)
        #expect(again.status == 1)
        #expect(again.stderr == """
            vqz: pics/deeper/kite.png: pics/deeper/kite.png.vqz already exists (use -f to overwrite)
            vqz: pics/leaf.jpg: pics/leaf.jpg.vqz already exists (use -f to overwrite)

            """)

        try FileManager.default.removeItem(at: folder.appendingPathComponent("pics/leaf.jpg"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("pics/deeper/kite.png"))
        let decompress = try CLIRunner.run(["decompress", "-r", "pics"], in: folder)
        #expect(decompress.status == 0)
        #expect(listing(folder) == ["pics/deeper/kite.png", "pics/deeper/kite.png.vqz", "pics/leaf.jpg", "pics/leaf.jpg.vqz", "pics/notes.txt"])

        let withoutR = try CLIRunner.run(["compress", "pics"], in: folder)
        #expect(withoutR.status == 1)
        #expect(withoutR.stderr == "vqz: pics: is a directory\n")
    }

    @Test func filesSideBySideGiveTheSameBytesAndMessagesInInputOrder() throws {
        let folder = try CLIRunner.scratchFolder()
        try copySamples(["leaf-256.jpg", "kite-rgba-160x120.png", "leaf-256.jpg"], to: folder, as: ["a.jpg", "b.png", "d.jpg"])
        try Data("P6\n2 2\n255\n".utf8).write(to: folder.appendingPathComponent("c.ppm"))  // truncated pixels
        let inputs = ["a.jpg", "b.png", "c.ppm", "d.jpg"]

        let parallel = try CLIRunner.run(["compress", "-q", "1", "-T", "2", "-v"] + inputs, in: folder)
        #expect(parallel.status == 2)
        let lines = parallel.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(zip(lines, inputs).allSatisfy { $0.hasPrefix("vqz: \($1): ") }, "messages out of input order: \(lines)")
        let together = try inputs.filter { $0 != "c.ppm" }.map { try Data(contentsOf: folder.appendingPathComponent($0 + ".vqz")) }

        for name in inputs where name != "c.ppm" { try FileManager.default.removeItem(at: folder.appendingPathComponent(name + ".vqz")) }
        let sequential = try CLIRunner.run(["compress", "-q", "1", "-T", "1"] + inputs, in: folder)
        #expect(sequential.status == 2)
        let alone = try inputs.filter { $0 != "c.ppm" }.map { try Data(contentsOf: folder.appendingPathComponent($0 + ".vqz")) }
        #expect(together == alone)
        #expect(try CLIRunner.run(["compress", "-T", "-1", "a.jpg"], in: folder).status == 1)
    }

    /// A picture of `width` x `height` as binary PPM: smooth gradients, which the tokenizer codes like a photo's sky.
    func gradient(width: Int, height: Int) -> [UInt8] {
        var bytes = Array("P6\n\(width) \(height)\n255\n".utf8)
        bytes.reserveCapacity(bytes.count + width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                bytes += [UInt8(x * 255 / width), UInt8(y * 255 / height), UInt8((x + y) % 256)]
            }
        }
        return bytes
    }

    @Test func progressShowsOnATerminalOnlyAndNotWithNoProgress() throws {
        let folder = try CLIRunner.scratchFolder()
        // 200x100 tokens: several tiles of the encoder, a few seconds of work.
        try Data(gradient(width: 1600, height: 800)).write(to: folder.appendingPathComponent("big.ppm"))
        let vqz = CLIRunner.binary.path
        // util-linux's script runs the command on a pseudo-terminal and copies what it printed.
        func onTerminal(_ command: String) throws -> CLIRunner.Result {
            try CLIRunner.run(["-qec", command, "/dev/null"], in: folder, environment: ["VQZ_PROGRESS_DELAY": "0"], executable: "/usr/bin/script")
        }
        let shown = try onTerminal("'\(vqz)' compress -q 1 -f big.ppm")
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("big.ppm: encoding, tile 1/") && shown.stdout.contains("big.ppm: encoding, tile 2/"),
                "no progress on a terminal: \(shown.stdout.debugDescription)")
        #expect(shown.stdout.hasSuffix("\r\u{1B}[K"), "the progress line is not erased at the end")

        let silent = try onTerminal("'\(vqz)' compress -q 1 -f --no-progress big.ppm")
        #expect(silent.status == 0)
        #expect(silent.stdout == "")

        let decoded = try onTerminal("'\(vqz)' decompress -f big.ppm.vqz")
        #expect(decoded.stdout.contains("big.ppm.vqz: decoding, tile 1/") && decoded.stdout.contains("big.ppm.vqz: decoding, tile 2/"))

        let piped = try CLIRunner.run(["compress", "-q", "1", "-f", "big.ppm"], in: folder, environment: ["VQZ_PROGRESS_DELAY": "0"])
        #expect(piped.status == 0)
        #expect(piped.stderr == "")
    }

    @Test func usageErrorsPointToTheCommandsOwnHelp() throws {
        let train = try CLIRunner.run(["train", "prior", "--kind", "transformer", "--data", "x", "--bogus"])
        #expect(train.status == 1)
        #expect(train.stderr == "vqz: Unknown option '--bogus' (see 'vqz train prior --help')\n")
        let root = try CLIRunner.run(["--bogus"])
        #expect(root.stderr == "vqz: Unknown option '--bogus' (see 'vqz --help')\n")
    }
}
