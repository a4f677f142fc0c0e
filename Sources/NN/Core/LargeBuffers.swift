#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The memory of tensors and scratch buffers. Large ones (4 MiB and more: the activations of a
/// full-resolution layer are 48 MiB) are aligned to 2 MiB and marked for transparent huge pages:
/// a fresh 48 MiB buffer took 31 ms of page faults in 4 KiB pages against 4 ms in 2 MiB ones (a
/// one-off test on this machine), and inference allocates one per full-resolution layer.
///
/// A pool that kept released blocks for the next request of the same size was tried and dropped:
/// a one-shot command allocates each size once per pass, so it saved nothing there, and on a
/// 12-megapixel photo its blocks raised the peak memory to 0.93 GiB.
public enum LargeBuffers {
    static let threshold = 4 << 20
    static let hugePage = 2 << 20

    /// Memory for `count` values (uninitialized), to be given back with `release`.
    public static func allocate<T>(_ count: Int, of: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        let alignment = bytes >= threshold ? hugePage : 64
        let rounded = (bytes + alignment - 1) / alignment * alignment
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, rounded) == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes")
        }
        #if os(Linux)
        if alignment == hugePage { _ = madvise(raw, rounded, MADV_HUGEPAGE) }
        #endif
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// Gives back memory from `allocate(_:of:)`.
    public static func release<T>(_ pointer: UnsafeMutablePointer<T>) {
        free(UnsafeMutableRawPointer(pointer))
    }
}
