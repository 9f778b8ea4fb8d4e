// Zeroed, long-lived buffers (the fused engine's workspace), on transparent huge pages where the
// operating system offers them (`mf_allocate_zeroed`, LargeBuffers.c): the workspace is tens of
// megabytes that every training step writes and reads, and on 4 KiB pages the ViT step ran 4–8%
// slower (benchmarks/RESULTS.md, "The workspace on huge pages").
import CMeanFieldSupport

/// Allocation of large zeroed buffers; from 2 MiB on, whole 2 MiB pages advised as huge pages.
public enum LargeBuffers {
    /// Size of one huge page, and the smallest buffer that is advised as huge pages.
    public static let hugePageBytes = 1 << 21

    /// One buffer from ``allocateZeroed(bytes:)``.
    public struct Allocation: @unchecked Sendable {
        public let pointer: UnsafeMutableRawPointer
        public let bytes: Int
        /// Whether the operating system accepted the huge-page advice for it (whole huge pages).
        public let onHugePages: Bool
    }

    /// Bytes of the live buffers the operating system accepted the huge-page advice for (for the
    /// benchmark headers: whether a figure was measured on huge pages).
    public static var advisedBytes: Int { advised.value.live }
    /// The most ``advisedBytes`` has been since the process started.
    public static var mostAdvisedBytes: Int { advised.value.most }
    private static let advised = LockedValue((live: 0, most: 0))

    /// `bytes` zeroed bytes, 64-byte aligned (2 MiB-aligned and advised as huge pages from
    /// ``hugePageBytes`` on); give them back with ``free(_:)``. Stops the process when memory runs
    /// out (callers check their memory plan before allocating).
    public static func allocateZeroed(bytes: Int) -> Allocation {
        var accepted: Int32 = 0
        guard let pointer = mf_allocate_zeroed(UInt(max(bytes, 1)), &accepted) else {
            fatalError("LargeBuffers: cannot allocate \(bytes) bytes")
        }
        if accepted != 0 {
            advised.withLock { counts in
                counts.live += roundedToHugePages(bytes)
                counts.most = max(counts.most, counts.live)
            }
        }
        return Allocation(pointer: pointer, bytes: bytes, onHugePages: accepted != 0)
    }

    /// Frees a buffer from ``allocateZeroed(bytes:)``.
    public static func free(_ allocation: Allocation) {
        if allocation.onHugePages { advised.withLock { $0.live -= roundedToHugePages(allocation.bytes) } }
        mf_free(allocation.pointer)
    }

    /// `bytes` rounded up to whole huge pages (what a huge-page buffer of `bytes` occupies).
    static func roundedToHugePages(_ bytes: Int) -> Int { (bytes + hugePageBytes - 1) / hugePageBytes * hugePageBytes }
}
