/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to appear
/// upright. Cameras store the sensor's rows as they come and set this tag instead of
/// rotating, so every reader that users trust applies it.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case up = 1, upMirrored, down, downMirrored, leftMirrored, right, rightMirrored, left

    /// Reads the tag from IFD0 of a TIFF-structured EXIF block (what follows "Exif\0\0" in
    /// a JPEG APP1 segment, or a PNG eXIf chunk). Nil when the block is malformed, has no
    /// such tag, or holds a value outside 1...8; every offset is bounds-checked.
    public init?(exif bytes: [UInt8]) {
        guard let entry = ExifOrientation.entry(in: bytes),
              let orientation = ExifOrientation(rawValue: entry.value) else { return nil }
        self = orientation
    }

    /// The EXIF block with its orientation tag set to 1 (up): what goes with pixels that
    /// have been turned upright, so that a viewer does not turn them a second time. A block
    /// without a readable tag comes back unchanged.
    public static func resettingOrientation(in exif: [UInt8]) -> [UInt8] {
        guard let entry = entry(in: exif), entry.value != 1 else { return exif }
        var bytes = exif
        bytes[entry.valueOffset] = entry.bigEndian ? 0 : 1
        bytes[entry.valueOffset + 1] = entry.bigEndian ? 1 : 0
        return bytes
    }

    /// IFD0's orientation entry: its SHORT value, where the value's two bytes are, and the
    /// block's byte order.
    private static func entry(in bytes: [UInt8]) -> (value: Int, valueOffset: Int, bigEndian: Bool)? {
        guard bytes.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): bigEndian = false  // "II"
        case (0x4D, 0x4D): bigEndian = true   // "MM"
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at <= bytes.count - 2 else { return nil }
            let a = Int(bytes[at]), b = Int(bytes[at + 1])
            return bigEndian ? a << 8 | b : b << 8 | a
        }
        func u32(_ at: Int) -> Int? {
            guard let high = u16(bigEndian ? at : at + 2), let low = u16(bigEndian ? at + 2 : at) else { return nil }
            return high << 16 | low
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for index in 0..<count {
            let at = ifd + 2 + index * 12
            guard let tag = u16(at) else { return nil }
            guard tag == 0x0112 else { continue }
            // Type 3 is SHORT; one value sits in the first two bytes of the value field.
            guard u16(at + 2) == 3, let value = u16(at + 8) else { return nil }
            return (value, at + 8, bigEndian)
        }
        return nil
    }

    /// Whether turning swaps width and height.
    public var swapsDimensions: Bool { rawValue >= 5 }
}

extension Image {
    /// The picture turned upright according to an EXIF orientation; its EXIF block, if any,
    /// then says orientation 1.
    public func applying(_ orientation: ExifOrientation) -> Image {
        if orientation == .up { return self }
        var upright = metadata
        upright.exif = metadata.exif.map(ExifOrientation.resettingOrientation)
        let w = width, h = height
        let (outWidth, outHeight) = orientation.swapsDimensions ? (h, w) : (w, h)
        // Where source pixel (x, y) lands in the upright picture.
        let destination: (Int, Int) -> (Int, Int)
        switch orientation {
        case .up: destination = { x, y in (x, y) }
        case .upMirrored: destination = { x, y in (w - 1 - x, y) }
        case .down: destination = { x, y in (w - 1 - x, h - 1 - y) }
        case .downMirrored: destination = { x, y in (x, h - 1 - y) }
        case .leftMirrored: destination = { x, y in (y, x) }
        case .right: destination = { x, y in (h - 1 - y, x) }
        case .rightMirrored: destination = { x, y in (h - 1 - y, w - 1 - x) }
        case .left: destination = { x, y in (y, w - 1 - x) }
        }
        func remap<T>(_ input: [T]) -> [T] {
            var output = input
            for y in 0..<h {
                for x in 0..<w {
                    let (dx, dy) = destination(x, y)
                    let from = (y * w + x) * channels, to = (dy * outWidth + dx) * channels
                    for c in 0..<channels { output[to + c] = input[from + c] }
                }
            }
            return output
        }
        switch samples {
        case .uint8(let values):
            return Image(width: outWidth, height: outHeight, channels: channels, samples8: remap(values), metadata: upright)
        case .uint16(let values):
            return Image(width: outWidth, height: outHeight, channels: channels, samples16: remap(values), metadata: upright)
        }
    }
}
