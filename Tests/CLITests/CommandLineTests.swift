import Foundation
import Testing
import VQZ

/// The vqz binary as users and scripts see it: exit codes, stdout, stderr.
@Suite struct CommandLineTests {
    static let model = ModelFingerprint(name: "vq-test", digest: Array(100..<116))

    /// A 40x24 RGBA image as a 5x3 grid of two levels.
    static let sample: [UInt8] = {
        let grid = TokenGrid(width: 5, height: 3, levels: [Array(0..<15), Array(repeating: 7, count: 15)],
                             codebookSizes: [1024, 16])
        let file = VQZFile(width: 40, height: 24, colorChannels: 3, model: model, tokens: grid,
                           alpha: Array(repeating: 255, count: 40 * 24))
        return try! file.encode()
    }()

    func folder(with files: [String: [UInt8]]) throws -> URL {
        let url = try CLIRunner.scratchFolder()
        for (name, bytes) in files { try Data(bytes).write(to: url.appendingPathComponent(name)) }
        return url
    }

    @Test func helpMatchesSnapshot() throws {
        let snapshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Snapshots/help.txt")
        let result = try CLIRunner.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(result.stdout == (try String(contentsOf: snapshot, encoding: .utf8)),
                "to accept a new help text: vqz --help > Tests/CLITests/Snapshots/help.txt")
    }

    @Test func formatsListsEveryFormatWithAbilities() throws {
        let result = try CLIRunner.run(["formats"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("FORMAT  R/W    EXTENSIONS"))
        #expect(lines[1].hasPrefix("PNM     rw     ppm,pgm,pam,pnm"))
        #expect(lines[2].hasPrefix("PNG     rw     png "))
        #expect(lines[3].hasPrefix("JPEG    rw     jpg,jpeg,jpe,jfif"))
    }

    @Test func infoDescribesALibraryWrittenFile() throws {
        let dir = try folder(with: ["a.vqz": Self.sample])
        let result = try CLIRunner.run(["info", "a.vqz"], in: dir)
        #expect(result.status == 0)
        #expect(result.stderr == "")
        let chunks = try VQZFile.chunks(in: Self.sample)
        let bpp = Double(Self.sample.count * 8) / (40 * 24)
        var expected = """
            file:           a.vqz
            size:           \(Self.sample.count) bytes, \(String(format: "%.4f", bpp)) bits per pixel
            version:        1
            image:          40x24 RGB + alpha
            model:          vq-test (digest 6465666768696a6b6c6d6e6f70717273)
            token grid:     5x3, 2 levels
            codebook sizes: 1024, 16
            entropy coder:  zstd, packing per level: bit-packed, byte-split
            chunks:

            """
        for c in chunks { expected += "  \(c.tag)  offset \(c.offset)  \(c.length) bytes\n" }
        #expect(result.stdout == expected)
    }

    @Test func infoJSONAndStdin() throws {
        let result = try CLIRunner.run(["info", "--json", "-"], stdin: Self.sample)
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["file"] as? String == "stdin")
        #expect(object?["width"] as? Int == 40)
        #expect(object?["codebookSizes"] as? [Int] == [1024, 16])
        #expect(object?["packing"] as? String == "per-level")
        #expect(object?["levelPackings"] as? [String] == ["bit-packed", "byte-split"])
        #expect(object?["modelDigest"] as? String == "6465666768696a6b6c6d6e6f70717273")
        #expect((object?["chunks"] as? [[String: Any]])?.map { $0["tag"] as? String } == ["HEAD", "TOKN", "TOKN", "ALPH", "DONE"])
        #expect(object?["tint"] == nil)

        var tinted = try VQZFile(decoding: Self.sample)
        tinted.tint = TintPlane(cellLog2: 4, step: 2, width: 40, height: 24, channels: 3, values: Array(repeating: 1, count: 3 * 2 * 3))
        let report = try CLIRunner.run(["info", "--json", "-"], stdin: try tinted.encode())
        let tint = (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["tint"] as? [String: Int]
        #expect(tint == ["cellSide": 16, "step": 2, "columns": 3, "rows": 2])
    }

    @Test func corruptFilesFailWithCodeTwoAndOneLine() throws {
        var flipped = Self.sample
        flipped[40] ^= 0x10
        let dir = try folder(with: [
            "short.vqz": Array(Self.sample.prefix(30)),
            "flipped.vqz": flipped,
            "text.vqz": Array("hello".utf8),
            "v9.vqz": Array(Self.sample.prefix(8)) + [9, 0] + Self.sample.dropFirst(10),
        ])
        let cases = [
            ("short.vqz", "vqz: short.vqz: file is truncated (data ends inside HEAD)\n"),
            ("text.vqz", "vqz: text.vqz: not a .vqz file (bad magic bytes)\n"),
            ("v9.vqz", "vqz: v9.vqz: unsupported .vqz version 9 (this vqz reads up to version 1; upgrade vqz)\n"),
        ]
        for (name, message) in cases {
            let result = try CLIRunner.run(["info", name], in: dir)
            #expect(result.status == 2, "\(name)")
            #expect(result.stderr == message)
            #expect(result.stdout == "")
        }
        let result = try CLIRunner.run(["info", "flipped.vqz"], in: dir)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("vqz: flipped.vqz: checksum mismatch (stored 0x"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func batchGoesOnAfterAFailureAndExitsWithTheFirstCode() throws {
        let dir = try folder(with: ["good.vqz": Self.sample, "bad.vqz": [1, 2, 3]])
        let result = try CLIRunner.run(["info", "missing.vqz", "bad.vqz", "good.vqz"], in: dir)
        #expect(result.status == 1)  // missing.vqz comes first
        #expect(result.stderr == """
            vqz: missing.vqz: cannot open: No such file or directory
            vqz: bad.vqz: not a .vqz file (bad magic bytes)

            """)
        #expect(result.stdout.hasPrefix("file:           good.vqz\n"))
    }

    @Test func usageErrorsAreOneLineWithCodeOne() throws {
        let unknown = try CLIRunner.run(["info", "--bogus"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "vqz: Unknown option '--bogus' (see 'vqz info --help')\n")
        let subcommand = try CLIRunner.run(["squash"])
        #expect(subcommand.status == 1)
        #expect(subcommand.stderr.hasPrefix("vqz: Unexpected argument 'squash'"))
        #expect(subcommand.stderr.split(separator: "\n").count == 1)
        let both = try CLIRunner.run(["info", "--quiet", "-v", "x"])
        #expect(both.status == 1)
        #expect(both.stderr == "vqz: --quiet and --verbose cannot be combined (see 'vqz info --help')\n")
        let directory = try CLIRunner.run(["info", "."])
        #expect(directory.status == 1)
        #expect(directory.stderr == "vqz: .: is a directory\n")
    }

    @Test func interruptExitsWith130() throws {
        // info waiting on a pipe that never ends: SIGINT must end it with the documented code.
        let process = Process()
        process.executableURL = CLIRunner.binary
        process.arguments = ["info", "-"]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 0.5)
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            Issue.record("vqz ignored SIGINT")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? input.fileHandleForWriting.close()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130)
        #expect(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "vqz: interrupted\n")
    }
}
