import ArgumentParser
import Dispatch
import Foundation
import NN

/// Runs one command over every input of FileOptions: reads each input, lets the command turn
/// it into bytes, writes them atomically (or to stdout), reports a failure in one line and
/// goes on with the next input. Sources are never removed. With -r, folders stand for the files
/// under them; with several inputs and -T above 1, files are processed side by side, one per
/// thread, their messages still printed in the inputs' order.
///
///     try Batch(files: files, console: verbosity.console, name: OutputNaming.compressed).run { job in
///         try compress(job.input)   // returns the output's bytes
///     }
struct Batch {
    /// Where one job's output goes.
    enum Destination: Equatable {
        case stdout
        case file(String)
        /// `decompress -t`: decoded, then dropped.
        case none
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
        /// Messages about this input; printed after it, in the inputs' order.
        var console: Console
        /// Tiles done of the total, for Codec.progress: shown on a terminal when one input takes long.
        var progress: (Int, Int) -> Void
    }

    var files: FileOptions
    /// -r, -T, --no-progress; nil (a program's own batch): no folders, every core, progress on a terminal.
    var options: BatchOptions? = nil
    var console: Console
    /// The output path beside an input path when neither -o nor -c is given.
    var name: (String) throws -> String
    /// Judges an input's first bytes (InputFile.read), so that endless or mistaken inputs fail early.
    var recognise: (([UInt8]) throws -> Void)? = nil
    /// Whether a file found under a folder (-r) is an input of this command.
    var takes: (String) -> Bool = { _ in true }
    /// `decompress -t`: every input is decoded, nothing is written, each good one is reported OK.
    var testOnly = false
    /// What the progress line says the work is ("encoding", "decoding").
    var stage = "processing"

    /// Where each input's output goes, by gzip's rules.
    func destination(for source: String) throws -> Destination {
        if testOnly { return .none }
        if files.toStdout { return .stdout }
        if let output = files.output { return output == "-" ? .stdout : .file(output) }
        if source == "-" { return .stdout }
        return .file(try name(source))
    }

    /// Throws ExitCode with the first failure's status after trying every input. `makeTransform`
    /// gives one transform per thread that runs files (each holds its own model, since a
    /// network's scratch buffers are not shared).
    func run(_ makeTransform: () throws -> (Job) throws -> [UInt8]) throws {
        let sources = try expandedSources()
        if files.output != nil && sources.count > 1 { throw CLIError(.usage, "-o takes one input; -r found \(sources.count) files") }
        let threads = options?.threadCount ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        let workers = min(threads, sources.count)
        let progress = ProgressDisplay(enabled: options?.noProgress != true && console.level >= .normal)
        var firstFailure: ExitStatus?
        if workers <= 1 {
            Threads.set(threads)
            let transform = try makeTransform()
            for source in sources {
                let outcome = runCollecting(source, transform, progress: progress, showTiles: true)
                progress.clear()
                outcome.print()
                if firstFailure == nil { firstFailure = outcome.failure }
            }
        } else {
            // One file per thread: no model is shared between threads (the comparison with threads
            // inside one image is still to be measured, docs/CONVENTIONS.md).
            Threads.set(1)
            let transforms = try (0..<workers).map { _ in try makeTransform() }
            let lock = NSLock()
            var outcomes = [Outcome?](repeating: nil, count: sources.count)
            var next = 0, printed = 0
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                while true {
                    let index: Int = lock.withLock { defer { next += 1 }; return next }
                    guard index < sources.count else { return }
                    let outcome = runCollecting(sources[index], transforms[worker], progress: progress, showTiles: false, lock: lock)
                    lock.withLock {
                        outcomes[index] = outcome
                        progress.clear()
                        while printed < sources.count, let done = outcomes[printed] {
                            done.print()
                            if firstFailure == nil { firstFailure = done.failure }
                            printed += 1
                        }
                        if printed < sources.count { progress.show("\(printed)/\(sources.count) files") }
                    }
                }
            }
            progress.clear()
        }
        if let firstFailure { throw ExitCode(firstFailure.rawValue) }
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

