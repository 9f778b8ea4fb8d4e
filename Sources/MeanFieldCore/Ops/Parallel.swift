import MeanFieldKernels

/// Element counts below this run on the calling thread: splitting smaller work costs more than it
/// saves (a dispatch to the pool costs microseconds; `meanfield bench gemm` prints the per-call overhead).
let parallelGrain = 1 << 15

/// Runs `body` over `0..<count` in fixed chunks of `grain` indices, on the kernel thread pool.
///
/// The chunking depends only on `count` and `grain`, never on the thread count, so any kernel that
/// writes disjoint outputs per chunk (or combines per-chunk partials in chunk order) gives the same
/// bits on 1 and on 2 threads.
@inline(__always)
func forEachChunk(_ count: Int, grain: Int = parallelGrain, _ body: (Range<Int>) -> Void) {
    if count <= grain {
        if count > 0 { body(0..<count) }
        return
    }
    let chunks = (count + grain - 1) / grain
    Threading.parallelFor(chunks) { chunk in
        let start = chunk * grain
        body(start..<min(start + grain, count))
    }
}

/// Like ``forEachChunk(_:grain:_:)`` for work whose cost per index is `costPerIndex` elements:
/// chooses a grain so that each chunk holds about ``parallelGrain`` elements of work.
@inline(__always)
func forEachChunk(_ count: Int, costPerIndex: Int, _ body: (Range<Int>) -> Void) {
    let grain = max(1, parallelGrain / max(1, costPerIndex))
    forEachChunk(count, grain: grain, body)
}
