import ArgumentParser
import Foundation
import ImageIO
import Models
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
    @Flag(help: "Also time each top-level layer of the encoder and decoder on the first image (one tile).")
    var layers = false
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image") }
        if repeats < 1 { throw ValidationError("--repeat must be positive") }
    }

    func run() throws {
        var model: TokenizerModel? = nil
        let tLoad = try Self.best(repeats) { model = try modelOptions.load() }
        let codec = Codec(model: model!)
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
        print(String(format: "model load (parse, float16 -> float32, build): %.3f s", tLoad))
        let kernels = IntegerKernels.available ? "AVX2 integer kernels" : "no integer kernels on this CPU: int16 runs f32"
        print("precision: encoder \(modelOptions.encoderPrecision.defaultValueDescription), decoder \(modelOptions.decoderPrecision.defaultValueDescription) (\(kernels))")
        print("image                      size        level   bpp     PSNR   MS-SSIM  compress  enc GFLOP/s (vs sgemm)  decompress  dec GFLOP/s (vs sgemm)  peak MiB")
        for path in images {
            var image8 = Image(width: 1, height: 1, channels: 3, samples8: [0, 0, 0])
            let tRead: Double
            do {
                let input = try InputFile.read(path)
                tRead = try Self.best(repeats) {
                    let image = try FormatRegistry.standard.decode(input)
                    image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
                }
            } catch let e as CLIError {
                throw CLIError(e.status, "\(path): \(e.message)")
            }
            let png = FormatRegistry.standard.format(named: "png")!
            var written: [UInt8] = []
            let tWrite = try Self.best(repeats) { written = try png.encode(image8, options: EncodeOptions()) }
            print(String(format: "%@: decode input %.3f s, encode PNG %.3f s (%d bytes); outside the timings below",
                         URL(fileURLWithPath: path).lastPathComponent as NSString, tRead, tWrite, written.count))
            if layers { Self.profileLayers(codec, image8, ceiling: ceiling) }
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

    /// Times the network's top-level layers one by one on the image's first tile (at most
    /// tileTokens on a side), as Sequential.infer runs them; best of 3 per layer.
    static func profileLayers(_ codec: Codec, _ image: Image, ceiling: Double) {
        let net = codec.model.network, f = codec.model.downsampling
        let gw = min(codec.tileTokens, (image.width + f - 1) / f), gh = min(codec.tileTokens, (image.height + f - 1) / f)
        let x = Tensor([1, gh * f, gw * f, 3])
        let rgb = image.withChannels(3).samples8
        for y in 0..<(gh * f) {
            for xx in 0..<(gw * f) {
                let sy = min(y, image.height - 1), sx = min(xx, image.width - 1)
                for c in 0..<3 { x.data[(y * gw * f + xx) * 3 + c] = Float(rgb[(sy * image.width + sx) * 3 + c]) / 255 - 0.5 }
            }
        }
        func run(_ name: String, _ seq: Sequential, _ input: Tensor) -> Tensor {
            print("\(name) layers on \(input.shape):")
            var current = input, total = 0.0
            // Steps as Sequential.infer folds them: [ReLU] [Upsample2x] Conv2d run as one.
            var groups: [[any Layer]] = [], pending: [any Layer] = []
            for layer in seq.layers {
                pending.append(layer)
                if layer is ReLU || layer is Upsample2x { continue }
                groups.append(pending)
                pending = []
            }
            if !pending.isEmpty { groups.append(pending) }
            for group in groups {
                let step = Sequential(group)
                var out = current
                let t = best(3) { step.releaseBuffers(); out = step.infer(current) }
                let flops = inferenceFLOPs(step, height: current.shape[1], width: current.shape[2]).flops
                total += t
                let name = group.map { String(describing: type(of: $0)) }.joined(separator: "+")
                print(String(format: "  %-26@ -> %-18@ %8.1f ms  %6.1f GFLOP/s (%3.0f%%)",
                             name as NSString, "\(out.shape)" as NSString, t * 1000,
                             flops / t / 1e9, 100 * flops / t / 1e9 / ceiling))
                current = out
            }
            print(String(format: "  total %.1f ms", total * 1000))
            // The whole network as decode runs it, buffers reused: what a peer's session.run times.
            let whole = best(5) { _ = seq.infer(input) }
            print(String(format: "  %@ network %.1f ms (Sequential.infer, best of 5)", name as NSString, whole * 1000))
            seq.releaseBuffers()
            return current
        }
        let z = run("encoder", net.encoder, x)
        let tokens = net.quantizer.encode(z, levels: 1)
        let zq = net.quantizer.decode(tokens, shape: z.shape)
        _ = run("decoder", net.decoder, zq)
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
