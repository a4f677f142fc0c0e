import ArgumentParser
import Foundation
import ImageIO
import StandardFormats
import VQZ

/// `vqz compare REFERENCE TEST`: the quality figures the benchmarks report, for any two images.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Print PSNR (RGB, 8-bit) and MS-SSIM (5 scales, luma) of TEST against REFERENCE.",
        discussion: """
            Both images must have the same size; alpha is ignored and gray images are compared \
            as gray. 16-bit images are first reduced to 8 bits. The definitions are in \
            Sources/VQZ/Quality (PSNR over every RGB sample; MS-SSIM of Wang et al. 2003 on BT.601 luma).
            """
    )

    @Argument(help: "The original image.") var reference: String
    @Argument(help: "The image to score.") var test: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func run() throws {
        let a = try Self.load(reference), b = try Self.load(test)
        guard a.width == b.width && a.height == b.height else {
            throw CLIError(.usage, "sizes differ: \(a.width)x\(a.height) and \(b.width)x\(b.height)")
        }
        let channels = a.isGray && b.isGray ? 1 : 3
        let pa = a.withChannels(channels).samples8, pb = b.withChannels(channels).samples8
        let p = psnr(pa, pb)
        let m = msssim(pa, pb, width: a.width, height: a.height, channels: channels)
        if json {
            print("{\"psnr\": \(p.isFinite ? String(format: "%.4f", p) : "null"), \"msssim\": \(String(format: "%.6f", m))}")
        } else {
            print(String(format: "PSNR: %.4f dB, MS-SSIM: %.6f", p, m))
        }
    }

    static func load(_ path: String) throws -> Image {
        do {
            let image = try FormatRegistry.standard.decode(try InputFile.read(path, recognise: InputFile.recogniseImage))
            return image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
        } catch {
            throw CLIError(ErrorReport.status(of: error), "\(InputFile.displayName(path)): \(ErrorReport.message(of: error))")
        }
    }
}
