import Foundation
import ImageIO
import TokenArrays
import VQZ

/// Reads an input whole: a path, or "-" for standard input.
enum InputFile {
    /// The most bytes vqz reads from one input: 1 GiB. Holds a PNG of the largest picture the
    /// pixel budget allows (2^28 pixels) and every .vqz such a picture makes; anything longer is
    /// refused before it is read, or as soon as a stream passes it.
    static let maxBytes = 1 << 30
    /// Bytes a stream must deliver before its format is judged by `recognise`.
    static let sniffBytes = 4096

    /// The name used in messages: "stdin" for "-".
    static func displayName(_ path: String) -> String { path == "-" ? "stdin" : path }

    /// Reads the whole input. `recognise` sees the first `sniffBytes` (or all, when shorter)
    /// as soon as they arrive and throws when they cannot begin anything the command reads:
    /// /dev/zero or a mistaken pipe then ends at once instead of at the size cap.
    static func read(_ path: String, limit: Int = maxBytes, recognise: (([UInt8]) throws -> Void)? = nil) throws -> [UInt8] {
        if path == "-" {
            // zstd's rule: a terminal is never binary input; waiting on it would look like a hang.
            if isatty(STDIN_FILENO) != 0 { throw CLIError(.usage, "refusing to read binary data from a terminal (give a file or a pipe)") }
            return try readAll(fd: STDIN_FILENO, name: "standard input", limit: limit, recognise: recognise)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let status: ExitStatus = code == ENOENT || code == ENOTDIR ? .usage : .io
            throw CLIError(status, "cannot open: " + String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw CLIError(.usage, "is a directory") }
            if (info.st_mode & S_IFMT) == S_IFREG && Int(info.st_size) > limit { throw tooLarge(limit) }
        }
        return try readAll(fd: fd, name: "file", limit: limit, recognise: recognise)
    }

    static func tooLarge(_ limit: Int) -> CLIError {
        CLIError(.corrupt, "input is larger than \(limit >= 1 << 30 ? "\(limit >> 30) GiB" : "\(limit) bytes"), the most vqz reads")
    }

    private static func readAll(fd: Int32, name: String, limit: Int, recognise: (([UInt8]) throws -> Void)?) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var recognised = recognise == nil
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError(.io, "cannot read \(name): " + String(cString: strerror(errno)))
            }
            if n == 0 {
                // A short input is judged whole by the decoder, whose errors are more precise.
                return bytes
            }
            guard n <= limit - bytes.count else { throw tooLarge(limit) }
            bytes.append(contentsOf: buffer[0..<n])
            if !recognised && bytes.count >= sniffBytes {
                try recognise?(bytes)
                recognised = true
            }
        }
    }
}

extension InputFile {
    /// For commands that read images: some registered format must know the first bytes.
    static func recogniseImage(_ head: [UInt8]) throws {
        if FormatRegistry.standard.format(sniffing: head) == nil { throw FormatRegistryError.unknownFormat }
    }

    /// For commands that read .vqz files.
    static func recogniseVQZ(_ head: [UInt8]) throws {
        if !head.starts(with: VQZFile.signature) { throw ContainerError.badMagic }
    }

    /// For decompress: a .vqz or a token array (.npy, .npz).
    static func recogniseVQZOrTokenArray(_ head: [UInt8]) throws {
        if !head.starts(with: VQZFile.signature) && !TokenArray.recognises(head) { throw ContainerError.badMagic }
    }

    /// For commands that read either.
    static func recogniseVQZOrImage(_ head: [UInt8]) throws {
        if !head.starts(with: VQZFile.signature) { try recogniseImage(head) }
    }
}

extension InputFile {
    /// For -r: whether the file at `path` begins like an image some registered format reads
    /// (a .vqz file, a text file or an unreadable one does not).
    static func isImage(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: sniffBytes)) ?? Data())
        return !head.starts(with: VQZFile.signature) && FormatRegistry.standard.format(sniffing: head) != nil
    }
}
