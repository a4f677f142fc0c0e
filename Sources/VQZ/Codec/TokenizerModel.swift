import Foundation
import Models

/// A tokenizer ready to encode and decode, with the fingerprint that .vqz files record.
public final class TokenizerModel: @unchecked Sendable {
    public let network: VQTokenizer
    public let fingerprint: ModelFingerprint
    public let metadata: [String: String]
    /// Whose tokens these are: the fingerprint of the model that defined the encoder and
    /// codebooks. Itself, unless only the decoder was retrained from another (`--decoder-only`).
    /// Priors and token caches key on this; .vqz files on `fingerprint`, since pixels need the decoder.
    public let tokens: ModelFingerprint

    public var config: TokenizerConfig { network.config }
    public var levels: Int { network.config.levels }
    public var downsampling: Int { network.config.downsampling }

    /// Loads a weights file's bytes; `fallbackName` names models whose file carries no name.
    /// `digest`: the bytes' FNV-1a 128 where the caller knows it (`BundledWeights.digest`).
    public init(weights bytes: [UInt8], fallbackName: String, digest: [UInt8]? = nil) throws {
        let (model, meta) = try VQTokenizer.load(weights: bytes)
        network = model
        // The decoder's pixels need not be the same on every CPU (tokens and entropy coding do):
        // integers where the CPU has the kernels, about 2x faster for a thousandth of a dB.
        network.decoderPrecision = .int16
        metadata = meta
        let name = String((meta["name"] ?? fallbackName).utf8.prefix(ModelFingerprint.maxNameBytes)) ?? fallbackName
        fingerprint = ModelFingerprint(name: name, digest: digest ?? fnv1a128(bytes))
        if let lineage = TokenLineage(metadata: meta) {
            guard let digest = TokenizerRecord.bytes(hex: lineage.digestHex), digest.count == ModelFingerprint.digestSize else {
                throw ModelError.badConfig("tokens_digest is not a \(ModelFingerprint.digestSize)-byte hex digest")
            }
            tokens = ModelFingerprint(name: lineage.name, digest: digest)
        } else {
            tokens = fingerprint
        }
    }

    /// The token grid this model makes of a width x height image: ceil(W/f) x ceil(H/f).
    public func gridSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let f = downsampling
        return ((width + f - 1) / f, (height + f - 1) / f)
    }

    /// Throws unless `file` names this model and holds exactly the grid this model makes of its
    /// image size: any other grid would put tiles outside the picture, or leave it unpainted.
    public func checkGrid(of file: VQZFile) throws {
        try file.requireModel(fingerprint)
        let expected = gridSize(width: file.width, height: file.height)
        guard file.tokens.width == expected.width, file.tokens.height == expected.height else {
            throw CodecError.gridMismatch(grid: "\(file.tokens.width)x\(file.tokens.height)",
                                          image: "\(file.width)x\(file.height)",
                                          expected: "\(expected.width)x\(expected.height)")
        }
    }

    /// What a model whose decoder alone is retrained from this one records.
    public var tokenLineage: TokenLineage { TokenLineage(name: tokens.name, digestHex: tokens.digestHex) }

    public convenience init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CodecError.cannotReadModel(path) }
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        try self.init(weights: [UInt8](data), fallbackName: base)
    }

    /// A model built into the binary: the photo codec's by default.
    public static func bundled(_ which: BundledTokenizer = .photos) throws -> TokenizerModel {
        guard let weights = BundledWeights.named(which.rawValue) else { throw ModelError.badConfig("this build has no bundled \(which) tokenizer") }
        return try TokenizerModel(weights: weights, fallbackName: which.rawValue, digest: BundledWeights.digest(which.rawValue))
    }

    /// The bundled model that `fingerprint` names, the one that wrote a file, if this build has it:
    /// how a reader decodes files of every tokenizer it bundles, not only the default one's.
    public static func bundled(named fingerprint: ModelFingerprint) throws -> TokenizerModel? {
        for which in BundledTokenizer.allCases where BundledWeights.digest(which.rawValue) == fingerprint.digest {
            let model = try bundled(which)
            if model.fingerprint == fingerprint { return model }
        }
        return nil
    }

    /// The bundled model whose tokens these are, if one is.
    public static func bundled(tokens: ModelFingerprint) throws -> TokenizerModel? {
        for which in BundledTokenizer.allCases where BundledWeights.named(which.rawValue) != nil {
            let model = try bundled(which)
            if model.tokens == tokens { return model }
        }
        return nil
    }
}

/// The tokenizers built into the binary: the photo codec's; the first photo tokenizer, kept so
/// that every file it wrote still decodes and for the generation priors trained on its tokens;
/// and one for flat synthetic pictures, which need sharp outlines more than a photo codec's
/// textures (as DALL-E's dVAE was trained on DALL-E's own pictures).
public enum BundledTokenizer: String, CaseIterable, Sendable, CustomStringConvertible {
    case photos = "tokenizer"
    case firstPhotos = "tokenizer-v1"
    case shapes = "tokenizer-shapes"

    public var description: String {
        switch self {
        case .photos: "photo"
        case .firstPhotos: "first photo"
        case .shapes: "shapes"
        }
    }
}

/// FNV-1a over 128 bits: a stable digest of a weights file, so a .vqz names exactly the model it needs.
/// Not a cryptographic hash; it guards against mix-ups, not attackers.
public func fnv1a128(_ bytes: [UInt8]) -> [UInt8] {
    var h: UInt128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d
    let prime: UInt128 = 0x0000_0000_0100_0000_0000_0000_0000_013B
    for b in bytes {
        h ^= UInt128(b)
        h &*= prime
    }
    return (0..<16).map { UInt8(truncatingIfNeeded: h >> (8 * UInt128(15 - $0))) }
}
