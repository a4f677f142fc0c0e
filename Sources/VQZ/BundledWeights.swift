import Foundation
import CBundledModels
import Models
import NN

/// The weights files built into the binary (Sources/CBundledModels/weights), by name.
public enum BundledWeights {
    /// The bytes of the bundled weights `name` ("tokenizer", "prior-transformer", "prior-context"...),
    /// nil when this build has none.
    public static func named(_ name: String) -> [UInt8]? {
        var size = 0
        guard let start = name.withCString({ vqz_bundled_weights($0, &size) }), size > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: start, count: size))
    }

    /// FNV-1a 128 of the bundled weights `name`, as recorded beside them (BundledModels.c), nil
    /// when this build has none: hashing the photo tokenizer took about 9 ms of every command.
    public static func digest(_ name: String) -> [UInt8]? {
        guard let hex = name.withCString({ vqz_bundled_weights_digest($0) }) else { return nil }
        return TokenizerRecord.bytes(hex: String(cString: hex))
    }
}

/// What `vqz --version` says of one bundled weights file.
public struct BundledModelSummary: Sendable {
    /// The bundled name ("tokenizer", "prior-context"...).
    public var file: String
    /// The model's own name, from its metadata.
    public var name: String
    /// FNV-1a 128 of the weights file: what a .vqz file records and `vqz info` shows.
    public var digest: ModelFingerprint
    /// For a tokenizer, whose tokens it makes (itself unless only its decoder was retrained):
    /// what priors are trained for and `vqz train` shows. For another model, the tokenizer it was trained for.
    public var tokens: ModelFingerprint?

    /// Every bundled model this build has, in the order of the C table.
    public static func all() throws -> [BundledModelSummary] {
        var summaries: [BundledModelSummary] = []
        var index = 0
        while let cName = vqz_bundled_weights_name(index) {
            index += 1
            let file = String(cString: cName)
            guard let bytes = BundledWeights.named(file) else { continue }
            let meta = try SafeTensors.metadata(bytes)
            let name = String((meta["name"] ?? file).utf8.prefix(ModelFingerprint.maxNameBytes)) ?? file
            var tokens: ModelFingerprint? = nil
            if let lineage = TokenLineage(metadata: meta), let d = TokenizerRecord.bytes(hex: lineage.digestHex) {
                tokens = ModelFingerprint(name: lineage.name, digest: d)
            } else if let trainedFor = TokenizerRecord.read(meta) {
                tokens = trainedFor
            }
            summaries.append(BundledModelSummary(file: file, name: name, digest: ModelFingerprint(name: name, digest: BundledWeights.digest(file) ?? fnv1a128(bytes)), tokens: tokens))
        }
        return summaries
    }
}
