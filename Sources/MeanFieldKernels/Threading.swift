// Parallel loops on a persistent thread pool (the pool itself is C: CMeanFieldSupport/ThreadPool.c).
import CMeanFieldSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The worker threads shared by all kernels.
public enum Threading {
    /// Logical CPUs this process may run on.
    public static let processorCount: Int = Int(mf_cpu_count())

    /// The thread count at start-up: `processorCount`, or env `MEANFIELD_THREADS` when set and smaller.
    public static let defaultThreadCount: Int = {
        if let text = environmentValue("MEANFIELD_THREADS"), let requested = Int(text), requested >= 1 {
            return min(requested, processorCount)
        }
        return processorCount
    }()

    private static let poolConfigured: Void = {
        mf_pool_set_threads(Int32(defaultThreadCount))
    }()

    /// Worker count used by all kernels, the calling thread included (≥ 1). Setting it also sets
    /// OpenBLAS's thread count when OpenBLAS is loaded. Set it between parallel loops, not inside one.
    public static var threadCount: Int {
        get {
            _ = poolConfigured
            return Int(mf_pool_threads())
        }
        set {
            _ = poolConfigured
            let count = max(1, newValue)
            mf_pool_set_threads(Int32(count))
            if OpenBLAS.isLoaded { OpenBLAS.library?.setThreadCount(count) }
        }
    }

    /// Runs `body` with `threadCount` set to `count`, then restores the previous count. Scoped
    /// settings from different threads are serialised by one process-wide (recursive) lock, so
    /// concurrent callers (e.g. tests running in parallel that each compare 1 and 2 threads) never
    /// see each other's setting.
    public static func withThreadCount<Result>(_ count: Int, _ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(scopedSettingMutex)
        defer { pthread_mutex_unlock(scopedSettingMutex) }
        let original = threadCount
        threadCount = count
        defer { threadCount = original }
        return try body()
    }

    private static let scopedSettingMutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        return mutex
    }()

    /// Whether the calling thread is inside a `parallelFor` body (nested loops then run serially).
    public static var isInsideParallelLoop: Bool { mf_pool_in_task() != 0 }

    /// Runs `body(i)` for every i in 0..<count on the persistent pool, the calling thread included,
    /// and returns when all have finished. Indices are handed out dynamically: any index may run on
    /// any thread, in any order, so `body` must not depend on which thread runs it. Re-entrant calls
    /// (from inside `body`) and calls made while another thread's loop is running run serially.
    /// Overhead per call: well under a microsecond when the workers are awake.
    public static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 {
            body(0)
            return
        }
        _ = poolConfigured
        withoutActuallyEscaping(body) { escapingBody in
            var closure = escapingBody
            withUnsafeMutablePointer(to: &closure) { closurePointer in
                mf_pool_run(count, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, closurePointer)
            }
        }
    }
}
