/// The formats a program knows, found by magic bytes (reading) or by name or file
/// extension (writing). The codec library builds
/// `FormatRegistry(formats: [PNMFormat(), PNGFormat(), JPEGFormat()])`.
public struct FormatRegistry: Sendable {
    public let formats: [any ImageFormat]

    public init(formats: [any ImageFormat]) {
        self.formats = formats
    }

    /// The first readable format whose magic bytes match; the extension plays no part.
    public func format(sniffing bytes: [UInt8]) -> (any ImageFormat)? {
        formats.first { $0.canRead && $0.sniff(bytes) }
    }

    /// A format by its name or one of its extensions, case-insensitively: "png", "JPEG",
    /// "jpg", "ppm", "pgm", "pam"; a leading dot is ignored.
    public func format(named name: String) -> (any ImageFormat)? {
        var key = name.lowercased()
        if key.hasPrefix(".") { key.removeFirst() }
        return formats.first { $0.name.lowercased() == key || $0.extensions.contains(key) }
    }

    /// A format by the extension of a path's last component ("out/picture.JPG" gives JPEG).
    public func format(forPath path: String) -> (any ImageFormat)? {
        let file = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return nil }
        let ext = file[file.index(after: dot)...]
        return ext.isEmpty ? nil : format(named: String(ext))
    }

    /// Sniffs the data and decodes it. Throws `FormatRegistryError.unknownFormat` when no
    /// format recognizes it, else whatever the format's decoder throws.
    public func decode(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) throws -> Image {
        guard let format = format(sniffing: bytes) else { throw FormatRegistryError.unknownFormat }
        return try format.decode(bytes, limits: limits)
    }

    /// Encodes with the format of that name or extension.
    public func encode(_ image: Image, as name: String, options: EncodeOptions = EncodeOptions()) throws -> [UInt8] {
        guard let format = format(named: name) else { throw FormatRegistryError.unknownName(name) }
        guard format.canWrite else { throw FormatRegistryError.cannotWrite(format.name) }
        return try format.encode(image, options: options)
    }
}