    /// The inputs, each folder replaced by the files under it that `takes` accepts (sorted, so
    /// outputs and messages come in the same order on every run) when -r is given.
    func expandedSources() throws -> [String] {
        guard options?.recursive == true else { return files.sources }
        var expanded: [String] = []
        for source in files.sources {
            var isFolder: ObjCBool = false
            guard source != "-", FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), isFolder.boolValue else {
                expanded.append(source)
                continue
            }
            expanded += Self.files(under: source).filter(takes)
        }
        return expanded
    }

    /// Regular files under `folder`, at any depth, sorted by path; symbolic links are not followed.
    static func files(under folder: String) -> [String] {
        let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular { found.append(base + "/" + relative) }
        }
        return found.sorted()
    }

    /// One input's messages and status, held until the inputs before it are reported.
    private struct Outcome {
        var lines: [String]
        var failure: ExitStatus?

        func print() { for line in lines { Console.writeToStderr(line + "\n") } }
    }

    private func runCollecting(_ source: String, _ transform: (Job) throws -> [UInt8], progress: ProgressDisplay,
                               showTiles: Bool, lock: NSLock? = nil) -> Outcome {
        let name = InputFile.displayName(source)
        var jobConsole = console
        jobConsole.buffer = MessageBuffer()
        if showTiles { progress.restart() }
        do {
            try runOne(source: source, name: name, console: jobConsole, transform, lock: lock) { done, total in
                if showTiles { progress.show("\(name): \(stage), tile \(done)/\(total)") }
            }
            return Outcome(lines: jobConsole.buffer!.lines, failure: nil)
        } catch {
            jobConsole.error(name, ErrorReport.message(of: error))
            return Outcome(lines: jobConsole.buffer!.lines, failure: ErrorReport.status(of: error))
        }
    }

    private func runOne(source: String, name: String, console: Console, _ transform: (Job) throws -> [UInt8],
                        lock: NSLock?, progress: @escaping (Int, Int) -> Void) throws {
        let destination = try destination(for: source)
        // Checked before any work, so a refused output costs nothing.
        switch destination {
        case .stdout:
            try SingleOutput.refuseTerminal(force: files.force)
        case .file(let path):
            try AtomicFile.checkOutput(path, input: source, overwrite: files.force)
        case .none:
            break
        }
        let input = try InputFile.read(source, recognise: recognise)
        let output = try transform(Job(source: source, name: name, input: input, destination: destination,
                                       console: console, progress: progress))
        // One write at a time: the interrupt handler's table of temporary files, and stdout.
        lock?.lock()
        defer { lock?.unlock() }
        switch destination {
        case .stdout:
            try AtomicFile.writeAll(output, to: STDOUT_FILENO, name: "standard output")
            console.note("\(name): \(input.count) -> \(output.count) bytes to stdout")
        case .file(let path):
            try AtomicFile.write(output, to: path, overwrite: files.force)
            console.note("\(name): \(input.count) -> \(output.count) bytes to \(path)")
        case .none:
            console.status(name, "OK")
        }
    }
}

/// The progress line of compress and decompress: on a terminal only, and only once the work has
/// taken longer than `delay` (1 s; the environment variable VQZ_PROGRESS_DELAY sets it in seconds,
/// which the tests use to see it on small images).
final class ProgressDisplay: @unchecked Sendable {
    static let delayVariable = "VQZ_PROGRESS_DELAY"
    let enabled: Bool
    let delay: Double
    private let lock = NSLock()
    private var start = Date()
    private var shown = false
    private var lastDrawn = Date.distantPast

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) != 0
        delay = ProcessInfo.processInfo.environment[Self.delayVariable].flatMap(Double.init) ?? 1
    }

    /// A new operation: the delay counts from now.
    func restart() { lock.withLock { start = Date() } }

    func show(_ text: String) {
        guard enabled else { return }
        lock.withLock {
            let now = Date()
            guard now.timeIntervalSince(start) >= delay, now.timeIntervalSince(lastDrawn) >= 0.1 else { return }
            Console.writeToStderr("\r\u{1B}[K" + text)
            shown = true
            lastDrawn = now
        }
    }

    /// Erases the line, so that messages and the shell prompt start on a clean one.
    func clear() {
        lock.withLock {
            if shown { Console.writeToStderr("\r\u{1B}[K") }
            shown = false
        }
    }
}
