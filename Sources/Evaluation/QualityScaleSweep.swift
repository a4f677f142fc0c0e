import Foundation
import ImageIO
import Models
import VQZ

/// One picture along the quality scale, as `vqz compress` writes it (zstd, the tint plane where it
/// pays): the bytes and PSNR at evenly spaced points of `-q`, from one run of the encoder, and
/// where `--size` lands for targets spread from the smallest file to the largest, through the
/// command's own search.
public struct QualityScaleSweep: Sendable {
    public struct Point: Sendable {
        public let quality: Double
        public let bytes: Int
        public let psnr: Double
    }

    public struct SizeLanding: Sendable {
        public let target: Int
        public let bytes: Int
        /// How far under the target the file is, as a fraction of the target.
        public var under: Double { 1 - Double(bytes) / Double(target) }
    }

    public let points: [Point]
    public let landings: [SizeLanding]

    /// `points` qualities from 0 to 100, and `targets` size targets spaced evenly in log between
    /// the files of `-q 0` and `-q 100` (both ends excluded).
    public init(_ picture: RGBPicture, codec: Codec, points: Int = 101, targets: Int = 16) throws {
        precondition(points >= 2 && targets >= 0)
        let image = Image(width: picture.width, height: picture.height, channels: 3, samples8: picture.pixels)
        let rate = try codec.analyse(image)
        var measured: [Point] = []
        for i in 0..<points {
            let q = Quality.scaleRange.upperBound * Double(i) / Double(points - 1)
            let (file, decoded) = try codec.tinted(rate.file(quality: .scale(q)), fittedTo: image)
            measured.append(Point(quality: q, bytes: try file.encode().count, psnr: VQZ.psnr(picture.pixels, decoded.withChannels(3).samples8)))
        }
        self.points = measured
        let (smallest, largest) = (Double(measured.first!.bytes), Double(measured.last!.bytes))
        landings = try (0..<targets).map { i in
            let target = Int(smallest * pow(largest / smallest, Double(i + 1) / Double(targets + 1)))
            let landed = try codec.compress(image, to: .size(bytes: target)) { try $0.encode() }
            return SizeLanding(target: target, bytes: landed.bytes.count)
        }
    }

    /// The qualities after which the next point's file is smaller.
    public var bytesFalls: [Double] { falls(\.bytes) }
    /// The qualities after which the next point decodes to a lower PSNR.
    public var psnrFalls: [Double] { falls(\.psnr) }

    private func falls<Value: Comparable>(_ value: KeyPath<Point, Value>) -> [Double] {
        zip(points, points.dropFirst()).filter { $1[keyPath: value] < $0[keyPath: value] }.map(\.0.quality)
    }
}
