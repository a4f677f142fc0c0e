/// A contiguous block of Float32 with an explicit shape.
///
/// Shape letters used across NN: N batch, H height, W width, C channels (images are NHWC,
/// so a row of C floats is one pixel), T sequence length, D feature width, K codebook size.
/// A reference type on purpose: layers keep their outputs between forward and backward and
/// reuse their buffers from step to step, so copying on write would only hide allocations.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor.
    public init(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = LargeBuffers.allocate(count, of: Float.self)
        data.initialize(repeating: 0, count: max(count, 1))
    }

    /// A tensor whose contents are undefined, for outputs that are written in full before they
    /// are read: zero-filling 50 MB that is overwritten at once is a wasted pass over memory.
    init(uninitialized shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = LargeBuffers.allocate(count, of: Float.self)
    }

    public convenience init(_ shape: [Int], _ values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { LargeBuffers.release(data) }

    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    public func zero() { data.update(repeating: 0, count: count) }

    public func copy() -> Tensor {
        let t = Tensor(shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// The same floats under another shape of the same size.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let t = Tensor(newShape)
        precondition(t.count == count, "cannot reshape \(shape) to \(newShape)")
        t.data.update(from: data, count: count)
        return t
    }

    /// Rows x columns when the last dimension is the feature width.
    public var rows: Int { shape.isEmpty ? 1 : count / max(shape.last!, 1) }
    public var columns: Int { shape.last ?? 1 }
}

/// A buffer a layer keeps between calls and regrows only when a larger shape comes.
struct Workspace {
    private(set) var tensor: Tensor?

    mutating func tensor(_ shape: [Int]) -> Tensor {
        if let t = tensor, t.shape == shape { return t }
        let t = Tensor(shape)
        tensor = t
        return t
    }

    /// The same, without zero-filling a new tensor (the caller writes every element).
    mutating func uninitializedTensor(_ shape: [Int]) -> Tensor {
        if let t = tensor, t.shape == shape { return t }
        let t = Tensor(uninitialized: shape)
        tensor = t
        return t
    }

    mutating func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let t = tensor, t.count >= count { return t.data }
        let t = Tensor(uninitialized: [count])
        tensor = t
        return t.data
    }
}
