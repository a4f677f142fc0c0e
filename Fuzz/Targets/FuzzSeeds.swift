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
        case "png":
            return (pictures() + tagged()).compactMap { try? PNGFormat().encode($0, options: EncodeOptions(compressionLevel: 1)) }
        case "jpeg":
            return (pictures().filter { $0.bitDepth == 8 && ($0.channels == 1 || $0.channels == 3) } + tagged())
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

    /// Pictures with an ICC profile, EXIF (turned by its orientation) and XMP, so the readers'
    /// metadata paths are reached from the first run.
    static func tagged() -> [Image] {
        // The smallest profile libpng accepts: a header (display, RGB or gray, PCS XYZ, D50) and
        // an empty tag table.
        func profile(gray: Bool) -> [UInt8] {
            var p = [UInt8](repeating: 0, count: 132)
            p[3] = 132
            p[8] = 2; p[9] = 0x10
            p.replaceSubrange(12..<24, with: Array((gray ? "mntrGRAYXYZ " : "mntrRGB XYZ ").utf8))
            p.replaceSubrange(36..<40, with: Array("acsp".utf8))
            p.replaceSubrange(68..<80, with: [0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D])
            return p
        }
        func exif(orientation: UInt8, bigEndian: Bool) -> [UInt8] {
            let entry: [UInt8] = bigEndian ? [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]
                                           : [0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0]
            return (bigEndian ? [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1] : [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0]) + entry + [0, 0, 0, 0]
        }
        let xmp = Array("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"></x:xmpmeta>".utf8)
        return pictures().filter { $0.bitDepth == 8 && $0.width == 7 && ($0.channels == 1 || $0.channels == 3) }
            .enumerated().map { index, picture in
                var image = picture
                image.metadata = ImageMetadata(iccProfile: profile(gray: picture.channels == 1),
                                               exif: exif(orientation: UInt8(6 + index), bigEndian: index == 0), xmp: xmp)
                return image
            }
    }

    static func vqzSeeds() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for picture in pictures() + tagged() where picture.bitDepth == 8 {
            for levels in [1, 2] {
                guard var file = try? codec.compress(picture, levels: levels) else { continue }
                // Each level's own packing (what the writer does), then one packing for all levels
                // (bit-packed or byte-split here, 16-bit LE with the tint plane below).
                if let bytes = try? file.encode(zstdLevel: 1) { out.append(bytes) }
                file.packing = levels == 1 ? .bitPacked : .byteSplit
                if let bytes = try? file.encode(zstdLevel: 1) { out.append(bytes) }
                // A tint plane of every value sign, whether or not the encoder chose one here.
                let cells = TintPlane.cells(width: file.width, height: file.height, cellLog2: 3)
                let values = (0..<(cells.columns * cells.rows * file.colorChannels)).map { Int8(truncatingIfNeeded: $0 * 29 - 7) }
                var tinted = file
                tinted.packing = .planes16LE
                tinted.tint = TintPlane(cellLog2: 3, step: 2, width: file.width, height: file.height, channels: file.colorChannels, values: values)
                if let bytes = try? tinted.encode(zstdLevel: 1) { out.append(bytes) }
                file.useEntropyPrior(prior)
                if let bytes = try? file.encode(prior: prior) { out.append(bytes) }
            }
        }
        return out
    }
}
