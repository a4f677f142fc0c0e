import ArgumentParser
import Foundation
import ImageIO
import StandardFormats
import VQZ

/// `vqz tokens`: the token grid of a .vqz file or of an image, as JSON or as a NumPy .npy array,
/// for generative-model pipelines.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Print or export the token grid of a .vqz file or an image.",
        discussion: """
            JSON: {"width", "height", "levels": [[row-major tokens of level 1], ...], "model"}. \
            .npy: a uint16 array of shape (levels, height, width). Images are tokenized with the \
            model (-q LEVEL levels, default all).
            """
    )

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable { case json, npy }

    @Argument(help: "A .vqz file or an image; '-' reads standard input.")
    var input: String = "-"

    @Option(name: .long, help: "json or npy (default: npy when -o ends in .npy, else json).")
    var format: ExportFormat?

    @Option(name: .short, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "out"))
    var output: String?

    @Flag(name: .shortAndLong, help: "Overwrite an existing output.")
    var force = false

    @Option(name: .customShort("q"), help: ArgumentHelp("Levels to tokenize an image with.", valueName: "level"))
    var level: Int?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var entropyPriorOptions: EntropyPriorOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func run() throws {
        do { try export() } catch {
            // Every message names the input, as the file commands' messages do.
            throw CLIError(ErrorReport.status(of: error), "\(InputFile.displayName(input)): \(ErrorReport.message(of: error))")
        }
    }

    private func export() throws {
        if let output, output != "-" { try AtomicFile.checkOutput(output, input: input, overwrite: force) }
        let bytes = try InputFile.read(input, recognise: InputFile.recogniseVQZOrImage)
        let grid: TokenGrid, model: String
        if bytes.starts(with: VQZFile.signature) {
            let file = try VQZFile(decoding: bytes, entropyPriors: entropyPriorOptions.lookup)
            grid = file.tokens
            model = file.model.description
        } else {
            let codec = Codec(model: try modelOptions.load())
            let image = try FormatRegistry.standard.decode(bytes)
            let levels = level ?? codec.model.levels
            guard (1...codec.model.levels).contains(levels) else { throw CodecError.levelOutOfRange(levels, available: codec.model.levels) }
            grid = codec.tokenize(image.bitDepth == 8 ? image : image.converted(toBitDepth: 8), levels: levels)
            model = codec.model.fingerprint.description
        }
        let chosen = format ?? (output?.lowercased().hasSuffix(".npy") == true ? .npy : .json)
        let data: [UInt8] = chosen == .json ? Array(TokenExport.json(grid, model: model).utf8) : TokenExport.npy(grid)
        if let output, output != "-" {
            try AtomicFile.write(data, to: output, overwrite: force)
        } else {
            if chosen == .npy { try SingleOutput.refuseTerminal(force: force) }
            try AtomicFile.writeAll(data, to: STDOUT_FILENO, name: "standard output")
        }
    }
}
