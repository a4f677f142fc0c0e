import Foundation

/// Writes a whole output under a temporary name in the destination folder, then renames it:
/// readers never see a partial file, and a failure or an interrupt leaves nothing behind.
/// Outputs that are not regular files are treated as zstd treats them: a device, a pipe or a
/// socket is written into as it is (`-o /dev/null` stays /dev/null), with or without -f.
/// A symbolic link is written through: with -f its target is replaced, atomically, and the
/// link stays (zstd 1.5 and gzip 1.12 replace the link itself with a regular file instead,
/// which loses the link; writing through is what a shell's `>` does).
enum AtomicFile {
    /// The longest file name (NAME_MAX on Linux and macOS).
    static let maxNameBytes = 255

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Whether `path` exists and is a device, a pipe or a socket (following symlinks).
    static func isSpecial(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// Throws unless `output` may be written for `input` ("-" or nil: none): never onto the input
    /// file itself, whatever the names (zstd's rule: same device and inode, so "./a", "a", a hard
    /// link or a symlink to it all count), and onto an existing file only with `overwrite`.
    static func checkOutput(_ output: String, input: String?, overwrite: Bool) throws {
        var inputInfo = stat(), outputInfo = stat()
        if let input, input != "-", stat(input, &inputInfo) == 0, stat(output, &outputInfo) == 0,
           inputInfo.st_dev == outputInfo.st_dev, inputInfo.st_ino == outputInfo.st_ino {
            throw CLIError(.usage, "output \(output) is the input file (refusing to overwrite it)")
        }
        if stat(output, &outputInfo) == 0 && (outputInfo.st_mode & S_IFMT) == S_IFDIR {
            throw CLIError(.usage, "output \(output) is a directory")
        }
        if !overwrite && exists(output) && !isSpecial(output) { throw alreadyExists(output) }
    }

    static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        if isSpecial(path) { return try writeInPlace(bytes, to: path) }
        if !overwrite && exists(path) { throw alreadyExists(path) }
        let target = try resolvingSymlink(path)
        let (folder, file) = split(target)
        var template = Array((folder + "/." + shortened(file) + ".vqz-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ioError("cannot create a temporary file in \(folder.isEmpty ? "/" : folder)") }
        let temp = String(cString: template)
        let slot = InterruptCleanup.remember(temp)
        defer { InterruptCleanup.forget(slot) }
        do {
            // mkstemp makes 0600; give the output the mode a plain creat() would.
            let mask = umask(0)
            umask(mask)
            fchmod(fd, 0o666 & ~mask)
            try writeAll(bytes, to: fd, name: path)
            guard close(fd) == 0 else { throw ioError("cannot write \(path)") }
            try publish(temp, as: target, overwrite: overwrite)
        } catch {
            close(fd)  // harmless EBADF when already closed
            unlink(temp)
            throw error
        }
    }

    /// The folder ("" for the root) and the last component of a path.
    private static func split(_ path: String) -> (folder: String, file: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// The start of a file name, cut at a character boundary so that "." + it + ".vqz-XXXXXX"
    /// fits NAME_MAX: the temporary name of a 255-byte output must be a valid name too.
    static func shortened(_ file: String) -> String {
        let room = maxNameBytes - 12
        var kept = "", used = 0
        for c in file.unicodeScalars {
            used += String(c).utf8.count
            if used > room { break }
            kept.unicodeScalars.append(c)
        }
        return kept
    }

    /// The file a symlink finally names, so the link itself survives the rename; the path as
    /// given when it is no symlink.
    private static func resolvingSymlink(_ path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return path }
        guard let resolved = realpath(path, nil) else { throw ioError("cannot follow the symbolic link \(path)") }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A device, pipe or socket: opened as it is, never created, truncated or renamed over.
    private static func writeInPlace(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open \(path)") }
        do {
            try writeAll(bytes, to: fd, name: path)
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw ioError("cannot write \(path)") }
    }

    /// Renames into place. Without overwrite, link() fails on an existing file, so a file
    /// that appeared while we worked is never replaced.
    private static func publish(_ temp: String, as path: String, overwrite: Bool) throws {
        if overwrite {
            guard rename(temp, path) == 0 else { throw ioError("cannot rename to \(path)") }
            return
        }
        if link(temp, path) == 0 {
            unlink(temp)
            return
        }
        let code = errno
        if code == EEXIST { throw alreadyExists(path) }
        // Some file systems have no hard links; fall back on check-then-rename.
        guard code == EPERM || code == ENOTSUP || code == EOPNOTSUPP, !exists(path) else {
            throw ioError("cannot create \(path)", code: code)
        }
        guard rename(temp, path) == 0 else { throw ioError("cannot rename to \(path)") }
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32, name: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot write \(name)")
            }
            offset += n
        }
    }

    static func alreadyExists(_ path: String) -> CLIError {
        CLIError(.usage, "\(path) already exists (use -f to overwrite)")
    }

    private static func ioError(_ what: String, code: Int32 = errno) -> CLIError {
        CLIError(.io, what + ": " + String(cString: strerror(code)))
    }
}
