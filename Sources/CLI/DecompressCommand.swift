import ArgumentParser
import ImageIO
import StandardFormats
import VQZ

/// `vqz decompress`: .vqz files back to images.
struct DecompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompress",
        abstract: "Decompress .vqz files to images.",
        discussion: """
            FILE.png.vqz is written to FILE.png (the format from --format, else the output's \
            extension, else PNG); no input or '-' reads standard input and writes standard output.
            """
    )

    @OptionGroup var files: FileOptions

    @Option(name: .long, help: ArgumentHelp("Output format: png, jpeg, ppm, pgm, pam or a plugin's (see 'vqz formats').", valueName: "FORMAT"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("JPEG quality when writing JPEG.", valueName: "Q"))
    var jpegQuality: Int = 92

    @Option(name: .long, help: ArgumentHelp("Metadata stored in the .vqz to write into PNG and JPEG output: all, none, or a comma-separated list of icc, exif, xmp. PNM and plugin formats hold none.", valueName: "LIST"))
    var metadata: MetadataKinds = .all

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var entropyPriorOptions: EntropyPriorOptions
    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        if let format, FormatRegistry.standard.format(named: format)?.canWrite != true {
            throw ValidationError("unknown output format '\(format)' (see 'vqz formats')")
        }
        if !(1...100).contains(jpegQuality) { throw ValidationError("--jpeg-quality must be in 1...100") }
    }

    func run() throws {
        let registry = FormatRegistry.standard
        let extensions = Set(registry.formats.filter(\.canWrite).flatMap(\.extensions))
        let forced = format.flatMap { registry.format(named: $0) }.map { (preferred: $0.extensions[0], all: Set($0.extensions)) }
        let codec = Codec(model: try modelOptions.load())
        var batch = Batch(files: files, console: verbosity.console) { source in
            try OutputNaming.decompressed(for: source, imageExtensions: extensions, forced: forced)
        }
        batch.recognise = InputFile.recogniseVQZ
        let console = verbosity.console
        try batch.run { job in
            var image = try codec.decompress(job.input, entropyPriors: entropyPriorOptions.lookup)
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
            if !dropped.isEmpty { console.warn(job.name, "\(target.name) cannot hold the \(dropped.spelledOut): not written") }
            return try target.encode(image, options: EncodeOptions(quality: jpegQuality))
        }
    }
}
