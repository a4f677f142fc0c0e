import Dispatch
import Foundation
import COpenBLAS

/// Threads for the work BLAS does not do (im2col, elementwise, attention).
/// BLAS keeps its own pool; both use every core but never run at the same time,
/// so the machine is not oversubscribed.
public enum Threads {
    public nonisolated(unsafe) static var count: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Sets both our pool size and OpenBLAS's.
    public static func set(_ n: Int) {
        count = max(1, n)
        openblas_set_num_threads(Int32(count))
    }
}

/// Splits 0..<n into contiguous chunks, one per thread, and runs body on each.
/// Small jobs run inline: a dispatch costs microseconds.
@inline(__always)
public func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = min(Threads.count, max(1, n / max(minChunk, 1)))
    if threads <= 1 || n <= 1 {
        body(0..<n)
        return
    }
    let chunk = (n + threads - 1) / threads
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let lo = t * chunk, hi = min(n, lo + chunk)
        if lo < hi { body(lo..<hi) }
    }
}

/// Runs body(t) for t in 0..<parts, one part per thread of our pool, with BLAS single-threaded
/// meanwhile, so each part can call sgemm on data its own core has just written. OpenBLAS runs a
/// single-threaded call in the calling thread, so concurrent calls do not share its workers.
public func parallelBLAS(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 {
        body(0)
        return
    }
    let blasThreads = openblas_get_num_threads()
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(blasThreads) }
    DispatchQueue.concurrentPerform(iterations: parts) { body($0) }
}
