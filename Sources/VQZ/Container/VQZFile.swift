import ImageIO

/// One .vqz file: what the image was, which tokenizer made the tokens, the tokens themselves,
/// the alpha plane and the image's metadata. docs/FORMAT.md gives the byte layout; `encode()` and
/// `init(decoding:limits:)` are its writer and reader.
public struct VQZFile: Equatable, Sendable {
    /// The layout version this code writes and the highest it reads.
    public static let formatVersion = 1
    /// The first 8 bytes of every .vqz file: "\x89VQZ\r\n\x1A\n" (PNG's trick: the high
    /// byte and the line endings reveal 7-bit and text-mode transfers).
    public static var signature: [UInt8] { ChunkFraming.signature }

    /// Image size in pixels.
    public var width: Int
    public var height: Int
    /// 1 (gray) or 3 (RGB); alpha is separate.
    public var colorChannels: Int
    public var model: ModelFingerprint
    public var tokens: TokenGrid
    /// width * height alpha values, row by row, stored losslessly; nil for opaque images.
    public var alpha: [UInt8]?
    /// How zstd-coded tokens are packed: one packing for every level, or nil: each level in the
    /// packing that comes out smallest, named at the start of its TOKN chunk (what the writer
    /// does unless told otherwise). Prior-coded tokens have no packing.
    public var packing: TokenPacking?
    public var entropyCoder: EntropyCoder
    /// The entropy prior that codes the tokens when `entropyCoder` is `.prior` (nil otherwise).
    public var entropyPrior: ModelFingerprint?
    /// The ICC profile, EXIF and XMP of the image, each in its own ancillary chunk.
    public var metadata: ImageMetadata
    /// The colour correction added to the decoded picture (TINT chunk); nil: none.
    public var tint: TintPlane?

    public init(width: Int, height: Int, colorChannels: Int, model: ModelFingerprint, tokens: TokenGrid,
                alpha: [UInt8]? = nil, packing: TokenPacking? = nil, entropyCoder: EntropyCoder = .zstd,
                entropyPrior: ModelFingerprint? = nil, metadata: ImageMetadata = ImageMetadata(), tint: TintPlane? = nil) {
        self.width = width
        self.height = height
        self.colorChannels = colorChannels
        self.model = model
        self.tokens = tokens
        self.alpha = alpha
        self.packing = packing
        self.entropyCoder = entropyCoder
        self.entropyPrior = entropyPrior
        self.metadata = metadata
        self.tint = tint
    }

    /// The ancillary chunk of each metadata kind, in the order the writer puts them.
    static let metadataChunks: [(tag: String, path: WritableKeyPath<ImageMetadata, [UInt8]?>)] = [
        ("iccp", \.iccProfile), ("exif", \.exif), ("xmpp", \.xmp),
    ]

    /// Codes the tokens with `prior` from now on (the file records the prior's fingerprint).
    public mutating func useEntropyPrior(_ prior: EntropyPrior) {
        entropyCoder = .prior
        entropyPrior = prior.fingerprint
        packing = nil
    }

    public var hasAlpha: Bool { alpha != nil }

    /// Throws `modelMismatch` unless `available` is the tokenizer this file was encoded with.
    public func requireModel(_ available: ModelFingerprint) throws {
        guard available == model else { throw ContainerError.modelMismatch(needed: model, available: available) }
    }

    /// The chunks of a .vqz file with their offsets and lengths, after checking signature,
    /// version, framing and checksum (not the chunks' contents: decode for that).
    public static func chunks(in bytes: [UInt8]) throws -> [ChunkSummary] {
        try ChunkFraming.chunks(in: bytes, highestVersion: formatVersion)
    }
}
