// Zeroed, long-lived buffers (the fused engine's workspace), on transparent huge pages where the
// operating system offers them (`mf_allocate_zeroed`, LargeBuffers.c): the workspace is tens of
// megabytes that every training step writes and reads, and on 4 KiB pages the ViT step ran 4–8%
// slower (benchmarks/RESULTS.md, "The workspace on huge pages").
import CMeanFieldSupport

/// Allocation of large zeroed buffers; from ``hugePageBytes`` on, whole huge pages advised as such.
public enum LargeBuffers {
    /// Size of one huge page, and the smallest buffer that is advised as huge pages (`MF_HUGE_PAGE_BYTES`).
    public static let hugePageBytes = Int(MF_HUGE_PAGE_BYTES)

    /// One buffer from ``allocateZeroed(bytes:)``.
    public struct Allocation: @unchecked Sendable {
        public let pointer: UnsafeMutableRawPointer
        /// Bytes the operating system accepted the huge-page advice for (whole huge pages), else 0.
        public let hugePageBytes: Int
    }

    /// The most bytes of live buffers on huge pages at once since the process started (for the
    /// benchmark headers: whether a figure was measured on huge pages).
    public static var mostAdvisedBytes: Int { advised.value.most }
    private static let advised = LockedValue((live: 0, most: 0))

    /// `bytes` zeroed bytes, 64-byte aligned (aligned to and advised as whole huge pages from
    /// ``hugePageBytes`` on); give them back with ``free(_:)``. Stops the process when memory runs
    /// out (callers check their memory plan before allocating).
    public static func allocateZeroed(bytes: Int) -> Allocation {
        var hugePageBytes: UInt = 0
        guard let pointer = mf_allocate_zeroed(UInt(max(bytes, 1)), &hugePageBytes) else {
            fatalError("LargeBuffers: cannot allocate \(bytes) bytes")
        }
        let allocation = Allocation(pointer: pointer, hugePageBytes: Int(hugePageBytes))
        if allocation.hugePageBytes > 0 {
            advised.withLock { counts in
                counts.live += allocation.hugePageBytes
                counts.most = max(counts.most, counts.live)
            }
        }
        return allocation
    }

    /// Frees a buffer from ``allocateZeroed(bytes:)``.
    public static func free(_ allocation: Allocation) {
        if allocation.hugePageBytes > 0 { advised.withLock { $0.live -= allocation.hugePageBytes } }
        mf_free(allocation.pointer)
    }
}
