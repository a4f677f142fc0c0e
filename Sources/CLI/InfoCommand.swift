import ArgumentParser
import Foundation
import VQZ

/// `vqz info FILE.vqz`: the header fields, the chunks and the bit rate of .vqz files.
/// Reading decodes every chunk, so a file info accepts is intact.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a .vqz file holds: image, model, token grid, chunks, bits per pixel."
    )

    @Argument(help: "Files to describe; none or '-' reads standard input.")
    var files: [String] = []

    @Flag(name: .long, help: "Print JSON (an object, or an array of objects for several files).")
    var json = false

    @OptionGroup var entropyPriorOptions: EntropyPriorOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func run() throws {
        var reports: [ContainerReport] = []
        defer {
            // Printed even when some files failed, so a batch shows what it could read.
            if json && !reports.isEmpty { printJSON(reports) }
        }
        try Batch.forEach(files.isEmpty ? ["-"] : files, console: verbosity.console) { source, name in
            let bytes = try InputFile.read(source, recognise: InputFile.recogniseVQZ)
            let report = try ContainerReport(name: name, bytes: bytes, entropyPriors: entropyPriorOptions.lookup)
            if json {
                reports.append(report)
            } else {
                if !reports.isEmpty { print() }
                print(report.text, terminator: "")
                reports.append(report)
            }
        }
    }

    private func printJSON(_ reports: [ContainerReport]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = files.count <= 1 ? try? encoder.encode(reports[0]) : try? encoder.encode(reports)
        print(String(decoding: data ?? Data(), as: UTF8.self))
    }
}
