import ArgumentParser

/// --quiet and -v, shared by every subcommand. -q is left free because `compress -q LEVEL`
/// sets the quality, as in cwebp and cjxl.
struct VerbosityOptions: ParsableArguments {
    @Flag(name: .long, help: "Print errors only, no warnings.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print what is done to each file.")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be combined") }
    }

    var console: Console {
        Console(level: quiet ? .quiet : verbose ? .verbose : .normal)
    }
}
