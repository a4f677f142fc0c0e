/// A decoded picture: `height` rows of `width` pixels, top row first, each pixel
/// `channels` interleaved samples (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA).
///
/// Samples are 8-bit or 16-bit. 16-bit input (PNG, PNM with maxval > 255) stays 16-bit so
/// that nothing is lost before the user decides; `converted(toBitDepth: 8)` or `samples8`
/// reduce it. Alpha is straight (not premultiplied). `metadata` travels with the pixels
/// through the conversions below; formats that cannot hold it drop it when writing.
public struct Image: Equatable, Sendable {
    /// The interleaved samples, one array per sample size.
    public enum Samples: Equatable, Sendable {
        case uint8([UInt8])
        case uint16([UInt16])

        public var count: Int {
            switch self {
            case .uint8(let values): return values.count
            case .uint16(let values): return values.count
            }
        }
    }

    public let width: Int
    public let height: Int
    public let channels: Int
    public let samples: Samples
    /// The ICC profile, EXIF and XMP the picture came with (or is to be written with).
    public var metadata: ImageMetadata

    /// The sample count must be `width * height * channels`: a mismatch is a programming
    /// error, like an index out of range, and traps.
    public init(width: Int, height: Int, channels: Int, samples: Samples, metadata: ImageMetadata = ImageMetadata()) {
        precondition(width >= 0 && height >= 0, "image size must not be negative")
        precondition((1...4).contains(channels), "an image has 1 to 4 channels")
        precondition(samples.count == width * height * channels, "sample count must be width * height * channels")
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
        self.metadata = metadata
    }

    public init(width: Int, height: Int, channels: Int, samples8: [UInt8], metadata: ImageMetadata = ImageMetadata()) {
        self.init(width: width, height: height, channels: channels, samples: .uint8(samples8), metadata: metadata)
    }

    public init(width: Int, height: Int, channels: Int, samples16: [UInt16], metadata: ImageMetadata = ImageMetadata()) {
        self.init(width: width, height: height, channels: channels, samples: .uint16(samples16), metadata: metadata)
    }

    /// 8 or 16.
    public var bitDepth: Int {
        if case .uint16 = samples { return 16 }
        return 8
    }

    /// The largest sample value: 255 or 65535.
    public var maxValue: Int { bitDepth == 16 ? 65535 : 255 }

    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    public var isGray: Bool { channels <= 2 }

    /// Color channels without alpha: 1 or 3.
    public var colorChannels: Int { isGray ? 1 : 3 }

    public var pixelCount: Int { width * height }

    /// The samples at 8 bits, reduced with rounding when the image is 16-bit.
    public var samples8: [UInt8] {
        switch samples {
        case .uint8(let values): return values
        case .uint16(let values): return values.map(Image.reduce)
        }
    }

    /// The samples at 16 bits, widened exactly (v * 257) when the image is 8-bit.
    public var samples16: [UInt16] {
        switch samples {
        case .uint8(let values): return values.map { UInt16($0) &* 257 }
        case .uint16(let values): return values
        }
    }

    /// One sample, at the image's own bit depth.
    public func sample(x: Int, y: Int, channel: Int) -> Int {
        precondition(x >= 0 && x < width && y >= 0 && y < height && channel >= 0 && channel < channels,
                     "sample position out of range")
        let index = (y * width + x) * channels + channel
        switch samples {
        case .uint8(let values): return Int(values[index])
        case .uint16(let values): return Int(values[index])
        }
    }

    /// The same picture with 8- or 16-bit samples.
    public func converted(toBitDepth depth: Int) -> Image {
        precondition(depth == 8 || depth == 16, "bit depth must be 8 or 16")
        if depth == bitDepth { return self }
        return depth == 8
            ? Image(width: width, height: height, channels: channels, samples8: samples8, metadata: metadata)
            : Image(width: width, height: height, channels: channels, samples16: samples16, metadata: metadata)
    }

    /// The same picture with another channel layout (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA).
    /// Gray becomes RGB by copying; RGB becomes gray by Rec. 601 luma (0.299 R + 0.587 G +
    /// 0.114 B, rounded); a missing alpha becomes opaque; a dropped alpha is simply
    /// discarded, not composited over a background.
    public func withChannels(_ target: Int) -> Image {
        precondition((1...4).contains(target), "an image has 1 to 4 channels")
        if target == channels { return self }
        switch samples {
        case .uint8(let values):
            return Image(width: width, height: height, channels: target,
                         samples8: Image.convert(values, from: channels, to: target), metadata: metadata)
        case .uint16(let values):
            return Image(width: width, height: height, channels: target,
                         samples16: Image.convert(values, from: channels, to: target), metadata: metadata)
        }
    }

    /// 16 to 8 bits, rounded to nearest: exact inverse of v * 257.
    static func reduce(_ value: UInt16) -> UInt8 {
        UInt8((UInt32(value) * 255 + 32767) / 65535)
    }

    private static func convert<T: FixedWidthInteger & UnsignedInteger>(
        _ input: [T], from source: Int, to target: Int
    ) -> [T] {
        let pixels = input.count / source
        let sourceGray = source <= 2, targetGray = target <= 2
        let sourceAlpha = source == 2 || source == 4, targetAlpha = target == 2 || target == 4
        var output = [T](repeating: 0, count: pixels * target)
        output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { inp in
                for p in 0..<pixels {
                    let i = p * source, o = p * target
                    if sourceGray == targetGray {
                        for c in 0..<(targetGray ? 1 : 3) { out[o + c] = inp[i + c] }
                    } else if targetGray {
                        let luma = (299 * UInt64(inp[i]) + 587 * UInt64(inp[i + 1]) + 114 * UInt64(inp[i + 2]) + 500) / 1000
                        out[o] = T(luma)
                    } else {
                        out[o] = inp[i]; out[o + 1] = inp[i]; out[o + 2] = inp[i]
                    }
                    if targetAlpha {
                        out[o + target - 1] = sourceAlpha ? inp[i + source - 1] : T.max
                    }
                }
            }
        }
        return output
    }
}
