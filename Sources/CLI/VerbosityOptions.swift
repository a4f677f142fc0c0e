import ArgumentParser

/// What -v adds to a command's messages, said in its --help (commands that add nothing need not conform).
protocol VerboseDescribed {
    static var verboseHelp: String { get }
}


/// -v's help for `command`.
func verboseHelp(of command: Any.Type) -> String {
    (command as? VerboseDescribed.Type)?.verboseHelp ?? "Accepted by every command; this one has nothing more to print."
}

/// --quiet and -v, shared by every subcommand. -q is left free because `compress -q LEVEL`
/// sets the quality, as in cwebp and cjxl.
struct VerbosityOptions<Command>: ParsableArguments {
    @Flag(name: .long, help: "Print errors only, no warnings.")
    var quiet = false

    @Flag(name: .shortAndLong, help: ArgumentHelp(verboseHelp(of: Command.self)))
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be combined") }
    }

    var console: Console {
        Console(level: quiet ? .quiet : verbose ? .verbose : .normal)
    }
}
