import ArgumentParser
import Foundation
import ImageIO
import Testing
import VQZ
@testable import vqz

/// The shared file handling every subcommand uses, tested in-process.
@Suite struct FileHandlingTests {
    let dir = try! CLIRunner.scratchFolder()

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func contents(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(name)).map { [UInt8]($0) }
    }

    func files(_ arguments: [String]) throws -> FileOptions {
        try FileOptions.parse(arguments)
    }

    /// Entries of the folder, so tests can see that no temporary file is left behind.
    var entries: [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()) ?? [] }

    @Test func namingRules() throws {
        let images: Set<String> = ["png", "jpg", "jpeg", "ppm"]
        #expect(OutputNaming.compressed(for: "a/photo.png") == "a/photo.png.vqz")
        #expect(try OutputNaming.decompressed(for: "a/photo.png.vqz", imageExtensions: images) == "a/photo.png")
        #expect(try OutputNaming.decompressed(for: "photo.VQZ", imageExtensions: images) == "photo.png")
        #expect(try OutputNaming.decompressed(for: "photo.tar.vqz", imageExtensions: images) == "photo.tar.png")
        #expect(try OutputNaming.decompressed(for: "photo.png.vqz", imageExtensions: images,
                                              forced: ("jpg", ["jpg", "jpeg"])) == "photo.png.jpg")
        #expect(try OutputNaming.decompressed(for: "photo.jpeg.vqz", imageExtensions: images,
                                              forced: ("jpg", ["jpg", "jpeg"])) == "photo.jpeg")
        #expect(throws: CLIError(.usage, "cannot name the output: the name does not end in .vqz (use -o or -c)")) {
            try OutputNaming.decompressed(for: "photo.png", imageExtensions: images)
        }
        #expect(throws: CLIError.self) { try OutputNaming.decompressed(for: "dir/.vqz", imageExtensions: images) }
    }

    @Test func destinations() throws {
        let beside = Batch(files: try files(["a.png", "b.png"]), console: Console(), name: OutputNaming.compressed)
        #expect(try beside.destination(for: "a.png") == .file("a.png.vqz"))
        let named = Batch(files: try files(["a.png", "-o", "x.vqz"]), console: Console(), name: OutputNaming.compressed)
        #expect(try named.destination(for: "a.png") == .file("x.vqz"))
        let piped = Batch(files: try files(["-c", "a.png"]), console: Console(), name: OutputNaming.compressed)
        #expect(try piped.destination(for: "a.png") == .stdout)
        let stdin = Batch(files: try files([]), console: Console(), name: OutputNaming.compressed)
        #expect(stdin.files.sources == ["-"])
        #expect(try stdin.destination(for: "-") == .stdout)
    }

    @Test func invalidCombinationsAreUsageErrors() {
        #expect(throws: (any Error).self) { try FileOptions.parse(["-o", "x", "-c", "a"]) }
        #expect(throws: (any Error).self) { try FileOptions.parse(["-o", "x", "a", "b"]) }
        #expect(throws: (any Error).self) { try FileOptions.parse(["-", "-"]) }
    }

    /// Inputs are capped: a file by its size before reading, a stream as it passes the cap; and
    /// data no command could read is refused from its first bytes.
    @Test func inputsAreCappedAndRecognisedEarly() throws {
        FileManager.default.createFile(atPath: path("big"), contents: Data(count: 5000))
        #expect(throws: InputFile.tooLarge(4000)) { try InputFile.read(path("big"), limit: 4000) }
        #expect(try InputFile.read(path("big"), limit: 5000).count == 5000)
        #expect(throws: InputFile.tooLarge(100_000)) { try InputFile.read("/dev/zero", limit: 100_000) }
        #expect(throws: ContainerError.badMagic) { try InputFile.read("/dev/zero", recognise: InputFile.recogniseVQZ) }
        #expect(throws: FormatRegistryError.unknownFormat) { try InputFile.read("/dev/zero", recognise: InputFile.recogniseImage) }
        // Short inputs go whole to the decoder, whose message is the precise one.
        FileManager.default.createFile(atPath: path("short"), contents: Data([1, 2, 3]))
        #expect(try InputFile.read(path("short"), recognise: InputFile.recogniseVQZ) == [1, 2, 3])
    }

    /// The temporary name of the longest output name still fits NAME_MAX.
    @Test func temporaryNamesFitNameMax() throws {
        let long = String(repeating: "é", count: 127)  // 254 bytes
        #expect(("." + AtomicFile.shortened(long) + ".vqz-XXXXXX").utf8.count <= 255)
        #expect(AtomicFile.shortened("photo.png") == "photo.png")
        try AtomicFile.write([7], to: path(long), overwrite: false)
        #expect(contents(long) == [7])
        #expect(entries == [long])
    }

    @Test func atomicWriteNeverOverwritesWithoutForce() throws {
        try AtomicFile.write([1, 2, 3], to: path("out"), overwrite: false)
        #expect(contents("out") == [1, 2, 3])
        #expect(throws: CLIError(.usage, "\(path("out")) already exists (use -f to overwrite)")) {
            try AtomicFile.write([4], to: path("out"), overwrite: false)
        }
        #expect(contents("out") == [1, 2, 3])
        try AtomicFile.write([4], to: path("out"), overwrite: true)
        #expect(contents("out") == [4])
        #expect(entries == ["out"])
        var info = stat()
        stat(path("out"), &info)
        let mask = umask(0)
        umask(mask)
        #expect(info.st_mode & 0o777 == 0o666 & ~mask)
    }

    @Test func failedWriteLeavesNothing() throws {
        #expect(throws: CLIError.self) { try AtomicFile.write([1], to: path("missing/out"), overwrite: false) }
        #expect(entries == [])
    }

    /// Two good inputs around a bad one: both outputs written, the bad one reported, inputs kept,
    /// an existing output left alone, and the run ends with the first failure's code.
    @Test func batchGoesOnAfterFailures() throws {
        for name in ["a", "b", "c", "d"] { try Data([UInt8](name.utf8)).write(to: URL(fileURLWithPath: path(name))) }
        try Data([9]).write(to: URL(fileURLWithPath: path("d.up")))
        let options = try files([path("a"), path("b"), path("missing"), path("c"), path("d")])
        let batch = Batch(files: options, console: Console(level: .quiet), name: { $0 + ".up" })
        #expect(throws: ExitCode(ExitStatus.corrupt.rawValue)) {
            try batch.run {
                { job in
                    if job.input == [UInt8]("b".utf8) { throw CLIError(.corrupt, "bad b") }
                    return job.input.map { $0 - 32 }
                }
            }
        }
        #expect(contents("a.up") == Array("A".utf8))
        #expect(contents("b.up") == nil)
        #expect(contents("c.up") == Array("C".utf8))
        #expect(contents("d.up") == [9])
        #expect(entries == ["a", "a.up", "b", "c", "c.up", "d", "d.up"])
    }

    @Test func errorsMapToDocumentedCodes() {
        #expect(ErrorReport.status(of: CLIError(.io, "x")) == .io)
        #expect(ErrorReport.status(of: ContainerError.badMagic) == .corrupt)
        let model = ModelFingerprint(name: "a", digest: Array(repeating: 0, count: 16))
        #expect(ErrorReport.status(of: ContainerError.modelMismatch(needed: model, available: model)) == .model)
        #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 130])
    }
}
