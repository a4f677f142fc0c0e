import ArgumentParser
import Foundation
import Generation
import ImageIO
import Models
import NN
import StandardFormats
import Training
import VQZ

/// `vqz eval ...`: the measurements behind docs/MODELS.md and docs/BENCHMARKS.md (Priors).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure the models: bits per token, sampling speed, inpainting, entropy coding, the scene judge, prompts, the tokenizer.",
        subcommands: [EvalPriorCommand.self, EvalInpaintCommand.self, EvalEntropyCommand.self, EvalJudgeCommand.self,
                      EvalPromptsCommand.self, EvalTokenizerCommand.self]
    )
}

/// Where `vqz train prior` caches token grids by default, so evaluation reuses them.
let defaultTokenCache = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.cache/vqz"

struct EvalPriorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Validation bits per token against the unigram entropy and log2(K); sampling speed.",
        discussion: """
            Tokenizes the images under --data (half and quarter size, as 'vqz train prior' does; \
            cached in --cache), scores non-overlapping 16x16 crops of their level-1 grids, and \
            times sampling a 16x16 grid (one grid, then a batch of 4).
            """
    )

    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "DIR")) var data: String
    @Option(help: ArgumentHelp("Folder for token caches.", valueName: "DIR")) var cache = defaultTokenCache
    @Option(help: "Validation crops at most.") var valCrops = 256
    @OptionGroup var scaleOptions: ScaleOptions
    @OptionGroup var priorOptions: PriorOptions
    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let codec = Codec(model: try modelOptions.load())
        let prior = try reportingGenerationErrors { try priorOptions.load() }
        try reportingGenerationErrors { try prior.check(codec.model) }
        let grids = try PriorTrainingData.grids(folder: data, codec: codec, cacheFolder: cache, scales: scaleOptions.factors)
        let crops = TokenCropSource.tiles(of: grids, size: 16, limit: valCrops)
        let k = codec.model.config.codebookSize
        let net = prior.network
        let t0 = Date()
        let bits = net.bitsPerToken(crops: crops, size: 16)
        let scoring = Date().timeIntervalSince(t0)
        print(String(format: "prior:               %@ (%d parameters)", prior.kind.rawValue, net.store.trainableCount))
        print(String(format: "validation crops:    %d of 16x16 tokens (%d tokens)", crops.count / 256, crops.count))
        print(String(format: "bits per token:      %.4f", bits))
        print(String(format: "unigram entropy:     %.4f (of these tokens' own histogram)", unigramEntropy(crops, codebookSize: k)))
        print(String(format: "log2(K):             %.4f", log2(Double(k))))
        print(String(format: "scoring:             %.0f tokens/s (teacher-forced, batches of 8)", Double(crops.count) / scoring))
        for batch in [1, 4] {
            var tokens = [Int32](repeating: 0, count: batch * 256)
            var rngs = (0..<batch).map { RNG(seed: UInt64($0)) }
            let s0 = Date()
            net.sample(&tokens, batch: batch, height: 16, width: 16, resample: Array(repeating: true, count: 256),
                       options: SamplingOptions(), rngs: &rngs)
            let dt = Date().timeIntervalSince(s0)
            print(String(format: "sampling %d grid(s):  %.2f s for 16x16 tokens each, %.0f tokens/s", batch, dt, Double(batch * 256) / dt))
        }
    }
}

