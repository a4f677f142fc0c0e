import ArgumentParser
import ImageIO
import StandardFormats
import VQZ

/// `vqz compress`: images (PNG, JPEG, PPM/PGM/PAM, detected by their bytes) to .vqz files.
struct CompressCommand: ParsableCommand, VerboseDescribed {
    static let verboseHelp = "Print a line per file: bytes read and written, and where."
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress images to .vqz token grids.",
        discussion: """
            Each input FILE is written to FILE.vqz beside it (inputs are kept); no input or '-' \
            reads standard input and writes standard output; with -r, a folder stands for every image \
            under it. -q sets the quality from 0 (level 1 \
            everywhere, smallest) to 100 (every level everywhere): in between, each 8x8 block keeps \
            the residual levels whose gain is worth their bits. --size and --psnr search the \
            quality for a file size or a fidelity, as cwebp's -size and -psnr do; --levels keeps \
            the same number of levels everywhere. Beside the tokens goes a tint plane, a coarse \
            colour correction of a few hundred bytes, when it is worth its bytes (--no-tint: tokens only).
            """
    )

    @OptionGroup var files: FileOptions
    @OptionGroup var batchOptions: BatchOptions

    @Option(name: [.customShort("q"), .long], help: ArgumentHelp("Quality, 0 (smallest) to 100 (best); 75 unless --levels, --size or --psnr is given.", valueName: "0-100"))
    var quality: Double?

    @Option(help: ArgumentHelp("Keep this many token levels at every position instead.", valueName: "n"))
    var levels: Int?

    @Option(help: ArgumentHelp("Search the quality for the best file of at most this many bytes.", valueName: "bytes"))
    var size: Int?

    @Option(help: ArgumentHelp("Search the quality for the smallest file of at least this PSNR.", valueName: "db"))
    var psnr: Double?

    @Option(name: .long, help: ArgumentHelp("Rounds of choosing tokens by their decoded error instead of nearest codes: 0 (the default) is fastest; each round costs about a decode and its gradient; 10 buy most of the gain.", valueName: "rounds"))
    var effort: Int = 0

    @Option(name: .long, help: ArgumentHelp("Token coding: zstd, or prior (rANS with the learned context prior: smaller, slower).", valueName: "zstd|prior"))
    var entropy: TokenCoding = .zstd

    @Flag(name: .long, help: "Write the tokens alone, without the tint plane (a coarse colour correction).")
    var noTint = false

    @Flag(name: .long, help: "Drop the alpha channel instead of storing it losslessly.")
    var dropAlpha = false

    @Option(name: .long, help: ArgumentHelp("Metadata to keep from PNG and JPEG input: all, none, or a comma-separated list of icc, exif, xmp.", valueName: "list"))
    var metadata: MetadataKinds = .all

    @Option(name: .long, help: ArgumentHelp("Refuse images with more pixels than this.", valueName: "n"))
    var maxPixels: Int = DecodeLimits().maxPixels

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var entropyPriorOptions: EntropyPriorOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func validate() throws {
        let chosen = [quality.map { _ in "-q" }, levels.map { _ in "--levels" }, size.map { _ in "--size" }, psnr.map { _ in "--psnr" }].compactMap { $0 }
        if chosen.count > 1 { throw ValidationError("\(chosen.joined(separator: " and ")) exclude each other: give one") }
        if let quality, !Quality.scaleRange.contains(quality) { throw ValidationError("-q must be 0...100") }
        if let levels, levels < 1 { throw ValidationError("--levels must be at least 1") }
        if let size, size < 1 { throw ValidationError("--size must be positive") }
        if let psnr, !(psnr > 0 && psnr.isFinite) { throw ValidationError("--psnr must be a positive number of dB") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
        if !(0...TokenRefinement.maxRounds).contains(effort) { throw ValidationError("--effort must be 0...\(TokenRefinement.maxRounds)") }
    }

    /// What the options ask for; -q's default when none is given.
    var target: RateTarget {
        if let levels { return .quality(.levels(levels)) }
        if let size { return .size(bytes: size) }
        if let psnr { return .psnr(psnr) }
        return .quality(quality.map { .scale($0) } ?? .default)
    }

    func run() throws {
        let console = verbosity.console
        // Each thread that runs files gets its own models (Batch.run); the first is loaded here
        // so that a bad --model or --levels fails before any file is read.
        var loaded: Codec? = Codec(model: try modelOptions.load())
        if let levels, levels > loaded!.model.levels { throw CodecError.levelOutOfRange(levels, available: loaded!.model.levels) }
        let target = self.target
        var batch = Batch(files: files, options: batchOptions, console: console, name: OutputNaming.compressed)
        batch.recognise = InputFile.recogniseImage
        batch.takes = InputFile.isImage
        batch.stage = "encoding"
        try batch.run {
            let codec = try loaded ?? Codec(model: modelOptions.load())
            loaded = nil
            if noTint { codec.tintPlanes = false }
            codec.refinement.rounds = effort
            let prior = entropy == .prior ? try entropyPriorOptions.load(for: codec.model) : nil
            if let prior {
                try prior.check(codec.model, levels: levels ?? codec.model.levels)
            }
            return { job in
                codec.progress = job.progress
                let image = try FormatRegistry.standard.decode(job.input, limits: DecodeLimits(maxPixels: maxPixels))
                if image.bitDepth == 16 { job.console.warn(job.name, "16-bit samples reduced to 8 bits") }
                let (bytes, chosen) = try codec.compress(image, to: target, keepAlpha: !dropAlpha) { file in
                    var file = file
                    file.metadata = image.metadata.keeping(metadata)
                    if let prior { file.useEntropyPrior(prior) }
                    return try file.encode(prior: prior)
                }
                if case .scale(let q) = chosen, size != nil || psnr != nil {
                    job.console.note("\(job.name): quality \(String(format: "%.2f", q))")
                }
                return bytes
            }
        }
    }
}
