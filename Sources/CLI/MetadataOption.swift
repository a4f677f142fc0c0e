import ArgumentParser
import ImageIO

/// `--metadata all|none|icc,exif,xmp`, cwebp's option: which of the image's ICC profile, EXIF
/// and XMP compress keeps in the .vqz and decompress writes into the image.
extension MetadataKinds: ExpressibleByArgument {
    public init?(argument: String) { self.init(listing: argument) }

    public var defaultValueDescription: String { description }
}

extension MetadataKinds {
    /// "ICC profile and EXIF", for messages.
    var spelledOut: String {
        let names = [(MetadataKinds.icc, "ICC profile"), (.exif, "EXIF"), (.xmp, "XMP")].filter { contains($0.0) }.map(\.1)
        return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}