struct EvalInpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Inpainting PSNR and MS-SSIM: all-sides context, raster order, and a diffusion fill.",
        discussion: """
            Cuts a square hole (--hole pixels) at the centre of each image under --data, fills it \
            three ways and compares each with the original: PSNR over the hole's pixels, MS-SSIM \
            over the 176x176 square centred on the hole (the smallest with 5 scales). --save DIR \
            writes each case side by side: original, diffusion, raster, all-sides.
            """
    )

    @Option(help: ArgumentHelp("Folder of validation images.", valueName: "DIR")) var data: String
    @Option(help: "Hole side in pixels.") var hole = 48
    @Option(help: "Images to use at most (sorted by name).") var limit = 10
    @Option(help: ArgumentHelp("Write side-by-side pictures of each case here.", valueName: "DIR")) var save: String?
    @Option(help: "Rescoring sweeps (all-sides).") var sweeps = 1
    @Option(help: "Candidates per token (all-sides).") var candidates = 16
    @OptionGroup var sampling: SamplingFlags
    @OptionGroup var priorOptions: PriorOptions
    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let codec = Codec(model: try modelOptions.load())
        let prior = try reportingGenerationErrors { try priorOptions.load() }
        let inpainter = try reportingGenerationErrors { try Inpainter(codec: codec, prior: prior) }
        let images = try TrainingImages.load(folder: data)
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }
        let methods = ["diffusion", "raster", "all"]
        var psnrs = [[Double]](repeating: [], count: 3), ssims = psnrs, times = psnrs
        print("image                      " + methods.map { $0.padding(toLength: 22, withPad: " ", startingAt: 0) }.joined())
        for (picture, path) in zip(images.pictures, images.paths).prefix(limit) {
            let (w, h) = (picture.width, picture.height)
            guard w >= 176 && h >= 176 else { continue }
            let image = Image(width: w, height: h, channels: 3, samples8: picture.pixels)
            let (hx, hy) = ((w - hole) / 2, (h - hole) / 2)
            let mask = try Inpainter.rectangle(x: hx, y: hy, w: hole, h: hole, imageWidth: w, imageHeight: h)
            var outputs: [[UInt8]] = []
            var line = (path as NSString).lastPathComponent.padding(toLength: 27, withPad: " ", startingAt: 0)
            for (m, method) in methods.enumerated() {
                let t0 = Date()
                let out: [UInt8]
                if method == "diffusion" {
                    out = diffusionFill(picture.pixels, width: w, height: h, hole: mask)
                } else {
                    var options = InpaintOptions()
                    options.context = method == "all" ? .all : .raster
                    options.seed = sampling.seed
                    options.sampling = SamplingOptions(temperature: sampling.temperature, topK: sampling.topK)
                    options.sweeps = sweeps
                    options.candidates = candidates
                    out = try reportingGenerationErrors { try inpainter.inpaint(image, hole: mask, options: options) }.samples8
                }
                times[m].append(Date().timeIntervalSince(t0))
                let p = psnr(crop(picture.pixels, w, hx, hy, hole, hole), crop(out, w, hx, hy, hole, hole))
                let cx = min(max(0, hx + hole / 2 - 88), w - 176), cy = min(max(0, hy + hole / 2 - 88), h - 176)
                let s = msssim(crop(picture.pixels, w, cx, cy, 176, 176), crop(out, w, cx, cy, 176, 176), width: 176, height: 176)
                psnrs[m].append(p)
                ssims[m].append(s)
                line += String(format: "%6.2f dB %6.4f       ", p, s)
                outputs.append(out)
            }
            print(line)
            if let save {
                // Original and the three fills of the 176x176 square around the hole, side by side.
                let cx = min(max(0, hx + hole / 2 - 88), w - 176), cy = min(max(0, hy + hole / 2 - 88), h - 176)
                let tiles = ([picture.pixels] + outputs).map { Image(width: 176, height: 176, channels: 3, samples8: crop($0, w, cx, cy, 176, 176)) }
                let sheet = sideBySide(tiles, gap: 4)
                let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension + "-inpaint.png"
                try AtomicFile.write(try FormatRegistry.standard.encode(sheet, as: "png"), to: (save as NSString).appendingPathComponent(name), overwrite: true)
            }
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        print(String(format: "mean over %d images, %dx%d hole, %@ prior:", psnrs[0].count, hole, hole, prior.kind.rawValue))
        for (m, method) in methods.enumerated() {
            print(String(format: "  %-10@ PSNR %6.2f dB   MS-SSIM %.4f   %.2f s per image", method, mean(psnrs[m]), mean(ssims[m]), mean(times[m])))
        }
    }

    func crop(_ rgb: [UInt8], _ width: Int, _ x0: Int, _ y0: Int, _ w: Int, _ h: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(w * h * 3)
        for y in y0..<(y0 + h) { out.append(contentsOf: rgb[((y * width + x0) * 3)..<((y * width + x0 + w) * 3)]) }
        return out
    }

    func sideBySide(_ images: [Image], gap: Int) -> Image {
        let (w, h) = (images[0].width, images[0].height)
        let sw = images.count * w + (images.count - 1) * gap
        var out = [UInt8](repeating: 255, count: sw * h * 3)
        for (i, image) in images.enumerated() {
            for y in 0..<h {
                let dst = (y * sw + i * (w + gap)) * 3
                out.replaceSubrange(dst..<(dst + w * 3), with: image.samples8[(y * w * 3)..<((y + 1) * w * 3)])
            }
        }
        return Image(width: sw, height: h, channels: 3, samples8: out)
    }
}

/// The trivial fill: each hole pixel becomes the harmonic interpolation of the hole's border
/// (Jacobi iterations of the 4-neighbour mean, started from the border's mean), a smooth blur
/// from the edges inwards.
func diffusionFill(_ rgb: [UInt8], width w: Int, height h: Int, hole: [Bool], iterations: Int = 2000) -> [UInt8] {
    var value = rgb.map { Double($0) }
    var border = [Double](repeating: 0, count: 3), n = 0.0
    for y in 0..<h {
        for x in 0..<w where !hole[y * w + x] {
            let touches = [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)].contains { $0.0 >= 0 && $0.0 < w && $0.1 >= 0 && $0.1 < h && hole[$0.1 * w + $0.0] }
            if touches { for c in 0..<3 { border[c] += value[(y * w + x) * 3 + c] }; n += 1 }
        }
    }
    let holes = (0..<(w * h)).filter { hole[$0] }
    for i in holes { for c in 0..<3 { value[i * 3 + c] = border[c] / max(n, 1) } }
    var next = [Double](repeating: 0, count: holes.count * 3)
    for _ in 0..<iterations {
        for (k, i) in holes.enumerated() {
            let (x, y) = (i % w, i / w)
            for c in 0..<3 {
                var s = 0.0, m = 0.0
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    s += value[(ny * w + nx) * 3 + c]; m += 1
                }
                next[k * 3 + c] = s / m
            }
        }
        for (k, i) in holes.enumerated() { for c in 0..<3 { value[i * 3 + c] = next[k * 3 + c] } }
    }
    return value.map { UInt8(min(max($0.rounded(), 0), 255)) }
}
