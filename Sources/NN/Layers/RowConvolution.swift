import CKernels

/// What the direct f32 and the integer convolutions share: the run-time check for their vector
/// kernels, scratch memory, and the split of a convolution's output rows between threads, each
/// thread keeping the input rows its windows read in a ring of padded copies.
public enum VectorKernels {
    /// Whether this CPU runs the row kernels of CKernels fast (AVX2 and FMA, detected at run time);
    /// elsewhere Conv2d keeps im2col and sgemm, and int16 inference runs f32.
    public static let available = vqz_vector_kernels_available() != 0

    /// The integer product's instructions on this CPU, as `vqz bench` reports them: AVX-512 VNNI
    /// where the CPU has it (unless VQZ_NO_AVX512=1), else AVX2; the integers are the same.
    public static var integerKernels: String {
        vqz_avx512_kernels_available() != 0 ? "AVX-512 VNNI" : "AVX2"
    }
}

/// Scratch memory for one call, freed when the call returns: the kernels keep no buffers in the
/// layer, so releaseBuffers (which callers may run from several threads on a shared model) has
/// nothing more to release, and a layer's memory between calls is its weights.
final class Scratch<Element> {
    let pointer: UnsafeMutablePointer<Element>

    /// `zeroed` fills it with zero bits (0 for floats and integers alike).
    init(_ count: Int, zeroed: Bool = false) {
        pointer = LargeBuffers.allocate(count, of: Element.self)
        if zeroed {
            UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0,
                                                             count: max(count, 1) * MemoryLayout<Element>.stride)
        }
    }

    deinit { LargeBuffers.release(pointer) }
}

/// f32 weights w[K][N] packed for vqz_conv_row.
func packedConvWeights(_ w: UnsafePointer<Float>, k: Int, n: Int) -> Scratch<Float> {
    let packed = Scratch<Float>(vqz_conv_packed_count(Int32(k), Int32(n)))
    vqz_conv_pack(packed.pointer, w, Int32(k), Int32(n))
    return packed
}

/// A thread's ring of padded input rows: slot `iy % slots` holds row iy of image `img` of the
/// input as the convolution sees it, with `padding` zero values (pixels times channels) each side.
/// A row in the ring is filled once by `fill` and reused by every output row whose window it is
/// in; rows outside the image read a shared zero row. Window rows are consecutive, so k slots
/// hold a k-row window without collisions. `workspace` is the thread's own scratch beside it.
struct RowRing<Element> {
    let base: UnsafeMutablePointer<Element>
    let zero: UnsafePointer<Element>
    let workspace: UnsafeMutablePointer<Element>
    let slots: Int, rowElements: Int, padding: Int, height: Int
    private var keys: [Int]

    /// `base` holds `slots` rows of `rowElements`, zeroed (the pads are never written).
    init(_ base: UnsafeMutablePointer<Element>, zero: UnsafePointer<Element>, slots: Int, rowElements: Int,
         padding: Int, height: Int) {
        self.base = base
        self.zero = zero
        workspace = base + slots * rowElements
        self.slots = slots
        self.rowElements = rowElements
        self.padding = padding
        self.height = height
        keys = [Int](repeating: -1, count: slots)
    }

    /// Row iy (of `height`) of image img; `fill` writes its values after the left pad.
    mutating func row(img: Int, iy: Int, fill: (UnsafeMutablePointer<Element>) -> Void) -> UnsafePointer<Element> {
        if iy < 0 || iy >= height { return zero }
        let slot = iy % slots, key = img * height + iy
        let dst = base + slot * rowElements
        if keys[slot] != key {
            keys[slot] = key
            fill(dst + padding)
        }
        return UnsafePointer(dst)
    }

    /// Rows first, first + 1, ... of image img into `pointers` (as many as it holds): the window of
    /// an output row or a group of them. `fill(dst, iy)` writes row iy as `row` does.
    mutating func window(img: Int, first: Int, into pointers: inout [UnsafePointer<Element>?],
                         fill: (UnsafeMutablePointer<Element>, Int) -> Void) {
        for i in pointers.indices {
            pointers[i] = row(img: img, iy: first + i) { fill($0, first + i) }
        }
    }
}

/// The `rows` output rows of a convolution, `width` pixels each, split into one contiguous share
/// per thread of our pool (no thread for fewer than 64 pixels), each thread with its own ring of
/// `slots` padded input rows of `rowElements` values (`padding` of them zero on each side) out of
/// `height` input rows per image, and `workspace` more values of scratch after its ring.
struct RowShares<Element> {
    let rows: Int, threads: Int, slots: Int, rowElements: Int, padding: Int, height: Int
    /// Values per thread: its ring, then its workspace.
    private let perThread: Int
    /// Every thread's ring and workspace, then the shared zero row.
    private let scratch: Scratch<Element>

    init(rows: Int, width: Int, slots: Int, rowElements: Int, padding: Int, height: Int, workspace: Int = 0) {
        self.rows = rows
        threads = max(1, min(Threads.count, rows, (rows * width + 63) / 64))
        self.slots = slots
        self.rowElements = rowElements
        self.padding = padding
        self.height = height
        perThread = slots * rowElements + workspace
        scratch = Scratch(threads * perThread + rowElements, zeroed: true)
    }

    /// Runs body(ring, share) on every thread's share of the output rows, in parallel.
    func forEach(_ body: (inout RowRing<Element>, Range<Int>) -> Void) {
        let share = (rows + threads - 1) / threads
        let zero = UnsafePointer(scratch.pointer + threads * perThread)
        withExtendedLifetime(scratch) {
            parallelFor(threads) { part in
                for t in part {
                    var ring = RowRing(scratch.pointer + t * perThread, zero: zero, slots: slots,
                                       rowElements: rowElements, padding: padding, height: height)
                    body(&ring, (t * share)..<min(rows, (t + 1) * share))
                }
            }
        }
    }
}
