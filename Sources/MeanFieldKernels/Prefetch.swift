// Software prefetches of a block of memory that the next products will read or write.
import CMeanFieldSupport

/// Cache hints: they never fault and never change a result.
///
/// Why: the per-head attention products of one sequence (theory §1.2; FusedAttention.swift) are about
/// 135,000 FLOPs each (ViT: 65×65 from 16, 65×16 from 65) and start on memory that is not in cache:
/// in the backward pass the ViT's 65 rows of one sequence's Q/K/V projections, kept since the forward
/// pass (12 cache lines each); in the forward pass the head outputs they are about to write.
/// Requesting the sequence's whole block once lets those misses overlap instead of stalling product
/// after product: the ViT's per-head products ran 40–60% faster for it (benchmarks/RESULTS.md).
public enum Prefetch {
    /// The most bytes one request covers: a block much larger than the first-level cache (32–48 KB)
    /// would evict its own first lines before they are used. The ViT's blocks are 17–50 KB.
    public static let maximumBytes = 64 << 10

    /// Requests every cache line of the `bytes` bytes (at most ``maximumBytes``) from `start` into the
    /// first-level cache, for writing when `forWrite`, else for reading.
    @inline(__always)
    public static func lines(from start: UnsafeRawPointer, bytes: Int, forWrite: Bool) {
        let lineBytes = 64
        for offset in stride(from: 0, to: min(bytes, maximumBytes), by: lineBytes) {
            if forWrite { mf_prefetch_for_write(start + offset) } else { mf_prefetch_for_read(start + offset) }
        }
    }
}
