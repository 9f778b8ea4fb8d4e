// An opt-in record of every GEMM a piece of work makes, by shape: calls, seconds and FLOPs, so that
// `meanfield bench train --gemm-profile` can say which products a training step spends its time in
// and at what rate each runs there (docs/architecture.md, "GEMM profile"; benchmarks/RESULTS.md).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-shape GEMM timing. Off by default: then each `Gemm.gemm` call pays one load of a flag.
/// While on, each call reads the monotonic clock twice and adds its time to its shape's entry under a
/// lock (about 0.1 µs per call). A product inside a `Threading.parallelFor` body (the per-head
/// attention products) is timed on the thread that runs it, so with more than one thread an entry's
/// seconds are thread-seconds.
public enum GemmProfile {
    /// The shape of one product: op(A)·op(B) with C m×n from depth k, and the scalar's size.
    public struct Shape: Hashable, Sendable, Comparable {
        public var transposeA: Bool, transposeB: Bool
        public var m: Int, n: Int, k: Int
        public var scalarBytes: Int
        /// Called inside a `Threading.parallelFor` body: the product ran on that one thread.
        public var insideParallelLoop: Bool
        /// "NT 8320x256x64": N/T for op(A) and op(B), then m×n×k.
        public var label: String { "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)x\(n)x\(k)" }
        /// FLOPs of one call: 2mnk.
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
        public init(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, scalarBytes: Int, insideParallelLoop: Bool) {
            (self.transposeA, self.transposeB, self.m, self.n, self.k) = (transposeA, transposeB, m, n, k)
            (self.scalarBytes, self.insideParallelLoop) = (scalarBytes, insideParallelLoop)
        }
        public static func < (lhs: Shape, rhs: Shape) -> Bool { (lhs.label, lhs.insideParallelLoop ? 1 : 0) < (rhs.label, rhs.insideParallelLoop ? 1 : 0) }
    }

    /// What the calls of one shape took.
    public struct Entry: Sendable {
        public var shape: Shape
        public var calls: Int
        public var seconds: Double
        /// FLOPs of all calls (calls × 2mnk).
        public var flops: Double { Double(calls) * shape.flops }
        public init(shape: Shape, calls: Int, seconds: Double) { (self.shape, self.calls, self.seconds) = (shape, calls, seconds) }
    }

    /// Set only by `start`/`stop`, between pieces of work; the pool's dispatch orders it before any
    /// worker's read.
    nonisolated(unsafe) static var isRecording = false
    private static let entries = LockedValue<[Shape: (calls: Int, nanoseconds: UInt64)]>([:])

    /// Clears the record and starts recording.
    public static func start() {
        entries.value = [:]
        isRecording = true
    }

    /// Stops recording and returns the entries, the most time first.
    public static func stop() -> [Entry] {
        isRecording = false
        return entries.value.map { Entry(shape: $0.key, calls: $0.value.calls, seconds: Double($0.value.nanoseconds) / 1e9) }
            .sorted { ($0.seconds, $1.shape) > ($1.seconds, $0.shape) }
    }

    /// Monotonic clock, nanoseconds.
    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Adds one call of `shape` that started at `start` (from ``now()``).
    static func record(_ shape: Shape, since start: UInt64) {
        let elapsed = now() &- start
        entries.withLock { table in
            let old = table[shape] ?? (0, 0)
            table[shape] = (old.calls + 1, old.nanoseconds + elapsed)
        }
    }
}
