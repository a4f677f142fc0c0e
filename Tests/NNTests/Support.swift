import Foundation
import XCTest
import NN
import CKernels

// Helpers shared by the NN tests: random tensors, fixtures, and the finite-difference checker.

func randomTensor(_ shape: [Int], _ rng: inout RNG, scale: Float = 1) -> Tensor {
    let t = Tensor(shape)
    for i in 0..<t.count { t.data[i] = rng.normal() * scale }
    return t
}

/// Runs `body` once for each width of vector kernels this CPU has, AVX-512 (with VNNI) first where
/// it has it, then AVX2, naming each: the tests compare every one with the naive twin, not only the default.
func forEachVectorKernel(_ body: (String) -> Void) {
    if vqz_avx512_kernels_available() != 0 { body("AVX-512") }
    vqz_disable_avx512_kernels(1)
    defer { vqz_disable_avx512_kernels(0) }
    body("AVX2")
}

func randomize(_ store: ParameterStore, _ p: Param, _ rng: inout RNG, scale: Float = 0.5, offset: Float = 0) {
    let v = store.value(p)
    for i in 0..<p.count { v[i] = offset + rng.normal() * scale }
}

/// sum(y * r) in Double: a scalar loss whose gradient with respect to y is r.
func projected(_ y: Tensor, _ r: Tensor) -> Double {
    precondition(y.count == r.count)
    var s: Double = 0
    for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
    return s
}

func fixture(_ name: String) throws -> [String: SafeTensors.Entry] {
    // A missing reference fails the test: a skipped comparison would pass a wrong kernel.
    guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
        throw MissingFixture(name: name)
    }
    return try SafeTensors.read(Array(try Data(contentsOf: url))).tensors
}

func tensor(_ e: SafeTensors.Entry?) -> Tensor {
    guard let e else { preconditionFailure("missing fixture tensor") }
    return Tensor(e.shape, e.values)
}

/// max |a - b| / max(1, |b|) over all elements: an absolute error for small values, relative for large.
func maxScaledError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var worst: Float = 0
    for i in 0..<n { worst = max(worst, abs(a[i] - b[i]) / max(1, abs(b[i]))) }
    return worst
}

/// Compares an analytic gradient with central differences of `loss` on the floats at `values`.
/// The error is the norm of the difference over the norm of the larger gradient (robust to single
/// tiny components), and the check fails above `tolerance`. Up to `samples` entries are checked.
func checkGradient(_ label: String, values: UnsafeMutablePointer<Float>, analytic: [Float], eps: Float,
                   tolerance: Double, samples: Int = 240, rng: inout RNG, loss: () -> Double,
                   file: StaticString = #filePath, line: UInt = #line) {
    let n = analytic.count
    let indices = n <= samples ? Array(0..<n) : (0..<samples).map { _ in rng.int(below: n) }
    var diff: Double = 0, normA: Double = 0, normN: Double = 0
    for i in indices {
        let old = values[i]
        values[i] = old + eps
        let plus = loss()
        values[i] = old - eps
        let minus = loss()
        values[i] = old
        let numeric = (plus - minus) / (2 * Double(eps))
        let a = Double(analytic[i])
        diff += (a - numeric) * (a - numeric)
        normA += a * a
        normN += numeric * numeric
    }
    let scale = max(normA.squareRoot(), normN.squareRoot())
    let err = scale < 1e-12 ? diff.squareRoot() : diff.squareRoot() / scale
    if ProcessInfo.processInfo.environment["VQZ_GRADCHECK_VERBOSE"] != nil {
        print("gradcheck \(label): relative error \(err) over \(indices.count) entries (|g| \(scale))")
    }
    XCTAssertLessThan(err, tolerance, "\(label): analytic and numeric gradients differ (relative error \(err))", file: file, line: line)
    XCTAssertGreaterThan(scale, 1e-8, "\(label): gradient is zero, the check would prove nothing", file: file, line: line)
}

/// Gradient check of a layer under L = sum(layer(x) * r): dX and every listed parameter against
/// central differences, and that a second backward adds the same gradients again (backward must
/// accumulate into the store, never overwrite).
func checkLayer(_ label: String, _ layer: any Layer, input x: Tensor, store: ParameterStore, params: [Param],
                checkInput: Bool = true, eps: Float = 1e-2, tolerance: Double = 1e-3, seed: UInt64 = 7,
                file: StaticString = #filePath, line: UInt = #line) {
    var rng = RNG(seed: seed)
    store.seal()
    let y = layer.forward(x).copy()
    let r = randomTensor(y.shape, &rng)
    store.zeroGrads()
    let dx = layer.backward(r).copy()
    let grads = params.map { Array(UnsafeBufferPointer(start: store.grad($0), count: $0.count)) }
    // Accumulation: a second backward doubles every parameter gradient.
    _ = layer.backward(r)
    for (p, g) in zip(params, grads) {
        let again = store.grad(p)
        var worst: Float = 0
        for i in 0..<p.count { worst = max(worst, abs(again[i] - 2 * g[i]) / max(1e-3, abs(2 * g[i]))) }
        XCTAssertLessThan(worst, 1e-4, "\(label): \(p.name) gradient was overwritten, not added", file: file, line: line)
    }
    let loss = { projected(layer.forward(x), r) }
    if checkInput {
        checkGradient("\(label) dX", values: x.data, analytic: dx.array, eps: eps, tolerance: tolerance,
                      rng: &rng, loss: loss, file: file, line: line)
    }
    for (p, g) in zip(params, grads) {
        checkGradient("\(label) d\(p.name)", values: store.value(p), analytic: g, eps: eps, tolerance: tolerance,
                      rng: &rng, loss: loss, file: file, line: line)
    }
}

/// A reference fixture the package does not hold.
struct MissingFixture: Error, CustomStringConvertible {
    var name: String
    var description: String { "fixture \(name).safetensors is missing: run scripts/nn_reference.py" }
}
