import ArgumentParser
import Evaluation
import Foundation
import ImageIO
import Training
import VQZ

/// `vqz eval tokenizer`: what a tokenizer makes of whole pictures, level by level, through the
/// codec as `vqz compress --levels L` and `vqz decompress` run it: the file's rate, PSNR, MS-SSIM, and
/// how many of each level's codes the pictures use.
struct EvalTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Rate, PSNR, MS-SSIM and codebook use per level on whole pictures, through the codec.",
        discussion: """
            Reads every picture under --data as 8-bit RGB (alpha dropped, gray expanded), \
            tokenizes it once at all levels, and for each level L codes \
            its first L levels as a .vqz file (zstd, with the tint plane, as \
            'vqz compress --levels L' writes it; --no-tint: tokens only), decodes \
            it, and scores the result against the picture (PSNR over RGB, MS-SSIM on luma, as \
            'vqz compare'). Reports the means over the pictures, and per level the codes that \
            appear at least once in all the pictures' grids and the perplexity of their counts \
            (the number of equally used codes with the same entropy). --unquantized adds a row \
            for the encoder's output decoded with no quantization: the limit more levels would \
            approach, set by the latent and the decoder, not the codebooks.
            """
    )

    @Option(help: ArgumentHelp("Folder of pictures (searched recursively), e.g. data/val.", valueName: "dir")) var data: String
    @Flag(help: "Print JSON, one object per level.") var json = false
    @Flag(help: "Add a row for the encoder's output decoded without quantization (no rate: not a bitstream).") var unquantized = false
    @Flag(help: "Code the tokens alone, without the tint plane.") var noTint = false
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func run() throws {
        let console = verbosity.console
        let codec = Codec(model: try modelOptions.load())
        if noTint { codec.tintPlanes = false }
        let (pictures, paths, skipped) = try TrainingImages.load(folder: data)
        for s in skipped { console.warn(s.path, s.reason) }
        let levels = codec.model.levels, k = codec.model.config.codebookSize
        var tally = TokenizerTally(codec: codec, unquantized: unquantized)
        let progress = ProgressLine(console: console)
        for (i, picture) in pictures.enumerated() {
            progress.update("\(paths[i]): \(i + 1)/\(pictures.count)")
            try tally.add(picture)
        }
        progress.finish()
        let (bits, psnrs, msssims, counts) = (tally.bitsPerPixel, tally.psnr, tally.msssim, tally.counts)
        let (unquantizedPSNR, unquantizedMSSSIM) = (tally.unquantizedPSNR, tally.unquantizedMSSSIM)
        let n = Double(pictures.count)
        if !json {
            print("tokenizer \(codec.model.fingerprint), \(pictures.count) pictures in \(data)")
            print("level  bpp     PSNR (dB)  MS-SSIM  codes used      perplexity")
        }
        for l in 0..<levels {
            let used = counts[l].filter { $0 > 0 }.count, total = Double(counts[l].reduce(0, +))
            let entropy = counts[l].reduce(0.0) { h, c in c == 0 ? h : h - Double(c) / total * log(Double(c) / total) }
            let (b, p, m) = (bits[l] / n, psnrs[l] / n, msssims[l] / n)
            if json {
                print(String(format: "{\"level\": %d, \"bpp\": %.4f, \"psnr\": %.3f, \"msssim\": %.5f, \"codes_used\": %d, \"codebook_size\": %d, \"perplexity\": %.1f}",
                             l + 1, b, p, m, used, k, exp(entropy)))
            } else {
                print(String(format: "%-6d %.4f  %-9.2f  %.4f   %4d of %d (%2.0f%%)  %.0f", l + 1, b, p, m, used, k, 100 * Double(used) / Double(k), exp(entropy)))
            }
        }
        if unquantized {
            let (p, m) = (unquantizedPSNR / n, unquantizedMSSSIM / n)
            if json {
                print(String(format: "{\"unquantized\": true, \"psnr\": %.3f, \"msssim\": %.5f}", p, m))
            } else {
                print(String(format: "none   -       %-9.2f  %.4f   (the encoder's output, not quantized)", p, m))
            }
        }
    }
}
