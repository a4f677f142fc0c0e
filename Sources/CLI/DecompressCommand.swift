import ArgumentParser
import ImageIO
import StandardFormats
import TokenArrays
import VQZ

/// `vqz decompress`: .vqz files, and token arrays (.npy, .npz from `vqz tokens` or another
/// program), back to images.
struct DecompressCommand: ParsableCommand, VerboseDescribed {
    static let verboseHelp = "Print a line per file: bytes read and written, and where."
    static let configuration = CommandConfiguration(
        commandName: "decompress",
        abstract: "Decompress .vqz files to images.",
        discussion: """
            FILE.png.vqz is written to FILE.png (the format from --format, else the output's \
            extension, else PNG); no input or '-' reads standard input and writes standard output; \
            with -r, a folder stands for every .vqz file under it. -t checks files without writing: \
            exit status 2 when one is corrupt. Each .vqz file decodes with the bundled tokenizer that \
            wrote it unless --model names one. Token arrays from 'vqz tokens' (.npz, or a bare .npy \
            with --size) decode the same way.
            """
    )

    @OptionGroup var files: FileOptions
    @OptionGroup var batchOptions: BatchOptions

    @Flag(name: [.customShort("t"), .customLong("test")], help: "Test: decode every input fully, write nothing, report each OK or what is wrong.")
    var test = false

    @Option(name: .long, help: ArgumentHelp("Output format: png, jpeg, ppm, pgm, pam or a plugin's (see 'vqz formats').", valueName: "format"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("JPEG quality when writing JPEG.", valueName: "q"))
    var jpegQuality: Int = 92

    @Option(name: .long, help: ArgumentHelp("Metadata stored in the .vqz to write into PNG and JPEG output: all, none, or a comma-separated list of icc, exif, xmp. PNM and plugin formats hold none.", valueName: "list"))
    var metadata: MetadataKinds = .all

    @Option(name: .long, help: ArgumentHelp("Image size of a bare .npy token array (default: its grid times the factor).", valueName: "wxh"))
    var size: String?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var entropyPriorOptions: EntropyPriorOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func validate() throws {
        if let format, FormatRegistry.standard.format(named: format)?.canWrite != true {
            throw ValidationError("unknown output format '\(format)' (see 'vqz formats')")
        }
        if !(1...100).contains(jpegQuality) { throw ValidationError("--jpeg-quality must be in 1...100") }
        if test && (files.output != nil || files.toStdout) { throw ValidationError("-t writes nothing: -o and -c do not apply") }
        if let size { _ = try Self.parseSize(size) }
    }

    func run() throws {
        let registry = FormatRegistry.standard
        let extensions = Set(registry.formats.filter(\.canWrite).flatMap(\.extensions))
        let forced = format.flatMap { registry.format(named: $0) }.map { (preferred: $0.extensions[0], all: Set($0.extensions)) }
        var loaded: Codec? = Codec(model: try modelOptions.load())
        var batch = Batch(files: files, options: batchOptions, console: verbosity.console) { source in
            try OutputNaming.decompressed(for: source, imageExtensions: extensions, forced: forced)
        }
        batch.recognise = InputFile.recogniseVQZOrTokenArray
        batch.takes = { $0.lowercased().hasSuffix("." + OutputNaming.containerExtension) }
        batch.testOnly = test
        batch.stage = "decoding"
        let arraySize = try size.map(Self.parseSize)
        try batch.run {
            let standard = try loaded ?? Codec(model: modelOptions.load())
            loaded = nil
            var bundled = BundledCodecs(standard: standard, useBundled: modelOptions.model == nil)
            return { job in
                let isArray = TokenArray.recognises(job.input)
                let codec = isArray ? standard : try bundled.codec(for: job.input)
                codec.progress = job.progress
                var image = isArray
                    ? try codec.decompress(TokenArray(reading: job.input).container(for: codec.model, size: arraySize))
                    : try codec.decompress(job.input, entropyPriors: entropyPriorOptions.lookup)
                if job.destination == .none { return [] }
                image.metadata = image.metadata.keeping(metadata)
                let target: any ImageFormat
                if let format, let chosen = registry.format(named: format) {
                    target = chosen
                } else if case .file(let path) = job.destination, let byName = registry.format(forPath: path), byName.canWrite {
                    target = byName
                } else {
                    target = registry.format(named: "png")!
                }
                let dropped = image.metadata.kinds.subtracting(target.metadataKinds)
                if !dropped.isEmpty { job.console.warn(job.name, "\(target.name) cannot hold the \(dropped.spelledOut): not written") }
                return try target.encode(image, options: EncodeOptions(quality: jpegQuality))
            }
        }
    }

    /// "WxH", each side 1...65535 * 1024 at most (the pixel budget is checked with the grid).
    static func parseSize(_ text: String) throws -> (width: Int, height: Int) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w >= 1, h >= 1, w <= 1 << 26, h <= 1 << 26 else {
            throw ValidationError("--size must be WIDTHxHEIGHT in pixels, e.g. 768x512")
        }
        return (w, h)
    }
}

/// The codecs of one decompressing worker: without --model, each .vqz file decodes with the bundled
/// tokenizer its header names, so files written before the default tokenizer changed still decode;
/// a file naming a model this build lacks gets the default one, which refuses it by name.
struct BundledCodecs {
    let standard: Codec
    let useBundled: Bool
    private var loaded: [ModelFingerprint: Codec] = [:]

    init(standard: Codec, useBundled: Bool) {
        self.standard = standard
        self.useBundled = useBundled
    }

    mutating func codec(for bytes: [UInt8]) throws -> Codec {
        guard useBundled else { return standard }
        let named = try VQZFile.tokenizer(of: bytes)
        if named == standard.model.fingerprint { return standard }
        if let codec = loaded[named] { return codec }
        guard let model = try TokenizerModel.bundled(named: named) else { return standard }
        model.network.decoderPrecision = standard.model.network.decoderPrecision
        let codec = Codec(model: model)
        loaded[named] = codec
        return codec
    }
}
