import ArgumentParser
import Foundation
import Generation
import ImageIO
import Models
import StandardFormats
import VQZ

/// `vqz inpaint`: refills a region of an image with tokens drawn from a prior.
struct InpaintCommand: ParsableCommand, VerboseDescribed {
    static let verboseHelp = "Print the prior used and the time taken."
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Fill a region of an image using a prior over its tokens.",
        discussion: """
            Blurs the hole (--mask: light pixels of a same-size image; --rect: X,Y,W,H in \
            pixels) in from its border, tokenizes the region around it, redraws the level-1 \
            tokens whose 8x8 block lies wholly in the hole --draws times, decodes each draw and \
            keeps the one that agrees best with what surrounds it; a hole too thin to hold a \
            whole block stays the blur. The fill keeps the draw's detail finer than \
            --detail-radius pixels over the blur's colours and shading (0: the whole draw, \
            corrected to meet its surroundings without a seam), and the original pixels are kept \
            outside the hole, with a fade over --feather pixels. \
            The masked prior predicts the hole from every side at once, in --steps parallel \
            steps. Tokens are drawn among the 4 most likely unless --top-k says otherwise. With the transformer or PixelCNN, --context all (the default) also rescores \
            each hole token by how likely it makes the known tokens after it (below and to the \
            right); --context raster samples from the tokens above and to the left only. \
            Without -o the output is written beside IMAGE as NAME.inpainted.EXT.
            """
    )

    @Argument(help: "The image to inpaint.") var image: String
    @Option(help: ArgumentHelp("Mask image of the same size: light pixels are refilled.", valueName: "mask")) var mask: String?
    @Option(help: ArgumentHelp("Rectangle to refill, in pixels.", valueName: "x,y,w,h")) var rect: String?
    @Option(name: .short, help: ArgumentHelp("Output image ('-' for standard output).", valueName: "out")) var output: String?
    @Flag(name: .shortAndLong, help: "Overwrite an existing output; allow binary output to a terminal.") var force = false

    @Option(help: "Fills drawn; the one that fits the known pixels best is kept (default 4 masked, 1 otherwise).") var draws: Int?
    @Option(help: "Context of the transformer and PixelCNN: all (every side) or raster (above and left).") var context: InpaintOptions.Context = .all
    @Option(help: "Rescoring sweeps over the hole with --context all.") var sweeps = 1
    @Option(help: "Candidates rescored per token with --context all.") var candidates = 16
    @Option(help: "Width in pixels of the fade between the drawn fill and its surroundings.") var feather = 4
    @Option(help: ArgumentHelp("The fill keeps its detail finer than this many pixels and takes its colours from a blur of the border (0: the whole fill).", valueName: "px"))
    var detailRadius = InpaintOptions().detailRadius

    @OptionGroup var sampling: SamplingFlags
    @OptionGroup var priorOptions: PriorOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    var rectangle: PixelRect? { rect.flatMap(PixelRect.init(parsing:)) }

    func validate() throws {
        if (mask == nil) == (rect == nil) { throw ValidationError("give exactly one of --mask and --rect") }
        if rect != nil {
            guard rectangle != nil else {
                throw ValidationError("--rect must be X,Y,W,H with X, Y >= 0, W, H > 0 and X + W, Y + H within 2^63 (pixels)")
            }
        }
        if !(1...10).contains(sweeps) { throw ValidationError("--sweeps must be in 1...10") }
        if !(1...1024).contains(candidates) { throw ValidationError("--candidates must be in 1...1024") }
        if let draws, !(1...64).contains(draws) { throw ValidationError("--draws must be in 1...64") }
        if !(0...64).contains(feather) { throw ValidationError("--feather must be in 0...64") }
        if !(0...32).contains(detailRadius) { throw ValidationError("--detail-radius must be in 0...32") }
    }

    var destination: String {
        if let output { return output }
        let url = image as NSString
        let ext = url.pathExtension
        return ext.isEmpty ? image + ".inpainted.png" : url.deletingPathExtension + ".inpainted." + ext
    }

    func run() throws {
        let console = verbosity.console
        let target = destination
        try SingleOutput.check([target], input: image, force: force)
        let picture = try InputFile.image(image)
        let hole: [Bool]
        if let r = rectangle {
            hole = try reportingGenerationErrors {
                try Inpainter.rectangle(x: r.x, y: r.y, w: r.width, h: r.height, imageWidth: picture.width, imageHeight: picture.height)
            }
        } else {
            let maskImage = try InputFile.image(mask!)
            hole = try reportingGenerationErrors { try Inpainter.mask(from: maskImage, imageWidth: picture.width, imageHeight: picture.height) }
        }
        let prior = try reportingGenerationErrors { try priorOptions.load(default: .masked) }
        let codec = Codec(model: try modelOptions.load(makingTokens: prior.tokenizer, default: .photos))
        let inpainter = try reportingGenerationErrors { try Inpainter(codec: codec, prior: prior) }
        var options = InpaintOptions()
        options.context = context
        options.seed = sampling.seed
        options.sampling = SamplingOptions(temperature: sampling.temperature, topK: sampling.topK ?? InpaintOptions.defaultTopK,
                                           steps: sampling.steps)
        options.draws = draws
        options.sweeps = sweeps
        options.candidates = candidates
        options.feather = feather
        options.detailRadius = detailRadius
        let display = ProgressDisplay(enabled: console.level >= .normal)
        inpainter.progress = { display.show("inpainting: " + $0) }
        let t0 = Date()
        let result = try reportingGenerationErrors {
            defer { display.clear() }
            return try inpainter.inpaint(picture, hole: hole, options: options)
        }
        let how = inpainter.prior.kind == .masked ? "\(sampling.steps) steps" : "\(context.rawValue) context"
        console.note(String(format: "inpainted with the %@ prior (%@) in %.2f s", inpainter.prior.kind.rawValue, how, Date().timeIntervalSince(t0)))
        try SingleOutput.write(result, to: target, force: force, console: console)
    }
}

extension InpaintOptions.Context: ExpressibleByArgument {}
