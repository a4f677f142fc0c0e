import ImageIO
import JPEGFormat
import PNGFormat
import VQZ

extension FuzzTargets {
    /// Valid inputs of every kind a harness reads, so fuzzing starts from files that reach deep:
    /// `scripts/fuzz --seeds` writes them into Fuzz/corpus/NAME.
    public static func seeds(_ name: String) -> [[UInt8]] {
        switch name {
        case "vqz": return vqzSeeds()
        case "png": return pictures().compactMap { try? PNGFormat().encode($0, options: EncodeOptions(compressionLevel: 1)) }
        case "jpeg":
            return pictures().filter { $0.bitDepth == 8 && ($0.channels == 1 || $0.channels == 3) }
                .compactMap { try? JPEGFormat().encode($0, options: EncodeOptions(quality: 80)) }
        case "pnm":
            let written = pictures().compactMap { try? PNMFormat().encode($0, options: EncodeOptions()) }
            return written + ["P1\n3 2\n1 0 1\n0 1 0\n", "P2\n2 2\n255\n0 9 200 255\n", "P3\n1 1\n65535\n1 2 3\n"].map { Array($0.utf8) }
        case "geometry":
            return ["10,10,5,5", "0,0,1,1", " 3, 4 ,1,1", "63,63,1,1", "9223372036854775807,0,1,1", "1x1", "8192x8192", "64X32"]
                .map { [40, 30] + Array($0.utf8) }
        default: return []
        }
    }

    /// Small pictures of every channel count and both depths, with edges and gradients.
    static func pictures() -> [Image] {
        var out: [Image] = []
        for (w, h) in [(1, 1), (7, 5), (16, 9)] {
            for channels in 1...4 {
                let n = w * h * channels
                let samples = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + ($0 / channels) * 11) }
                out.append(Image(width: w, height: h, channels: channels, samples8: samples))
                if w == 7 { out.append(Image(width: w, height: h, channels: channels, samples16: samples.map { UInt16($0) * 257 })) }
            }
        }
        return out
    }

    static func vqzSeeds() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for picture in pictures() where picture.bitDepth == 8 {
            for levels in [1, 2] {
                guard var file = try? codec.compress(picture, levels: levels) else { continue }
                if let bytes = try? file.encode(zstdLevel: 1) { out.append(bytes) }
                file.packing = levels == 1 ? .bitPacked : .byteSplit
                if let bytes = try? file.encode(zstdLevel: 1) { out.append(bytes) }
                file.packing = .default
                file.useEntropyPrior(prior)
                if let bytes = try? file.encode(prior: prior) { out.append(bytes) }
            }
        }
        return out
    }
}
