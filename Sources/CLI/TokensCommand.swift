import ArgumentParser
import Foundation
import ImageIO
import StandardFormats
import TokenArrays
import VQZ

/// `vqz tokens`: the token grid of a .vqz file or of an image, as JSON or NumPy arrays, for
/// generative-model pipelines; or a whole collection as WebDataset shards (TokenShards).
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Export token grids: of one .vqz file or image, or of a collection as shards.",
        discussion: """
            JSON: {"width", "height", "levels": [[row-major tokens of level 1], ...], "model"}. \
            .npy: a uint16 array of shape (levels, rows, cols). .npz: that array as 'tokens' and \
            'meta', a JSON string naming the model (name, digest), the image size, channels, \
            downsampling factor and levels; 'vqz decompress' decodes both back (docs/TOKENS.md). \
            Images are tokenized with the model (--levels N, default all). \
            With --shards, every image of the folders (recursively, by extension, in byte order \
            of their paths), files and --files-from list goes into tar shards of KEY.json and \
            KEY.tokens.npy with an index; shards already there are kept, so a stopped run resumes.
            """
    )

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable { case json, npy, npz }

    @Argument(help: ArgumentHelp("A .vqz file or an image ('-' reads standard input); with --shards, images and folders.", valueName: "input"))
    var inputs: [String] = []

    @Option(name: .long, help: "json, npy or npz (default: from -o's extension, else json).")
    var format: ExportFormat?

    @Option(name: .short, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "out"))
    var output: String?

    @Flag(name: .shortAndLong, help: "Overwrite an existing output.")
    var force = false

    @Option(name: .customLong("levels"), help: ArgumentHelp("Levels to tokenize an image with (default all).", valueName: "n"))
    var level: Int?

    @Option(name: .long, help: ArgumentHelp("Write the collection as WebDataset shards into DIR.", valueName: "dir"))
    var shards: String?

    @Option(name: .long, help: ArgumentHelp("Also take the images listed in LIST, one path a line ('-': standard input).", valueName: "list"))
    var filesFrom: String?

    @Option(name: .long, help: ArgumentHelp("Images per shard (default 1000).", valueName: "n"))
    var shardSize: Int?

    @Option(name: .long, help: ArgumentHelp("Shard names: NAME-000000.tar, NAME-index.jsonl (default tokens).", valueName: "name"))
    var prefix: String?

    @Option(name: .long, help: ArgumentHelp("Write only the shards of worker I of N (those whose number is I modulo N).", valueName: "i/n"))
    var worker: String?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var entropyPriorOptions: EntropyPriorOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func validate() throws {
        if shards == nil {
            if inputs.count > 1 { throw ValidationError("several inputs need --shards DIR (one array holds one image)") }
            if filesFrom != nil || shardSize != nil || prefix != nil || worker != nil {
                throw ValidationError("--files-from, --shard-size, --prefix and --worker go with --shards DIR")
            }
        } else {
            if output != nil || format != nil { throw ValidationError("--shards writes shards; -o and --format are for one array") }
            if inputs.isEmpty && filesFrom == nil { throw ValidationError("--shards needs images, folders or --files-from LIST") }
            if inputs.contains("-") { throw ValidationError("--shards reads files, not standard input ('--files-from -' reads a list)") }
            if let shardSize, shardSize < 1 { throw ValidationError(ShardError.badShardSize(shardSize).description) }
            if let prefix, !ShardPlan.isValidPrefix(prefix) { throw ValidationError(ShardError.badPrefix(prefix).description) }
            if let worker { _ = try Self.parseWorker(worker) }
        }
    }

    /// "I/N" with 0 <= I < N.
    static func parseWorker(_ text: String) throws -> (index: Int, count: Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else {
            throw ValidationError(ShardError.badWorker(text).description)
        }
        return (i, n)
    }

    func run() throws {
        if let shards {
            try TokenShards(command: self, folder: shards).run()
            return
        }
        let input = inputs.first ?? "-"
        do { try export(input) } catch {
            // Every message names the input, as the file commands' messages do.
            throw CLIError(ErrorReport.status(of: error), "\(InputFile.displayName(input)): \(ErrorReport.message(of: error))")
        }
    }

    private func export(_ input: String) throws {
        if let output, output != "-" { try AtomicFile.checkOutput(output, input: input, overwrite: force) }
        let chosen = format ?? output.flatMap { OutputNaming.extensionOf($0) }.flatMap(ExportFormat.init(rawValue:)) ?? .json
        let bytes = try InputFile.read(input, recognise: InputFile.recogniseVQZOrImage)
        let array: TokenArray, model: String
        if bytes.starts(with: VQZFile.signature) {
            let file = try VQZFile(decoding: bytes, entropyPriors: entropyPriorOptions.lookup)
            // A grid is one level count everywhere; a depth map's missing tokens have no index to write.
            if file.tokens.depth != nil {
                throw CLIError(.usage, "positions keep different numbers of levels (-q); write it with 'vqz compress --levels N', or tokenize the image with 'vqz tokens --levels N'")
            }
            model = file.model.description
            // The factor is the model's, not the file's: only .npz records it, so only .npz needs the model.
            let info = try chosen == .npz ? info(of: file, factor: tokenizer(named: file.model).downsampling) : nil
            array = TokenArray(tokens: file.tokens, info: info)
        } else {
            let codec = Codec(model: try modelOptions.load())
            let image = try FormatRegistry.standard.decode(bytes)
            let levels = level ?? codec.model.levels
            guard (1...codec.model.levels).contains(levels) else { throw CodecError.levelOutOfRange(levels, available: codec.model.levels) }
            let grid = codec.tokenize(image.bitDepth == 8 ? image : image.converted(toBitDepth: 8), levels: levels)
            model = codec.model.fingerprint.description
            array = TokenArray(tokens: grid, info: TokenArrayInfo(model: codec.model.fingerprint, width: image.width, height: image.height,
                                                                  channels: image.colorChannels, factor: codec.model.downsampling,
                                                                  levels: levels, codebookSize: codec.model.config.codebookSize))
        }
        let data: [UInt8]
        switch chosen {
        case .json: data = Array(TokenExport.json(array.tokens, model: model).utf8)
        case .npy: data = array.npy()
        case .npz: data = try array.npz()
        }
        if let output, output != "-" {
            try AtomicFile.write(data, to: output, overwrite: force)
        } else {
            if chosen != .json { try SingleOutput.refuseTerminal(force: force) }
            try AtomicFile.writeAll(data, to: STDOUT_FILENO, name: "standard output")
        }
    }

    /// The --model (or bundled) tokenizer when it is `fingerprint`, else the bundled one that is.
    private func tokenizer(named fingerprint: ModelFingerprint) throws -> TokenizerModel {
        let chosen = try modelOptions.load()
        if chosen.fingerprint == fingerprint { return chosen }
        if modelOptions.model == nil, let bundled = try TokenizerModel.bundled(named: fingerprint) { return bundled }
        throw ContainerError.modelMismatch(needed: fingerprint, available: chosen.fingerprint)
    }

    private func info(of file: VQZFile, factor: Int) -> TokenArrayInfo {
        TokenArrayInfo(model: file.model, width: file.width, height: file.height, channels: file.colorChannels,
                       factor: factor, levels: file.tokens.levels.count, codebookSize: file.tokens.codebookSizes.first ?? 0)
    }
}
