import ArgumentParser
import Foundation
import ImageIO
import NN
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
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image") }
        if repeats < 1 { throw ValidationError("--repeat must be positive") }
    }

    func run() throws {
        let codec = Codec(model: try modelOptions.load())
        let chosen = try levels.map { text in
            try text.split(separator: ",").map { s -> Int in
                guard let l = Int(s), (1...codec.model.levels).contains(l) else {
                    throw CodecError.levelOutOfRange(Int(s) ?? 0, available: codec.model.levels)
                }
                return l
            }
        } ?? Array(1...codec.model.levels)
        let ceiling = Self.sgemmGFLOPs()
        print(String(format: "sgemm 2048^3: %.1f GFLOP/s (%d threads)", ceiling, Threads.count))
        print("image                      size        level   bpp     PSNR   MS-SSIM  compress  enc GFLOP/s (vs sgemm)  decompress  dec GFLOP/s (vs sgemm)  peak MiB")
        for path in images {
            let image8: Image
            do {
                let image = try FormatRegistry.standard.decode(try InputFile.read(path))
                image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
            } catch let e as CLIError {
                throw CLIError(e.status, "\(path): \(e.message)")
            }
            let encFlops = codec.encoderFLOPs(width: image8.width, height: image8.height)
            let decFlops = codec.decoderFLOPs(width: image8.width, height: image8.height)
            for level in chosen {
                var bytes: [UInt8] = [], decoded = image8
                let tc = try Self.best(repeats) { bytes = try codec.compress(image8, levels: level).encode() }
                let td = try Self.best(repeats) { decoded = try codec.decompress(VQZFile(decoding: bytes)) }
                let ref = image8.withChannels(image8.colorChannels).samples8
                let out = decoded.withChannels(image8.colorChannels).samples8
                let name = URL(fileURLWithPath: path).lastPathComponent
                print(String(format: "%-26@ %-11@ %5d  %6.4f  %6.2f  %7.4f  %7.3f s  %6.1f (%3.0f%%)            %7.3f s  %6.1f (%3.0f%%)            %7.0f",
                             String(name.prefix(26)) as NSString, "\(image8.width)x\(image8.height)" as NSString, level,
                             bitsPerPixel(byteCount: bytes.count, width: image8.width, height: image8.height),
                             psnr(ref, out), msssim(ref, out, width: image8.width, height: image8.height, channels: image8.colorChannels),
                             tc, encFlops / tc / 1e9, 100 * encFlops / tc / 1e9 / ceiling,
                             td, decFlops / td / 1e9, 100 * decFlops / td / 1e9 / ceiling,
                             Self.peakResidentMiB()))
            }
        }
    }

    static func best(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<n {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }

    /// The ceiling: OpenBLAS sgemm on a large square product, best of three.
    static func sgemmGFLOPs() -> Double {
        let n = 2048
        let a = Tensor([n, n]), b = Tensor([n, n]), c = Tensor([n, n])
        for i in 0..<a.count { a.data[i] = Float(i % 7) * 0.1; b.data[i] = Float(i % 5) * 0.1 }
        gemm(c.data, a.data, b.data, m: n, n: n, k: n)
        let t = best(3) { gemm(c.data, a.data, b.data, m: n, n: n, k: n) }
        return 2 * Double(n * n * n) / t / 1e9
    }

    static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
