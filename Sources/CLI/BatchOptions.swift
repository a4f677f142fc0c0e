import ArgumentParser
import Foundation
import NN

/// -r, -T and --no-progress: how compress and decompress go through their inputs (zstd's flags).
struct BatchOptions: ParsableArguments {
    @Flag(name: [.customShort("r"), .customLong("recursive")],
          help: "Go into folders given as inputs and take every file the command reads (images for compress, .vqz files for decompress).")
    var recursive = false

    @Option(name: [.customShort("T"), .customLong("threads")],
            help: ArgumentHelp("Threads: 0 (the default) uses every core; with several inputs, files are processed side by side.", valueName: "n"))
    var threads = 0

    @Flag(name: .customLong("no-progress"),
          help: "Never show progress (otherwise shown on a terminal for work over a second, never in a pipe or a log).")
    var noProgress = false

    func validate() throws {
        if threads < 0 { throw ValidationError("-T must be 0 (every core) or more") }
    }

    /// The thread count -T asks for, 0 resolved to the cores of this machine.
    var threadCount: Int { threads == 0 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : threads }
}
