/// What an image file says about its pixels besides the pixels: the ICC colour profile, the
/// EXIF block and the XMP packet, each kept as the bytes the file held so that writing them
/// back loses nothing vqz does not understand. Nil means absent; a present item is never empty.
public struct ImageMetadata: Equatable, Sendable {
    /// An ICC profile, as PNG's iCCP chunk (decompressed) or JPEG's APP2 ICC_PROFILE
    /// segments (joined) hold it.
    public var iccProfile: [UInt8]?
    /// A TIFF-structured EXIF block ("II*\0" or "MM\0*" first): PNG's eXIf chunk, or what
    /// follows "Exif\0\0" in a JPEG APP1 segment.
    public var exif: [UInt8]?
    /// An XMP packet, UTF-8 XML: PNG's iTXt chunk with keyword XML:com.adobe.xmp, or what
    /// follows "http://ns.adobe.com/xap/1.0/\0" in a JPEG APP1 segment.
    public var xmp: [UInt8]?

    public init(iccProfile: [UInt8]? = nil, exif: [UInt8]? = nil, xmp: [UInt8]? = nil) {
        self.iccProfile = iccProfile.flatMap { $0.isEmpty ? nil : $0 }
        self.exif = exif.flatMap { $0.isEmpty ? nil : $0 }
        self.xmp = xmp.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var isEmpty: Bool { kinds.isEmpty }

    /// The kinds present.
    public var kinds: MetadataKinds {
        var kinds: MetadataKinds = []
        if iccProfile != nil { kinds.insert(.icc) }
        if exif != nil { kinds.insert(.exif) }
        if xmp != nil { kinds.insert(.xmp) }
        return kinds
    }

    /// The same metadata with only the kinds in `kept`.
    public func keeping(_ kept: MetadataKinds) -> ImageMetadata {
        ImageMetadata(iccProfile: kept.contains(.icc) ? iccProfile : nil,
                      exif: kept.contains(.exif) ? exif : nil,
                      xmp: kept.contains(.xmp) ? xmp : nil)
    }
}

/// A choice of metadata kinds, as cwebp's `-metadata` names them.
public struct MetadataKinds: OptionSet, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let icc = MetadataKinds(rawValue: 1)
    public static let exif = MetadataKinds(rawValue: 2)
    public static let xmp = MetadataKinds(rawValue: 4)
    public static let all: MetadataKinds = [.icc, .exif, .xmp]

    private static let names: [(String, MetadataKinds)] = [("icc", .icc), ("exif", .exif), ("xmp", .xmp)]

    /// Parses `all`, `none`, or a comma-separated list of `icc`, `exif` and `xmp`
    /// (case-insensitive); nil for anything else.
    public init?(listing text: String) {
        let words = text.lowercased().filter { $0 != " " }.split(separator: ",", omittingEmptySubsequences: false)
        if words == ["all"] { self = .all; return }
        if words == ["none"] { self = []; return }
        var kinds: MetadataKinds = []
        for word in words {
            guard let kind = Self.names.first(where: { $0.0 == word })?.1 else { return nil }
            kinds.insert(kind)
        }
        self = kinds
    }

    /// "icc,exif", "all" or "none": what `init(listing:)` reads back.
    public var description: String {
        if self == .all { return "all" }
        if isEmpty { return "none" }
        return Self.names.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }
}
