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
    public private(set) var grads: UnsafeMutablePointer<Float>
    public private(set) var count = 0
    public private(set) var sealed = false

    public init() {
        values = .allocate(capacity: 1)
        grads = .allocate(capacity: 1)
    }

    deinit {
        values.deallocate()
        grads.deallocate()
    }

    /// Registers a tensor with its initial values; names must be unique.
    public func add(_ name: String, _ shape: [Int], trainable: Bool = true, _ values: [Float]) -> Param {
        precondition(!sealed, "parameter \(name) added after seal()")
        precondition(!params.contains { $0.name == name }, "duplicate parameter \(name)")
        let n = shape.reduce(1, *)
        precondition(values.count == n, "\(name): \(values.count) values for \(shape)")
        let p = Param(name: name, shape: shape, offset: initial.count, count: n, trainable: trainable)
        params.append(p)
        initial += values
        return p
    }

    public func seal() {
        guard !sealed else { return }
        sealed = true
        count = initial.count
        values.deallocate()
        grads.deallocate()
        values = .allocate(capacity: max(count, 1))
        grads = .allocate(capacity: max(count, 1))
        initial.withUnsafeBufferPointer { values.initialize(from: $0.baseAddress!, count: count) }
        grads.initialize(repeating: 0, count: max(count, 1))
        initial = []
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
