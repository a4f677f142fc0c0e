import Foundation
import ImageIO
import Models
import StandardFormats

/// The pictures of a training or validation folder, decoded to 8-bit RGB.
public enum TrainingImages {
    public struct Skipped: Sendable {
        public var path: String
        public var reason: String
    }

    /// Every file under `folder` (recursively, in sorted order so runs are reproducible) that a
    /// format plugin recognises; files that fail to decode are returned as skipped, not fatal.
    public static func load(folder: String, registry: FormatRegistry = .standard,
                            limits: DecodeLimits = DecodeLimits()) throws -> (pictures: [RGBPicture], paths: [String], skipped: [Skipped]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingSetupError.notAFolder(folder)
        }
        guard let walker = FileManager.default.enumerator(atPath: folder) else { throw TrainingSetupError.notAFolder(folder) }
        var files: [String] = []
        for case let relative as String in walker {
            let path = (folder as NSString).appendingPathComponent(relative)
            var dir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &dir), !dir.boolValue { files.append(path) }
        }
        files.sort()
        var pictures: [RGBPicture] = [], paths: [String] = [], skipped: [Skipped] = []
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                skipped.append(Skipped(path: path, reason: "cannot read"))
                continue
            }
            let bytes = [UInt8](data)
            guard registry.format(sniffing: bytes) != nil else {
                skipped.append(Skipped(path: path, reason: "not an image format vqz reads"))
                continue
            }
            do {
                let image = try registry.decode(bytes, limits: limits)
                pictures.append(rgbPicture(image))
                paths.append(path)
            } catch {
                skipped.append(Skipped(path: path, reason: String(describing: error)))
            }
        }
        guard !pictures.isEmpty else { throw TrainingSetupError.noImages(folder) }
        return (pictures, paths, skipped)
    }

    /// 8-bit RGB, alpha dropped, gray expanded.
    public static func rgbPicture(_ image: Image) -> RGBPicture {
        let rgb = (image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)).withChannels(3)
        return RGBPicture(width: rgb.width, height: rgb.height, pixels: rgb.samples8)
    }

    /// The central `side` x `side` square of each picture (or the largest multiple of `multiple`
    /// that fits), the fixed crops used to validate during training.
    public static func centerCrops(_ pictures: [RGBPicture], side: Int, multiple: Int) -> [RGBPicture] {
        pictures.map { p in
            let w = min(side, p.width) / multiple * multiple, h = min(side, p.height) / multiple * multiple
            let x0 = (p.width - w) / 2, y0 = (p.height - h) / 2
            var px = [UInt8]()
            px.reserveCapacity(w * h * 3)
            for y in 0..<h {
                let start = ((y0 + y) * p.width + x0) * 3
                px.append(contentsOf: p.pixels[start..<(start + w * 3)])
            }
            return RGBPicture(width: w, height: h, pixels: px)
        }
    }
}
