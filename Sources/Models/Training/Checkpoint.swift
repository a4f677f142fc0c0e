import Foundation
import NN

/// A training checkpoint: the model's tensors, the optimizer's moments, the step and the RNG,
/// in one safetensors file, so a resumed run continues exactly where it stopped.
public struct Checkpoint {
    public var step: Int
    public var rngWords: [UInt64]
    public var metadata: [String: String]

    /// Writes atomically: a temporary file beside the target, then a rename.
    public static func save(to path: String, store: ParameterStore, optimizer: Adam, step: Int, rng: RNG,
                            metadata: [String: String]) throws {
        var entries = store.entries(dtype: .f32)
        entries.append(.init(name: "optimizer.m", dtype: .f32, shape: [optimizer.m.count], values: optimizer.m))
        entries.append(.init(name: "optimizer.v", dtype: .f32, shape: [optimizer.v.count], values: optimizer.v))
        var meta = metadata
        meta["step"] = String(step)
        meta["optimizer_step"] = String(optimizer.step)
        meta["rng"] = rng.words.map { String($0) }.joined(separator: ",")
        let bytes = SafeTensors.write(entries, metadata: meta)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try Data(bytes).write(to: temp)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: temp, to: url)
    }

    /// Loads model and optimizer state; returns the step and RNG to continue from.
    public static func load(from path: String, store: ParameterStore, optimizer: Adam) throws -> Checkpoint {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let file = try SafeTensors.File(bytes)
        let meta = file.metadata
        try store.load(file)
        guard let m = file.values("optimizer.m"), let v = file.values("optimizer.v"),
              let stepText = meta["step"], let step = Int(stepText),
              let optStep = meta["optimizer_step"].flatMap(Int.init),
              let rngText = meta["rng"]
        else { throw SafeTensors.Error.badHeader("\(path) is not a vqz training checkpoint (no optimizer state)") }
        let words = rngText.split(separator: ",").compactMap { UInt64($0) }
        guard words.count == 4, m.count == store.count, v.count == store.count else {
            throw SafeTensors.Error.badHeader("\(path): optimizer state does not match this model")
        }
        optimizer.restore(step: optStep, m: m, v: v)
        return Checkpoint(step: step, rngWords: words, metadata: meta)
    }
}
