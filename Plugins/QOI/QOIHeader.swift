/// The 14-byte QOI header: "qoif", width and height (32-bit big-endian), channels (3 RGB,
/// 4 RGBA) and colorspace (0 sRGB with linear alpha, 1 all linear; informative only).
public struct QOIHeader: Equatable {
    public static let size = 14
    public static let magic: [UInt8] = Array("qoif".utf8)
    /// The reference implementation's limit, which keeps width * height * 4 well inside 32 bits.
    public static let maxPixels = 400_000_000

    public var width: Int
    public var height: Int
    public var channels: Int
    public var colorspace: Int

    public init(width: Int, height: Int, channels: Int, colorspace: Int = 0) {
        self.width = width
        self.height = height
        self.channels = channels
        self.colorspace = colorspace
    }

    /// Reads and checks the header at the start of `bytes`.
    public init(parsing bytes: UnsafeBufferPointer<UInt8>) throws {
        guard bytes.count >= QOIHeader.size else {
            // A prefix of the magic is a cut file; anything else is not QOI at all.
            throw QOIHeader.magic.starts(with: bytes) || bytes.starts(with: QOIHeader.magic)
                ? QOIError.truncated : QOIError.corrupt("not a QOI file (bad magic bytes)")
        }
        guard bytes.starts(with: QOIHeader.magic) else { throw QOIError.corrupt("not a QOI file (bad magic bytes)") }
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        width = u32(4)
        height = u32(8)
        channels = Int(bytes[12])
        colorspace = Int(bytes[13])
        guard width > 0, height > 0 else { throw QOIError.corrupt("image size \(width)x\(height) is empty") }
        guard channels == 3 || channels == 4 else { throw QOIError.corrupt("channels \(channels) is neither 3 nor 4") }
        guard colorspace <= 1 else { throw QOIError.corrupt("colorspace \(colorspace) is neither 0 nor 1") }
    }

    public var bytes: [UInt8] {
        func u32(_ value: Int) -> [UInt8] {
            [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
             UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        }
        return QOIHeader.magic + u32(width) + u32(height) + [UInt8(channels), UInt8(colorspace)]
    }
}
