import Foundation

/// Every message vqz prints goes through here, to stderr; data alone goes to stdout.
struct Console {
    enum Level: Int, Comparable {
        case quiet = 0, normal = 1, verbose = 2
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    var level: Level = .normal
    /// Where lines go instead of stderr: files compressed in parallel hold their messages
    /// until every earlier file's are printed, so the order is the inputs'.
    var buffer: MessageBuffer? = nil

    /// "vqz: NAME: message", always printed, even with --quiet.
    func error(_ name: String?, _ message: String) {
        write("vqz: " + (name.map { $0 + ": " } ?? "") + message)
    }

    /// A warning, hidden by --quiet.
    func warn(_ name: String?, _ message: String) {
        if level >= .normal { error(name, message) }
    }

    /// A detail shown only with -v.
    func note(_ message: String) {
        if level >= .verbose { write("vqz: " + message) }
    }

    /// A result the user asked for on stderr (`decompress -t`'s "OK"), hidden by --quiet.
    func status(_ name: String, _ message: String) {
        if level >= .normal { write("vqz: " + name + ": " + message) }
    }

    private func write(_ line: String) {
        if let buffer { buffer.lines.append(line) } else { Self.writeToStderr(line + "\n") }
    }

    /// write(2), its result ignored: a closed or broken stderr must not stop vqz (FileHandle
    /// would trap), and there is nowhere left to report that failure.
    static func writeToStderr(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Foundation.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// Lines held back for Console.buffer; one per job, used by one thread at a time.
final class MessageBuffer: @unchecked Sendable {
    var lines: [String] = []
}
