import Foundation
import Testing

/// The hostile inputs and outputs of docs/RELIABILITY.md, through the built binary: each ends in
/// one line on stderr that names the file, the documented exit code, and no output left behind.
@Suite struct HardeningTests {
    static let crafted = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Crafted")
    static let kite = CodecCommandTests.samples.appendingPathComponent("kite-rgba-160x120.png").path

    let dir = try! CLIRunner.scratchFolder()

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func crafted(_ name: String) -> String { Self.crafted.appendingPathComponent(name).path }
    var entries: [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()) ?? [] }

    /// Runs a shell line in the scratch folder, with $VQZ set to the binary: for what Process
    /// cannot set up (closed descriptors, /dev/full).
    func shell(_ line: String) throws -> (status: Int32, signalled: Bool, stderr: String) {
        let err = path("shell-stderr")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", line]
        process.environment = ProcessInfo.processInfo.environment.merging(["VQZ": CLIRunner.binary.path]) { $1 }
        process.currentDirectoryURL = dir
        FileManager.default.createFile(atPath: err, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: err)
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal, text)
    }

    /// One line naming `file` and containing `words`, and the exit status.
    func expectOneLine(_ r: CLIRunner.Result, status: Int32, naming file: String, _ words: String...,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("vqz: ") && r.stderr.contains(file), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        for w in words { #expect(r.stderr.contains(w), "'\(w)' missing from: \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    // 1. A token grid must be exactly the one the tokenizer makes for the image size.
    @Test func tokenGridOfAnotherSizeIsRefused() throws {
        for name in ["grid-too-large.vqz", "grid-too-small.vqz"] {
            let r = try CLIRunner.run(["decompress", crafted(name), "-o", "out.png"], in: dir)
            expectOneLine(r, status: 2, naming: name, "grid")
            #expect(entries.isEmpty, "left behind: \(entries)")
        }
    }

    // 2. A rectangle whose sides overflow is a usage error, not a write past the mask.
    @Test func overflowingRectangleIsAUsageError() throws {
        let r = try CLIRunner.run(["inpaint", Self.kite, "--rect", "10,10,9223372036854775807,9223372036854775807", "-o", "out.png"], in: dir)
        expectOneLine(r, status: 1, naming: "--rect")
        let outside = try CLIRunner.run(["inpaint", Self.kite, "--rect", "100,100,9223372036854775000,10", "-o", "out.png"], in: dir)
        #expect(outside.status == 1 && outside.stderr.split(separator: "\n").count == 1, "\(outside.stderr)")
        #expect(entries.isEmpty)
    }

    // 3. A PNG header declaring a huge picture is refused before any row is allocated.
    @Test func hugeDeclaredPNGIsRefused() throws {
        for name in ["png-huge-width.png", "png-huge-area.png"] {
            let r = try CLIRunner.run(["compress", crafted(name), "-o", "out.vqz"], in: dir)
            expectOneLine(r, status: 2, naming: name)
            #expect(entries.isEmpty)
        }
    }

    // 4. Endless inputs end quickly: the data is recognised (or not) from its first bytes.
    @Test func endlessInputsEndWithOneLine() throws {
        expectOneLine(try CLIRunner.run(["info", "/dev/zero"], in: dir), status: 2, naming: "/dev/zero", "not a .vqz file")
        expectOneLine(try CLIRunner.run(["compress", "-c", "/dev/zero"], in: dir), status: 2, naming: "/dev/zero", "unknown image format")
        expectOneLine(try CLIRunner.run(["decompress", "-c", "/dev/zero"], in: dir), status: 2, naming: "/dev/zero")
        expectOneLine(try CLIRunner.run(["tokens", "/dev/zero"], in: dir), status: 2, naming: "/dev/zero")
    }

    // 5. Input and output are compared as files, not as names.
    @Test func outputThatIsTheInputIsRefused() throws {
        try FileManager.default.copyItem(atPath: Self.kite, toPath: path("same.png"))
        let before = FileManager.default.contents(atPath: path("same.png"))
        for output in ["./same.png", path("same.png"), "../\(dir.lastPathComponent)/same.png"] {
            let r = try CLIRunner.run(["compress", "--levels", "1", "-f", "same.png", "-o", output], in: dir)
            expectOneLine(r, status: 1, naming: "same.png", "is the input")
        }
        #expect(link(path("same.png"), path("hard.png")) == 0)
        let r = try CLIRunner.run(["compress", "--levels", "1", "-f", "same.png", "-o", "hard.png"], in: dir)
        expectOneLine(r, status: 1, naming: "same.png", "is the input")
        #expect(FileManager.default.contents(atPath: path("same.png")) == before)
        #expect(entries == ["hard.png", "same.png"])
    }

    // 6. -f writes into a device or a pipe as it is, and through a symlink, never replacing either.
    @Test func forcedOutputOntoAPipeOrASymlinkKeepsIt() throws {
        #expect(mkfifo(path("pipe"), 0o644) == 0)
        let r = try shell("cat pipe > drained & \"$VQZ\" compress -q 1 -f -o pipe '\(Self.kite)'; s=$?; wait; exit $s")
        #expect(r.status == 0, "\(r.stderr)")
        var info = stat()
        #expect(lstat(path("pipe"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the pipe was replaced")
        let drained = FileManager.default.contents(atPath: path("drained")) ?? Data()
        #expect(drained.starts(with: [0x89, 0x56, 0x51, 0x5A]), "the pipe did not carry a .vqz")

        FileManager.default.createFile(atPath: path("target.vqz"), contents: Data([1, 2, 3]))
        #expect(symlink("target.vqz", path("link.vqz")) == 0)
        let l = try CLIRunner.run(["compress", "--levels", "1", "-f", "-o", "link.vqz", Self.kite], in: dir)
        #expect(l.status == 0, "\(l.stderr)")
        #expect(lstat(path("link.vqz"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK, "the symlink was replaced")
        #expect(FileManager.default.contents(atPath: path("target.vqz"))?.starts(with: [0x89, 0x56, 0x51, 0x5A]) == true)
        #expect(entries == ["drained", "link.vqz", "pipe", "target.vqz"], "\(entries)")
    }

    // 7. A JPEG whose scan ends early is refused, not padded with grey.
    @Test func jpegWithAShortScanIsRefused() throws {
        let r = try CLIRunner.run(["compress", crafted("jpeg-short-scan.jpg"), "-o", "out.vqz"], in: dir)
        expectOneLine(r, status: 2, naming: "jpeg-short-scan.jpg")
        #expect(entries.isEmpty)
    }

    // 8. Write errors on standard output fail the command; closed descriptors are no crash.
    @Test func stdoutWriteErrorsFail() throws {
        let made = try CLIRunner.run(["compress", "--levels", "1", "-o", "kite.vqz", Self.kite], in: dir)
        #expect(made.status == 0)
        for command in ["info kite.vqz", "info --json kite.vqz", "formats", "compare '\(Self.kite)' '\(Self.kite)'",
                        "decompress -c kite.vqz", "tokens kite.vqz"] {
            let r = try shell("\"$VQZ\" \(command) > /dev/full")
            #expect(r.status == 4, "\(command): exit \(r.status)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("standard output"), "\(command): \(r.stderr)")
        }
        let closed = try shell("\"$VQZ\" decompress -c kite.vqz >&- 2>&-")
        #expect(!closed.signalled && closed.status == 4, "exit \(closed.status), signalled: \(closed.signalled)")
    }

    // 9. Names up to NAME_MAX (255 bytes) work: the temporary name is never longer.
    @Test func longestOutputNamesWork() throws {
        for length in [241, 250, 255] {
            let name = String(repeating: "n", count: length - 4) + ".vqz"
            let r = try CLIRunner.run(["compress", "--levels", "1", "-o", name, Self.kite], in: dir)
            #expect(r.status == 0, "\(length) bytes: \(r.stderr)")
            #expect(entries == [name], "\(entries)")
            try FileManager.default.removeItem(atPath: path(name))
        }
        let input = String(repeating: "i", count: 251)
        try FileManager.default.copyItem(atPath: Self.kite, toPath: path(input))
        let r = try CLIRunner.run(["compress", "--levels", "1", input], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(entries == [input, input + ".vqz"])
    }

    // 11. tokens names its file; --entropy lists its real values; JSON is JSON.
    @Test func tokensAndEntropyMessages() throws {
        expectOneLine(try CLIRunner.run(["tokens", "missing.vqz"], in: dir), status: 1, naming: "missing.vqz", "cannot open")
        FileManager.default.createFile(atPath: path("bad.vqz"), contents: Data([0x89, 0x56, 0x51, 0x5A, 13, 10, 26, 10, 9, 9, 9]))
        expectOneLine(try CLIRunner.run(["tokens", "bad.vqz"], in: dir), status: 2, naming: "bad.vqz")
        let entropy = try CLIRunner.run(["compress", "--entropy", "1", "-c", Self.kite], in: dir)
        #expect(entropy.status == 1 && entropy.stderr.contains("zstd") && entropy.stderr.contains("prior") && !entropy.stderr.contains("'0'"),
                "\(entropy.stderr)")
        let help = try CLIRunner.run(["compress", "--help"], in: dir)
        #expect(help.stdout.contains("zstd|prior") || help.stdout.contains("values: zstd, prior"), "\(help.stdout)")
    }
}
