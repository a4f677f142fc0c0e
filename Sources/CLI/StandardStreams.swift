import Foundation

/// Descriptors 0-2 and what was printed to stdout: the parts of a command's success that only
/// show at exit.
enum StandardStreams {
    /// Opens /dev/null on any of 0, 1, 2 that is closed, in the direction that makes every use
    /// fail (coreutils' rule): otherwise the next file vqz opens would take the number, and
    /// output meant for stdout would land in it. Writes to a closed stdout then fail with EBADF
    /// and are reported, instead of succeeding somewhere else.
    static func reserve() {
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY)
            if opened >= 0 && opened != fd { close(opened) }
        }
    }

    /// Exits with `status`, after flushing what print() buffered: a write error on stdout
    /// (a full disk, a closed descriptor) turns a success into exit 4 with one line, since the
    /// user did not get the output.
    static func exit(_ status: Int32) -> Never {
        let flushed = fflush(stdout) == 0
        let code = errno
        if !flushed || ferror(stdout) != 0 {
            let reason = flushed ? "write error" : String(cString: strerror(code))
            Console().error(nil, "cannot write standard output: " + reason)
            Foundation.exit(status == 0 ? ExitStatus.io.rawValue : status)
        }
        Foundation.exit(status)
    }
}
