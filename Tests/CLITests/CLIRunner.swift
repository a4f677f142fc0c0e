import Foundation
import VQZ

/// Runs the built `vqz` binary with files for stdin, stdout and stderr (never a terminal),
/// the way a script would.
struct CLIRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stdoutBytes: [UInt8]
        var stderr: String
    }

    /// The products folder: the test bundle sits beside the executables SwiftPM built.
    static let binary: URL = {
        let candidates = [
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        for folder in candidates {
            let url = folder.appendingPathComponent("vqz")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        fatalError("vqz binary not found beside the tests in \(candidates.map(\.path))")
    }()

    /// A fresh folder for one test's files.
    static func scratchFolder() throws -> URL {
        let url = scratchRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every test's folder lies in one folder per test process, removed when the process exits,
    /// so runs of the suite leave nothing in the temporary folder.
    static let scratchRoot: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vqz-cli-\(getpid())-\(UUID().uuidString.prefix(8))")
        atexit { try? FileManager.default.removeItem(at: CLIRunner.scratchRoot) }
        return url
    }()

    /// `environment` adds to (or replaces entries of) the test process's own environment;
    /// `executable` runs another program (one that runs vqz in turn) instead of vqz.
    static func run(_ arguments: [String], stdin: [UInt8] = [], in folder: URL? = nil,
                    environment: [String: String] = [:], executable: String? = nil) throws -> Result {
        let work = try folder ?? scratchFolder()
        let io = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: io) }
        let inURL = io.appendingPathComponent("stdin"), outURL = io.appendingPathComponent("stdout"),
            errURL = io.appendingPathComponent("stderr")
        try Data(stdin).write(to: inURL)
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let process = Process()
        process.executableURL = executable.map { URL(fileURLWithPath: $0) } ?? binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        process.currentDirectoryURL = work
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let out = try [UInt8](Data(contentsOf: outURL))
        return Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stdoutBytes: out, stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

extension TokenizerModel {
    /// The photo tokenizer the binary uses by default, for tests that count its levels.
    static let photos = try! TokenizerModel.bundled()
}
