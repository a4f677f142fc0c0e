import ArgumentParser
import Foundation

/// Runs one command over every input of FileOptions: reads each input, lets the command turn
/// it into bytes, writes them atomically (or to stdout), reports a failure in one line and
/// goes on with the next input. Sources are never removed.
///
///     try Batch(files: files, console: verbosity.console, name: OutputNaming.compressed).run { job in
///         try compress(job.input)   // returns the output's bytes
///     }
struct Batch {
    /// Where one job's output goes.
    enum Destination: Equatable {
        case stdout
        case file(String)
    }

    /// What the command's closure gets for one input.
    struct Job {
        /// The input's path, or "-".
        var source: String
        /// "stdin" or the path, as messages name it.
        var name: String
        var input: [UInt8]
        /// Decompress picks its image format from here (the extension) when not told.
        var destination: Destination
    }

    var files: FileOptions
    var console: Console
    /// The output path beside an input path when neither -o nor -c is given.
    var name: (String) throws -> String
    /// Judges an input's first bytes (InputFile.read), so that endless or mistaken inputs fail early.
    var recognise: (([UInt8]) throws -> Void)? = nil

    /// Where each input's output goes, by gzip's rules.
    func destination(for source: String) throws -> Destination {
        if files.toStdout { return .stdout }
        if let output = files.output { return output == "-" ? .stdout : .file(output) }
        if source == "-" { return .stdout }
        return .file(try name(source))
    }

    /// Throws ExitCode with the first failure's status after trying every input.
    func run(_ transform: (Job) throws -> [UInt8]) throws {
        try Self.forEach(files.sources, console: console) { source, name in
            try runOne(source: source, name: name, transform)
        }
    }

    /// Calls `body` with each source and its display name; a failure is reported in one line
    /// and the loop goes on. Afterwards throws ExitCode with the first failure's status.
    /// Commands that print rather than write files (info) use this directly.
    static func forEach(_ sources: [String], console: Console, _ body: (String, String) throws -> Void) throws {
        var firstFailure: ExitStatus?
        for source in sources {
            let name = InputFile.displayName(source)
            do {
                try body(source, name)
            } catch {
                console.error(name, ErrorReport.message(of: error))
                if firstFailure == nil { firstFailure = ErrorReport.status(of: error) }
            }
        }
        if let firstFailure { throw ExitCode(firstFailure.rawValue) }
    }

    private func runOne(source: String, name: String, _ transform: (Job) throws -> [UInt8]) throws {
        let destination = try destination(for: source)
        // Checked before any work, so a refused output costs nothing.
        switch destination {
        case .stdout:
            try SingleOutput.refuseTerminal(force: files.force)
        case .file(let path):
            try AtomicFile.checkOutput(path, input: source, overwrite: files.force)
        }
        let input = try InputFile.read(source, recognise: recognise)
        let output = try transform(Job(source: source, name: name, input: input, destination: destination))
        switch destination {
        case .stdout:
            try AtomicFile.writeAll(output, to: STDOUT_FILENO, name: "standard output")
            console.note("\(name): \(input.count) -> \(output.count) bytes to stdout")
        case .file(let path):
            try AtomicFile.write(output, to: path, overwrite: files.force)
            console.note("\(name): \(input.count) -> \(output.count) bytes to \(path)")
        }
    }
}
