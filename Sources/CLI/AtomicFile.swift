import Foundation

/// Writes a whole output under a temporary name in the destination folder, then renames it:
/// readers never see a partial file, and a failure or an interrupt leaves nothing behind.
enum AtomicFile {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        if !overwrite && exists(path) { throw alreadyExists(path) }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let file = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array(((folder.isEmpty ? "" : folder) + "/." + file + ".vqz-tmp-XXXXXX").utf8CString)
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
            try publish(temp, as: path, overwrite: overwrite)
        } catch {
            close(fd)  // harmless EBADF when already closed
            unlink(temp)
            throw error
        }
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
