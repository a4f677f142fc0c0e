import CBundledModels

/// The weights files built into the binary (Sources/CBundledModels/weights), by name.
public enum BundledWeights {
    /// The bytes of the bundled weights `name` ("tokenizer", "prior-transformer", "prior-context"...),
    /// nil when this build has none.
    public static func named(_ name: String) -> [UInt8]? {
        var size = 0
        guard let start = name.withCString({ vqz_bundled_weights($0, &size) }), size > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: start, count: size))
    }
}
