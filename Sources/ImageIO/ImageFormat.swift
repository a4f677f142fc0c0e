/// A file format plugin: recognizes its files by their first bytes, decodes them to an
/// `Image` and encodes images back. ImageIO ships `PNMFormat`; PNG and JPEG live in their
/// own targets (PNGFormat, JPEGFormat) so that ImageIO needs no C library.
public protocol ImageFormat: Sendable {
    /// Short name shown to users: "PNG".
    var name: String { get }
    /// File extensions, lower case, without the dot, preferred first: ["png"].
    var extensions: [String] { get }
    var canRead: Bool { get }
    var canWrite: Bool { get }
    /// One line on what the plugin reads and writes, for `vqz formats`.
    var summary: String { get }
    /// The kinds of `Image.metadata` that `decode` fills and `encode` writes; the rest is
    /// dropped. None by default.
    var metadataKinds: MetadataKinds { get }
    /// Whether data starting with `header` is in this format (magic bytes). `header` may be
    /// the whole file or only its first bytes; 16 bytes are enough for every built-in format.
    func sniff(_ header: [UInt8]) -> Bool
    /// Decodes a whole file. Throws `ImageDecodingError` only.
    func decode(_ data: [UInt8], limits: DecodeLimits) throws -> Image
    /// Encodes an image to a whole file. Throws `ImageEncodingError` only.
    func encode(_ image: Image, options: EncodeOptions) throws -> [UInt8]
}

extension ImageFormat {
    public var canRead: Bool { true }
    public var canWrite: Bool { true }
    public var summary: String { name }
    public var metadataKinds: MetadataKinds { [] }

    public func decode(_ data: [UInt8]) throws -> Image {
        try decode(data, limits: DecodeLimits())
    }

    public func encode(_ image: Image) throws -> [UInt8] {
        try encode(image, options: EncodeOptions())
    }
}
