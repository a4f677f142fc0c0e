import ArgumentParser
import Evaluation
import Foundation
import ImageIO
import Training
import VQZ

/// `vqz eval entropy`: what the entropy prior saves over zstd on the same tokens, how close the
/// rANS streams come to the prior's own information content, and what it costs in time.
struct EvalEntropyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entropy",
        abstract: "Token bytes with the entropy prior against zstd, per level; coding speed.",
        discussion: """
            Tokenizes every image under --data at full size and every level, then codes the same \
            tokens both ways. Per level: zstd bytes, prior (rANS) bytes, and the floor (the \
            prior's cross-entropy, what an ideal coder would need). Then whole .vqz files at \
            level 1 and at every level: size, and token encode and decode times of each coder \
            (the tokenizer's own time is not counted).
            """
    )

    @Option(help: ArgumentHelp("Folder of images.", valueName: "dir")) var data: String
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var entropyPriorOptions: EntropyPriorOptions

    func run() throws {
        let codec = Codec(model: try modelOptions.load())
        let prior = try entropyPriorOptions.load(for: codec.model)
        let levels = codec.model.levels
        try prior.check(codec.model, levels: levels)
        let images = try TrainingImages.load(folder: data)
        guard !images.pictures.isEmpty else { throw CLIError(.usage, "no image under \(data)") }
        var tally = EntropyCodingTally(codec: codec, prior: prior)
        for (picture, path) in zip(images.pictures, images.paths) {
            let image = Image(width: picture.width, height: picture.height, channels: 3, samples8: picture.pixels)
            guard try tally.add(image) else { throw CLIError(.corrupt, "\(path): tokens changed in a round trip") }
        }
        let (zstdBytes, priorBytes, floorBits, pixels, tokens) = (tally.zstdBytes, tally.priorBytes, tally.floorBits, tally.pixels, tally.tokens)
        let (fileBytes, encodeTime, decodeTime) = (tally.fileBytes, tally.encodeSeconds, tally.decodeSeconds)
        let n = Double(images.pictures.count), perToken = Double(tokens)
        print("entropy prior: \(prior.fingerprint) (\(prior.network.parameterCount) parameters) for \(codec.model.tokens)")
        print("images:        \(images.pictures.count), \(pixels) pixels, \(Int(perToken)) tokens per level")
        print("")
        print("level  zstd bytes  prior bytes  saved   floor bytes  over floor  zstd bits/token  prior bits/token")
        for l in 0..<levels {
            let floor = floorBits[l] / 8
            print(String(format: "%5d  %10d  %11d  %5.1f%%  %11.0f  %9.2f%%  %15.3f  %16.3f", l + 1, zstdBytes[l], priorBytes[l],
                         100 * (1 - Double(priorBytes[l]) / Double(zstdBytes[l])), floor, 100 * (Double(priorBytes[l]) / floor - 1),
                         Double(zstdBytes[l] * 8) / perToken, Double(priorBytes[l] * 8) / perToken))
        }
        let zAll = zstdBytes.reduce(0, +), pAll = priorBytes.reduce(0, +)
        print(String(format: "  all  %10d  %11d  %5.1f%%", zAll, pAll, 100 * (1 - Double(pAll) / Double(zAll))))
        print("")
        print("whole files (means per image)  bpp      token encode  token decode")
        for (column, kept) in [1, levels].enumerated() {
            for (row, name) in ["zstd", "prior"].enumerated() {
                print(String(format: "%@ %d level%@%@  %6.4f  %10.3f s  %10.3f s", name, kept, kept == 1 ? " " : "s",
                             String(repeating: " ", count: 21 - name.count),
                             Double(fileBytes[row][column] * 8) / Double(pixels), encodeTime[row][column] / n, decodeTime[row][column] / n))
            }
        }
    }
}
