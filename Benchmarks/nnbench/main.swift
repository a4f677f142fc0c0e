// nnbench: GFLOP/s of the NN core's hot layers against OpenBLAS sgemm measured in the same run.
// Build and run: swift run -c release nnbench [--quick] [--threads N] [--only TEXT]
//
// Every figure is the best of a few timed repetitions after one warm-up call: the machine is
// shared, and the best run is the one least disturbed by others. FLOPs count multiply-adds as 2.
import Dispatch
import Foundation
import NN

let quick = CommandLine.arguments.contains("--quick")
/// --only TEXT runs the rows whose label contains TEXT (for profiling one shape).
let only: String? = CommandLine.arguments.firstIndex(of: "--only").flatMap {
    $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil
}
func selected(_ label: String) -> Bool { only.map { label.contains($0) } ?? true }
/// --threads N sets our pool and OpenBLAS's (default: every core).
if let i = CommandLine.arguments.firstIndex(of: "--threads"), i + 1 < CommandLine.arguments.count,
   let t = Int(CommandLine.arguments[i + 1]) { Threads.set(t) } else { Threads.set(Threads.count) }
var rng = RNG(seed: 1)

func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// Best time of `body` over repetitions that fill about `budget` seconds (at least 2, at most 20).
func best(budget: Double = quick ? 0.15 : 0.6, _ body: () -> Void) -> Double {
    let first = seconds(body)       // warm-up: buffers, page faults, BLAS threads
    var bestT = first
    let reps = max(2, min(20, Int(budget / max(first, 1e-6))))
    for _ in 0..<reps { bestT = min(bestT, seconds(body)) }
    return bestT
}

