import Foundation
import ImageIO
import Models
import VQZ

/// Any of the three models of the family behind one "image in, image out" call, so the VQ-VAE and
/// its baselines are compared on equal terms (`vqz reconstruct`): the VQ tokenizer through the
/// real codec (compress to a .vqz in memory at `levels`, then decompress), the autoencoder and the
/// VAE through their float latent (no bitstream).
public enum ReconstructionModel: @unchecked Sendable {
    case tokenizer(Codec)
    case baseline(BaselineModel)

    /// A weights file of either family, told apart by its metadata's `kind`.
    public static func load(weights bytes: [UInt8], fallbackName: String) throws -> ReconstructionModel {
        if Autoencoder.fileKind(of: bytes) == Autoencoder.weightsKind {
            return .baseline(try BaselineModel(weights: bytes, fallbackName: fallbackName))
        }
        return .tokenizer(Codec(model: try TokenizerModel(weights: bytes, fallbackName: fallbackName)))
    }

    public static func load(contentsOf path: String) throws -> ReconstructionModel {
        guard let data = FileManager.default.contents(atPath: path) else { throw CodecError.cannotReadModel(path) }
        return try load(weights: [UInt8](data), fallbackName: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
    }

    /// What it is, for messages: "VQ tokenizer vqz-f8-k1024-l4", "VAE vqz-vae-f8-d32".
    public var summary: String {
        switch self {
        case .tokenizer(let codec): return "VQ tokenizer \(codec.model.fingerprint.name)"
        case .baseline(let model): return "\(model.kind == .vae ? "VAE" : "autoencoder") \(model.name)"
        }
    }

    /// The image through the model. `levels` (the tokenizer's quality levels, nil for all) must be
    /// nil for a baseline, which has none.
    public func reconstruct(_ image: Image, levels: Int? = nil) throws -> Image {
        switch self {
        case .tokenizer(let codec):
            return try codec.decompress(try codec.compress(image, levels: levels))
        case .baseline(let model):
            if levels != nil { throw ReconstructionError.levelsOfBaseline(model.name) }
            return try model.reconstruct(image)
        }
    }
}

public enum ReconstructionError: Error, Equatable, CustomStringConvertible {
    case levelsOfBaseline(String)

    public var description: String {
        switch self {
        case .levelsOfBaseline(let name): return "\(name) is a baseline autoencoder: it has no quality levels (-q is for VQ tokenizers)"
        }
    }
}
