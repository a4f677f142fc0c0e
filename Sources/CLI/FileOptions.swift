import ArgumentParser

/// The file arguments of every command that turns files into files (gzip and zstd's rules):
/// no input or "-" reads stdin; -o names the output; -c writes to stdout; several inputs each
/// get an output beside them; -f allows overwriting and binary output to a terminal.
struct FileOptions: ParsableArguments {
    @Argument(help: "Input files; none or '-' reads standard input.")
    var inputs: [String] = []

    @Option(name: .short, help: ArgumentHelp("Write the output to this file (one input only).", valueName: "out"))
    var output: String?

    @Flag(name: [.customShort("c"), .customLong("stdout")], help: "Write to standard output.")
    var toStdout = false

    @Flag(name: .shortAndLong, help: "Overwrite existing outputs; allow binary output to a terminal.")
    var force = false

    @Flag(name: .shortAndLong, help: "Keep input files (always the case; accepted as in gzip).")
    var keep = false

    /// The inputs with the stdin default applied.
    var sources: [String] { inputs.isEmpty ? ["-"] : inputs }

    func validate() throws {
        if output != nil && toStdout { throw ValidationError("-o and -c cannot be combined") }
        if output != nil && sources.count > 1 { throw ValidationError("-o takes one input; with several, outputs go beside each input") }
        if sources.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input ('-') can be read only once") }
    }
}
