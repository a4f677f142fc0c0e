import Foundation

/// One named tensor of a model, a view into the model's flat parameter storage.
public struct Param {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public let count: Int
    /// Trained by the optimizer (false for state such as EMA codebooks, which still get saved).
    public let trainable: Bool
}

/// Every parameter of a model in one flat allocation, with gradients and views into both,
/// so the optimizer step, clipping and checkpointing are single loops.
///
/// Layers register their tensors while the model is built; `seal()` then fixes the storage.
public final class ParameterStore {
    public private(set) var params: [Param] = []
    private var initial: [Float] = []
    public private(set) var values: UnsafeMutablePointer<Float>
    public private(set) var count = 0
    public private(set) var sealed = false
    /// Whether `add` computes initial values: not while a model is built to be filled from a file
    /// (`withoutInitialValues`), where drawing them took most of the load (36 ms of 39 for the
    /// photo tokenizer v2) and every one is overwritten.
    private let initializes: Bool
    /// The gradients, allocated (zeroed) on first use: a model that only runs inference never
    /// needs them, and zeroing them cost as much memory as the weights.
    private var gradStorage: UnsafeMutablePointer<Float>?
    private let gradLock = NSLock()

    /// Whether stores created in `withoutInitialValues` skip their initial values.
    @TaskLocal static var skipsInitialValues = false

    /// Builds a model whose every parameter a file will fill: its stores skip computing initial
    /// values (they start at zero; parameters a file may lack, like training statistics, stay zero).
    public static func withoutInitialValues<Model>(_ build: () throws -> Model) rethrows -> Model {
        try $skipsInitialValues.withValue(true) { try build() }
    }

    public init() {
        values = Self.zeroedFloats(1)
        initializes = !Self.skipsInitialValues
    }

    deinit {
        free(values)
        gradStorage?.deallocate()
    }

    /// Registers a tensor with its initial values (not computed in `withoutInitialValues`); names must be unique.
    public func add(_ name: String, _ shape: [Int], trainable: Bool = true, _ values: @autoclosure () -> [Float]) -> Param {
        precondition(!sealed, "parameter \(name) added after seal()")
        precondition(!params.contains { $0.name == name }, "duplicate parameter \(name)")
        let n = shape.reduce(1, *)
        let p = Param(name: name, shape: shape, offset: count, count: n, trainable: trainable)
        if initializes {
            let v = values()
            precondition(v.count == n, "\(name): \(v.count) values for \(shape)")
            initial += v
        }
        params.append(p)
        count += n
        return p
    }

    public func seal() {
        guard !sealed else { return }
        sealed = true
        free(values)
        values = Self.zeroedFloats(max(count, 1))
        if initializes {
            initial.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
        }
        initial = []
    }

    /// `count` zeros from calloc: a large block comes as fresh pages the kernel zeroes as they are
    /// first touched, so a model filled from a file writes its values once instead of twice.
    private static func zeroedFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard let raw = calloc(count, MemoryLayout<Float>.stride) else { fatalError("out of memory allocating \(count) parameters") }
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    /// The gradients of every parameter, in the layout of `values`.
    public var grads: UnsafeMutablePointer<Float> {
        if let gradStorage { return gradStorage }
        precondition(sealed, "seal() the parameter store before use")
        return gradLock.withLock {
            if let gradStorage { return gradStorage }
            let g = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            g.initialize(repeating: 0, count: max(count, 1))
            gradStorage = g
            return g
        }
    }

    @inline(__always) public func value(_ p: Param) -> UnsafeMutablePointer<Float> {
        precondition(sealed, "seal() the parameter store before use")
        return values + p.offset
    }

    @inline(__always) public func grad(_ p: Param) -> UnsafeMutablePointer<Float> {
        precondition(sealed, "seal() the parameter store before use")
        return grads + p.offset
    }

    public func param(named name: String) -> Param? { params.first { $0.name == name } }

    /// The one place gradients are zeroed: backward passes only add.
    public func zeroGrads() { grads.update(repeating: 0, count: count) }

    public var trainableCount: Int { params.filter(\.trainable).reduce(0) { $0 + $1.count } }
}