func random(_ shape: [Int]) -> Tensor {
    let t = Tensor(shape)
    for i in 0..<t.count { t.data[i] = rng.normal() }
    return t
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func f1(_ x: Double) -> String { String(format: "%.1f", x) }

// The ceiling: one large square product, sampled before, between and after the layer timings;
// the best sample is the figure the ratios use (a sample taken while a neighbour runs is low).
let n = quick ? 1024 : 2048
let ga = random([n, n]), gb = random([n, n]), gc = Tensor([n, n])
var sgemmSamples: [Double] = []
func sampleSgemm() {
    let t = best(budget: quick ? 0.5 : 2) { gemm(gc.data, ga.data, gb.data, m: n, n: n, k: n) }
    sgemmSamples.append(2 * Double(n * n * n) / t / 1e9)
}
sampleSgemm()

/// Rows are printed at the end, when the sgemm ceiling is known.
struct Row { let label: String, fwdMs: Double, fwdGF: Double, bwdMs: Double?, bwdGF: Double? }
var convRows: [Row] = [], transformerRows: [Row] = []

struct ConvCase { let label: String, n: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int, firstLayer: Bool, train: Bool }
let batch = quick ? 4 : 16
let convCases = [
    ConvCase(label: "3->32 3x3 @64x64", n: batch, h: 64, w: 64, cin: 3, cout: 32, k: 3, s: 1, firstLayer: true, train: true),
    ConvCase(label: "32->32 3x3 @64x64", n: batch, h: 64, w: 64, cin: 32, cout: 32, k: 3, s: 1, firstLayer: false, train: true),
    ConvCase(label: "32->64 3x3 s2 @64x64", n: batch, h: 64, w: 64, cin: 32, cout: 64, k: 3, s: 2, firstLayer: false, train: true),
    ConvCase(label: "64->64 3x3 @32x32", n: batch, h: 32, w: 32, cin: 64, cout: 64, k: 3, s: 1, firstLayer: false, train: true),
    ConvCase(label: "64->128 3x3 s2 @32x32", n: batch, h: 32, w: 32, cin: 64, cout: 128, k: 3, s: 2, firstLayer: false, train: true),
    ConvCase(label: "128->128 3x3 @16x16", n: batch, h: 16, w: 16, cin: 128, cout: 128, k: 3, s: 1, firstLayer: false, train: true),
    ConvCase(label: "128->128 3x3 @8x8", n: batch, h: 8, w: 8, cin: 128, cout: 128, k: 3, s: 1, firstLayer: false, train: true),
    ConvCase(label: "32->32 3x3 @768x512 (1 image)", n: 1, h: 512, w: 768, cin: 32, cout: 32, k: 3, s: 1, firstLayer: false, train: false),
    ConvCase(label: "128->128 3x3 @96x64 (1 image)", n: 1, h: 64, w: 96, cin: 128, cout: 128, k: 3, s: 1, firstLayer: false, train: false),
]

for cc in convCases where selected(cc.label) {
    let store = ParameterStore()
    let conv = Conv2d(store, "c", inChannels: cc.cin, outChannels: cc.cout, kernel: cc.k, stride: cc.s, padding: 1, rng: &rng)
    conv.computesInputGradient = !cc.firstLayer
    store.seal()
    let x = random([cc.n, cc.h, cc.w, cc.cin])
    let (ho, wo) = conv.outputSize(height: cc.h, width: cc.w)
    let flops = 2 * Double(cc.n * ho * wo) * Double(cc.k * cc.k * cc.cin * cc.cout)
    let tf = best { _ = conv.forward(x) }
    var tb: Double?
    if cc.train {
        let dy = random([cc.n, ho, wo, cc.cout])
        _ = conv.forward(x)
        tb = best { _ = conv.backward(dy) }
    }
    // Backward computes dW always and dX unless it is the first layer: 1 or 2 products of the forward's size.
    let bflops = flops * (cc.firstLayer ? 1 : 2)
    convRows.append(Row(label: cc.label, fwdMs: tf * 1000, fwdGF: flops / tf / 1e9,
                        bwdMs: tb.map { $0 * 1000 }, bwdGF: tb.map { bflops / $0 / 1e9 }))
}
// Inference as the codec runs it (Conv2d.infer, per-thread blocks): a residual block's second
// conv with the ReLU before it and the skip after it folded in, the stem and output layers, and
// the decoder's upsampling conv, run as four 2x2 phases (FLOPs counted as executed: 4/9 of the
// 3x3 conv on the upsampled image).
struct InferCase { let label: String, h: Int, w: Int, cin: Int, cout: Int, relu: Bool, up: Bool, skip: Bool }
let inferCases = [
    InferCase(label: "infer 3->32 3x3 @768x512 (stem)", h: 512, w: 768, cin: 3, cout: 32, relu: false, up: false, skip: false),
    InferCase(label: "infer ReLU+32->32 3x3+skip @768x512", h: 512, w: 768, cin: 32, cout: 32, relu: true, up: false, skip: true),
    InferCase(label: "infer Upsample2x+64->32 3x3 @384x256->768x512", h: 256, w: 384, cin: 64, cout: 32, relu: false, up: true, skip: false),
    InferCase(label: "infer ReLU+32->3 3x3 @768x512 (output)", h: 512, w: 768, cin: 32, cout: 3, relu: true, up: false, skip: false),
    InferCase(label: "infer ReLU+128->128 3x3+skip @96x64", h: 64, w: 96, cin: 128, cout: 128, relu: true, up: false, skip: true),
]
for ic in inferCases where selected(ic.label) && !quick {
    let store = ParameterStore()
    let conv = Conv2d(store, "c", inChannels: ic.cin, outChannels: ic.cout, kernel: 3, rng: &rng)
    store.seal()
    let x = random([1, ic.h, ic.w, ic.cin])
    let (ho, wo) = conv.outputSize(height: ic.h * (ic.up ? 2 : 1), width: ic.w * (ic.up ? 2 : 1))
    let skip = ic.skip ? random([1, ho, wo, ic.cout]) : nil
    let flops = conv.inferenceFLOPs(height: ic.h, width: ic.w, upsampleInput: ic.up)
    // f32, then the integer kernels of the decoder (GFLOP/s counts the same multiply-adds).
    for precision in VectorKernels.available ? [InferencePrecision.float32, .int16] : [.float32] {
        conv.inferencePrecision = precision
        let t = best { _ = conv.infer(x, reluInput: ic.relu, upsampleInput: ic.up, adding: skip) }
        convRows.append(Row(label: ic.label + (precision == .int16 ? ", int16" : ""), fwdMs: t * 1000,
                            fwdGF: flops / t / 1e9, bwdMs: nil, bwdGF: nil))
    }
}
sampleSgemm()

// The transformer prior's products: T=256, D=256, 4 heads, batch 8 sequences.
let (tb, tt, td, th) = (quick ? 2 : 8, 256, 256, 4)
let m = tb * tt
var stepLine: String?
func linearRow(_ label: String, _ din: Int, _ dout: Int) {
    guard selected(label) else { return }
    let store = ParameterStore()
    let lin = Linear(store, "l", inFeatures: din, outFeatures: dout, rng: &rng)
    store.seal()
    let x = random([tb, tt, din]), dy = random([tb, tt, dout])
    let flops = 2 * Double(m * din * dout)
    let tf = best { _ = lin.forward(x) }
    _ = lin.forward(x)
    let tbw = best { _ = lin.backward(dy) }
    transformerRows.append(Row(label: label, fwdMs: tf * 1000, fwdGF: flops / tf / 1e9, bwdMs: tbw * 1000, bwdGF: 2 * flops / tbw / 1e9))
}
linearRow("QKV projection \(td)->\(3 * td)", td, 3 * td)
linearRow("MLP up \(td)->\(4 * td)", td, 4 * td)
linearRow("MLP down \(4 * td)->\(td)", 4 * td, td)
if selected("attention layer") {
    let store = ParameterStore()
    let att = SelfAttention(store, "a", dim: td, heads: th, rng: &rng)
    store.seal()
    let x = random([tb, tt, td]), dy = random([tb, tt, td])
    // Executed FLOPs: projections plus the full T x T score and value products (the causal half
    // above the diagonal is computed by sgemm and then zeroed).
    let flops = 2 * Double(m * td * 4 * td) + 2 * 2 * Double(tb * tt * tt * td)
    let tf = best { _ = att.forward(x) }
    _ = att.forward(x)
    let tbw = best { _ = att.backward(dy) }
    transformerRows.append(Row(label: "attention layer (QKV + scores + PV + proj)", fwdMs: tf * 1000, fwdGF: flops / tf / 1e9,
                               bwdMs: tbw * 1000, bwdGF: 2 * flops / tbw / 1e9))
    // Sampling: T positions one at a time through the KV cache (contexts 1...T).
    let cache = att.makeCache(batch: tb, capacity: tt)
    let xt = random([tb, td])
    let ts = best { cache.reset(); for _ in 0..<tt { _ = att.step(xt, cache: cache) } }
    stepLine = "attention step with KV cache: \(f1(ts / Double(tt) * 1e6)) us per position (batch \(tb), mean of contexts 1...\(tt))"
}
sampleSgemm()

let ceiling = sgemmSamples.max()!
print("threads: \(Threads.count)")
print("sgemm \(n)^3: \(f1(ceiling)) GFLOP/s (best of samples \(sgemmSamples.map { f1($0) }.joined(separator: ", ")))")
func pct(_ g: Double) -> String { "\(Int((g / ceiling * 100).rounded()))%" }
func table(_ title: String, _ rows: [Row]) {
    print("")
    print("| \(title) | fwd ms | fwd GFLOP/s | fwd / sgemm | bwd ms | bwd GFLOP/s | bwd / sgemm |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows {
        var line = "| \(r.label) | \(f1(r.fwdMs)) | \(f1(r.fwdGF)) | \(pct(r.fwdGF)) |"
        if let bm = r.bwdMs, let bg = r.bwdGF { line += " \(f1(bm)) | \(f1(bg)) | \(pct(bg)) |" } else { line += " - | - | - |" }
        print(line)
    }
}
if !convRows.isEmpty { table("conv 3x3 (NHWC, batch \(batch) of crops unless noted)", convRows) }
if !transformerRows.isEmpty { table("transformer (N=\(tb), T=\(tt), D=\(td), H=\(th))", transformerRows) }
if let stepLine { print(""); print(stepLine) }
