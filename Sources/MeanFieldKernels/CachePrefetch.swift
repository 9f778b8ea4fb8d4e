// Software prefetch of a block of memory the caller will read soon (a hint: no fault, no effect on
// results), for data the hardware prefetchers miss.
import CMeanFieldSupport

/// Prefetching whole buffers, one hint per cache line.
public enum CachePrefetch {
    /// Bytes per cache line on the x86-64 and arm64 CPUs the kernels target.
    static let lineBytes = 64

    /// Asks for the `count` elements at `pointer` to be brought into L2 (not L1: the caller's current
    /// working set stays there), e.g. the next sequence's attention weights while this one computes.
    public static func intoL2<Scalar>(_ pointer: UnsafePointer<Scalar>, count: Int) {
        let start = UnsafeRawPointer(pointer), bytes = count * MemoryLayout<Scalar>.stride
        var offset = 0
        while offset < bytes {
            mf_prefetch_into_l2(start + offset)
            offset += lineBytes
        }
    }
}
