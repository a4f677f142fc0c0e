import ArgumentParser
import ImageIO
import StandardFormats
import VQZ

/// `vqz compress`: images (PNG, JPEG, PPM/PGM/PAM, detected by their bytes) to .vqz files.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress images to .vqz token grids.",
        discussion: """
            Each input FILE is written to FILE.vqz beside it (inputs are kept); no input or '-' \
            reads standard input and writes standard output. -q picks how many quality levels \
            (residual codebooks) to keep: 1 is smallest, the model's last level is best.
            """
    )

    @OptionGroup var files: FileOptions

    @Option(name: .customShort("q"), help: ArgumentHelp("Quality level: how many token levels to keep (default: all).", valueName: "LEVEL"))
    var level: Int?

    @Option(name: .long, help: ArgumentHelp("Token coding: zstd, or prior (rANS with the learned context prior: smaller, slower).", valueName: "zstd|prior"))
    var entropy: TokenCoding = .zstd

    @Flag(name: .long, help: "Drop the alpha channel instead of storing it losslessly.")
    var dropAlpha = false

    @Option(name: .long, help: ArgumentHelp("Metadata to keep from PNG and JPEG input: all, none, or a comma-separated list of icc, exif, xmp.", valueName: "LIST"))
    var metadata: MetadataKinds = .all

    @Option(name: .long, help: ArgumentHelp("Refuse images with more pixels than this.", valueName: "N"))
    var maxPixels: Int = DecodeLimits().maxPixels

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var entropyPriorOptions: EntropyPriorOptions
    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        if let level, level < 1 { throw ValidationError("-q must be at least 1") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
    }

    func run() throws {
        let console = verbosity.console
        let codec = Codec(model: try modelOptions.load())
        if let level, level > codec.model.levels { throw CodecError.levelOutOfRange(level, available: codec.model.levels) }
        let prior = entropy == .prior ? try entropyPriorOptions.load() : nil
        if let prior {
            try prior.check(codec.model, levels: level ?? codec.model.levels)
        }
        var batch = Batch(files: files, console: console, name: OutputNaming.compressed)
        batch.recognise = InputFile.recogniseImage
        try batch.run { job in
            let image = try FormatRegistry.standard.decode(job.input, limits: DecodeLimits(maxPixels: maxPixels))
            if image.bitDepth == 16 { console.warn(job.name, "16-bit samples reduced to 8 bits") }
            var file = try codec.compress(image, levels: level, keepAlpha: !dropAlpha)
            file.metadata = image.metadata.keeping(metadata)
            if let prior { file.useEntropyPrior(prior) }
            return try file.encode(prior: prior)
        }
    }
}
