import Foundation

/// Reads an input whole: a path, or "-" for standard input.
enum InputFile {
    /// The name used in messages: "stdin" for "-".
    static func displayName(_ path: String) -> String { path == "-" ? "stdin" : path }

    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" {
            // zstd's rule: a terminal is never binary input; waiting on it would look like a hang.
            if isatty(STDIN_FILENO) != 0 { throw CLIError(.usage, "refusing to read binary data from a terminal (give a file or a pipe)") }
            return try readAll(fd: STDIN_FILENO, name: "standard input")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let status: ExitStatus = code == ENOENT || code == ENOTDIR ? .usage : .io
            throw CLIError(status, "cannot open: " + String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw CLIError(.usage, "is a directory")
        }
        return try readAll(fd: fd, name: "file")
    }

    private static func readAll(fd: Int32, name: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return bytes }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError(.io, "cannot read \(name): " + String(cString: strerror(errno)))
            }
            bytes.append(contentsOf: buffer[0..<n])
        }
    }
}
