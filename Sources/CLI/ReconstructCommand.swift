import ArgumentParser
import Foundation
import Generation
import ImageIO
import StandardFormats
import VQZ

/// `vqz reconstruct`: an image through a model of the family (VQ tokenizer, autoencoder or VAE)
/// and back, for comparing them with `vqz compare`.
struct ReconstructCommand: ParsableCommand, VerboseDescribed {
    static let verboseHelp = "Print the model used and the time taken."
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Run an image through a tokenizer, autoencoder or VAE and back (for comparisons).",
        discussion: """
            --model takes the weights of any of 'vqz train tokenizer --kind vq|ae|vae' (the bundled \
            tokenizer by default). A VQ tokenizer goes through the codec, as compress and \
            decompress would (--levels N); the autoencoder and the VAE (its posterior mean) \
            are not codecs: their latent is floats, with no bitstream. Without -o the output is \
            NAME.reconstructed.png beside IMAGE; the format follows OUT's extension (PNG otherwise).
            """
    )

    @Argument(help: "The image ('-' reads standard input).") var image: String
    @Option(name: .short, help: ArgumentHelp("Output image ('-' for standard output).", valueName: "out")) var output: String?
    @Option(name: .customLong("levels"), help: ArgumentHelp("VQ tokenizer: levels to keep (default all).", valueName: "n")) var level: Int?
    @Flag(name: .shortAndLong, help: "Overwrite an existing output; allow binary output to a terminal.") var force = false

    @Option(help: ArgumentHelp("Weights of a VQ tokenizer, an autoencoder or a VAE (.safetensors).", valueName: "path"))
    var model: String?

    @OptionGroup var verbosity: VerbosityOptions<Self>

    var destination: String {
        if let output { return output }
        if image == "-" { return "-" }
        let url = image as NSString
        return (url.pathExtension.isEmpty ? image : url.deletingPathExtension) + ".reconstructed.png"
    }

    func validate() throws {
        if let level, level < 1 { throw ValidationError("-q must be positive") }
    }

    func run() throws {
        let console = verbosity.console
        let target = destination
        try SingleOutput.check([target], input: image, force: force)
        let picture = try InputFile.image(image)
        let network: ReconstructionModel
        if let model {
            network = try loadingModel(model) { try ReconstructionModel.load(contentsOf: model) }
        } else {
            network = .tokenizer(Codec(model: try TokenizerModel.bundled()))
        }
        let t0 = Date()
        let result: Image
        do { result = try network.reconstruct(picture, levels: level) } catch let e as ReconstructionError {
            throw CLIError(.usage, e.description)
        }
        console.note(String(format: "reconstructed %dx%d with the %@ in %.2f s", picture.width, picture.height,
                            network.summary, Date().timeIntervalSince(t0)))
        try SingleOutput.write(result, to: target, force: force, console: console)
    }
}
