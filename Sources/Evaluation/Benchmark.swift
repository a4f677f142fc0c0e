import Foundation
import ImageIO
import Models
import NN
import VQZ

/// The measurements of `vqz bench`: the machine's sgemm ceiling, timings, peak memory, and the
/// codec's layers one by one.
public enum Benchmark {
    /// Times the network's top-level layers one by one on the image's first tile (at most
    /// tileTokens on a side), as Sequential.infer runs them; best of 3 per layer.
    public static func profileLayers(_ codec: Codec, _ image: Image, ceiling: Double) -> [String] {
        var lines: [String] = []
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
            lines.append("\(name) layers on \(input.shape):")
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
                lines.append(String(format: "  %-26@ -> %-18@ %8.1f ms  %6.1f GFLOP/s (%3.0f%%)",
                             name as NSString, "\(out.shape)" as NSString, t * 1000,
                             flops / t / 1e9, 100 * flops / t / 1e9 / ceiling))
                current = out
            }
            lines.append(String(format: "  total %.1f ms", total * 1000))
            // The whole network as decode runs it, buffers reused: what a peer's session.run times.
            let whole = best(5) { _ = seq.infer(input) }
            lines.append(String(format: "  %@ network %.1f ms (Sequential.infer, best of 5)", name as NSString, whole * 1000))
            seq.releaseBuffers()
            return current
        }
        let z = run("encoder", net.encoder, x)
        let tokens = net.quantizer.encode(z, levels: 1)
        let zq = net.quantizer.decode(tokens, shape: z.shape)
        _ = run("decoder", net.decoder, zq)
        return lines
    }

    public static func best(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<n {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }

    /// The ceiling: OpenBLAS sgemm on a large square product, best of three.
    public static func sgemmGFLOPs() -> Double {
        let n = 2048
        let a = Tensor([n, n]), b = Tensor([n, n]), c = Tensor([n, n])
        for i in 0..<a.count { a.data[i] = Float(i % 7) * 0.1; b.data[i] = Float(i % 5) * 0.1 }
        gemm(c.data, a.data, b.data, m: n, n: n, k: n)
        let t = best(3) { gemm(c.data, a.data, b.data, m: n, n: n, k: n) }
        return 2 * Double(n * n * n) / t / 1e9
    }

    public static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
