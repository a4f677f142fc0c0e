#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation

/// The memory of tensors and scratch buffers. Large ones (4 MiB and more: the activations of a
/// full-resolution layer are tens of MiB) are aligned to 2 MiB and marked for transparent huge
/// pages: a fresh 48 MiB buffer took 31 ms of page faults in 4 KiB pages against 4 ms in 2 MiB
/// ones (a one-off test on this machine), and inference allocates one per layer.
///
/// Released large blocks are kept and handed to the next request of about their size (at most
/// a quarter larger than asked for; the smallest such): the kernel zeroes every page a process
/// touches first, which was a quarter of a compress (the decoder that fits the tint plane asking
/// afresh for what the encoder had just released) and of each tile of a large picture, whose
/// layers ask for the same sizes tile after tile. What is kept never takes the process past the
/// most its large blocks have held live at once: a request that no kept block suits gives back
/// kept blocks, largest first, until the new block fits under that high-water mark, so pooling
/// adds nothing to the peak. A block serves only requests near its size, since a large block
/// holding a small tensor would raise the peak (with any size allowed, a 12-megapixel compress
/// peaked at 890 MB instead of 511).
public enum LargeBuffers {
    static let threshold = 4 << 20
    static let hugePage = 2 << 20

    private static let lock = NSLock()
    /// The size of each large block handed out, by address.
    private nonisolated(unsafe) static var live: [UnsafeMutableRawPointer: Int] = [:]
    /// Large blocks released and kept for reuse.
    private nonisolated(unsafe) static var kept: [(block: UnsafeMutableRawPointer, bytes: Int)] = []
    /// The bytes of the large blocks handed out and not released.
    private nonisolated(unsafe) static var liveBytes = 0
    /// The most bytes of large blocks live at once so far: live and kept blocks together stay under it.
    private nonisolated(unsafe) static var highWater = 0

    /// Memory for `count` values (uninitialized), to be given back with `release`.
    public static func allocate<T>(_ count: Int, of: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        let raw = bytes >= threshold ? large(bytes) : aligned(bytes, alignment: 64)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// Gives back memory from `allocate(_:of:)`.
    public static func release<T>(_ pointer: UnsafeMutablePointer<T>) {
        let raw = UnsafeMutableRawPointer(pointer)
        let keptBlock: Bool = lock.withLock {
            guard let bytes = live.removeValue(forKey: raw) else { return false }
            liveBytes -= bytes
            kept.append((raw, bytes))
            return true
        }
        if !keptBlock { free(raw) }
    }

    /// The bytes kept for reuse now.
    static var keptBytes: Int { lock.withLock { kept.reduce(0) { $0 + $1.bytes } } }

    /// Gives the kept blocks back to the system, and forgets the high-water mark.
    static func trim() {
        let blocks: [UnsafeMutableRawPointer] = lock.withLock {
            defer { kept = []; highWater = liveBytes }
            return kept.map(\.block)
        }
        blocks.forEach { free($0) }
    }

    private static func large(_ bytes: Int) -> UnsafeMutableRawPointer {
        let rounded = (bytes + hugePage - 1) / hugePage * hugePage
        let (reused, stale): (UnsafeMutableRawPointer?, [UnsafeMutableRawPointer]) = lock.withLock {
            let suits = { (bytes: Int) in bytes >= rounded && 4 * bytes <= 5 * rounded }
            if let i = kept.indices.filter({ suits(kept[$0].bytes) }).min(by: { kept[$0].bytes < kept[$1].bytes }) {
                let (block, size) = kept.remove(at: i)
                live[block] = size
                liveBytes += size
                return (block, [])
            }
            highWater = max(highWater, liveBytes + rounded)
            kept.sort { $0.bytes < $1.bytes }
            var stale: [UnsafeMutableRawPointer] = []
            var keptBytes = kept.reduce(0) { $0 + $1.bytes }
            while keptBytes + liveBytes + rounded > highWater, let largest = kept.popLast() {
                stale.append(largest.block)
                keptBytes -= largest.bytes
            }
            return (nil, stale)
        }
        if let reused { return reused }
        stale.forEach { free($0) }
        let raw = aligned(rounded, alignment: hugePage)
        #if os(Linux)
        _ = madvise(raw, rounded, MADV_HUGEPAGE)
        #endif
        lock.withLock {
            live[raw] = rounded
            liveBytes += rounded
        }
        return raw
    }

    private static func aligned(_ bytes: Int, alignment: Int) -> UnsafeMutableRawPointer {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, bytes) == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes")
        }
        return raw
    }
}
