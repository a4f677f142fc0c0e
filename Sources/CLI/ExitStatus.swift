/// The exit codes of every vqz command; `vqz --help` lists them and scripts rely on them.
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    /// Bad option or argument, missing or unreadable-by-name input, output exists without -f,
    /// binary output to a terminal, or any failure without a more precise code.
    case usage = 1
    /// Input data is corrupt or invalid: a damaged .vqz file, an image that fails to decode.
    case corrupt = 2
    /// The .vqz file needs a model that is not available (or a different one).
    case model = 3
    /// Reading or writing failed (permissions, disk full, I/O error).
    case io = 4
    /// Interrupted by SIGINT or SIGTERM; partial outputs were removed.
    case interrupted = 130

    /// The table printed at the end of `vqz --help`.
    static let helpText = """
        Exit status:
          0    success
          1    usage error, missing input, existing output without -f, other failure
          2    corrupt or invalid input data (.vqz or image)
          3    model mismatch or missing model
          4    I/O error while reading or writing
          130  interrupted (SIGINT/SIGTERM); partial output removed
        With several files, vqz goes on after a failure and exits with the first failure's code.
        """
}
