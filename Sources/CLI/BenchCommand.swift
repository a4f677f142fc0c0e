import ArgumentParser
import Evaluation
import Foundation
import ImageIO
import Models
import NN
import StandardFormats
import VQZ

/// `vqz bench IMAGE...`: compress and decompress speed at each level against the machine's own
/// sgemm ceiling measured in the same run, with the rate and quality reached (zstd's -b).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure compress/decompress speed, GFLOP/s against sgemm, rate and quality.",
        discussion: """
            Times exclude reading and writing image files: compress = tokenize + pack, \
            decompress = unpack + decode. GFLOP/s counts the convolutions' multiply-adds x 2 \
            (tile margins included). Peak memory is the process's maximum resident size so far.
            """
    )

    @Argument(help: "Images to measure.") var images: [String]
    @Option(help: "Quality levels to measure, comma-separated (default: all).") var levels: String?
    @Option(name: .customLong("repeat"), help: "Best of N runs per measurement.") var repeats = 2
    @Flag(help: "Also time each top-level layer of the encoder and decoder on the first image (one tile).")
    var layers = false
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image") }
        if repeats < 1 { throw ValidationError("--repeat must be positive") }
    }

    func run() throws {
        var model: TokenizerModel? = nil
        let tLoad = try Benchmark.best(repeats) { model = try modelOptions.load() }
        let codec = Codec(model: model!)
        let chosen = try levels.map { text in
            try text.split(separator: ",").map { s -> Int in
                guard let l = Int(s), (1...codec.model.levels).contains(l) else {
                    throw CodecError.levelOutOfRange(Int(s) ?? 0, available: codec.model.levels)
                }
                return l
            }
        } ?? Array(1...codec.model.levels)
        let ceiling = Benchmark.sgemmGFLOPs()
        print(String(format: "sgemm 2048^3: %.1f GFLOP/s (%d threads)", ceiling, Threads.count))
        print(String(format: "model load (parse, float16 -> float32, build): %.3f s", tLoad))
        let kernels = VectorKernels.available ? "\(VectorKernels.integerKernels) integer kernels" : "no integer kernels on this CPU: int16 runs f32"
        print("precision: encoder \(modelOptions.encoderPrecision.defaultValueDescription), decoder \(modelOptions.decoderPrecision.defaultValueDescription) (\(kernels))")
        print("image                      size        level   bpp     PSNR   MS-SSIM  compress  enc GFLOP/s (vs sgemm)  decompress  dec GFLOP/s (vs sgemm)  peak MiB")
        for path in images {
            var image8 = Image(width: 1, height: 1, channels: 3, samples8: [0, 0, 0])
            let tRead: Double
            do {
                let input = try InputFile.read(path)
                tRead = try Benchmark.best(repeats) {
                    let image = try FormatRegistry.standard.decode(input)
                    image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
                }
            } catch let e as CLIError {
                throw CLIError(e.status, "\(path): \(e.message)")
            }
            let png = FormatRegistry.standard.format(named: "png")!
            var written: [UInt8] = []
            let tWrite = try Benchmark.best(repeats) { written = try png.encode(image8, options: EncodeOptions()) }
            print(String(format: "%@: decode input %.3f s, encode PNG %.3f s (%d bytes); outside the timings below",
                         URL(fileURLWithPath: path).lastPathComponent as NSString, tRead, tWrite, written.count))
            if layers { Benchmark.profileLayers(codec, image8, ceiling: ceiling).forEach { print($0) } }
            let encFlops = codec.encoderFLOPs(width: image8.width, height: image8.height)
            let decFlops = codec.decoderFLOPs(width: image8.width, height: image8.height)
            for level in chosen {
                var bytes: [UInt8] = [], decoded = image8
                let tc = try Benchmark.best(repeats) { bytes = try codec.compress(image8, levels: level).encode() }
                let td = try Benchmark.best(repeats) { decoded = try codec.decompress(VQZFile(decoding: bytes)) }
                let ref = image8.withChannels(image8.colorChannels).samples8
                let out = decoded.withChannels(image8.colorChannels).samples8
                let name = URL(fileURLWithPath: path).lastPathComponent
                print(String(format: "%-26@ %-11@ %5d  %6.4f  %6.2f  %7.4f  %7.3f s  %6.1f (%3.0f%%)            %7.3f s  %6.1f (%3.0f%%)            %7.0f",
                             String(name.prefix(26)) as NSString, "\(image8.width)x\(image8.height)" as NSString, level,
                             bitsPerPixel(byteCount: bytes.count, width: image8.width, height: image8.height),
                             psnr(ref, out), msssim(ref, out, width: image8.width, height: image8.height, channels: image8.colorChannels),
                             tc, encFlops / tc / 1e9, 100 * encFlops / tc / 1e9 / ceiling,
                             td, decFlops / td / 1e9, 100 * decFlops / td / 1e9 / ceiling,
                             Benchmark.peakResidentMiB()))
            }
        }
    }
}
