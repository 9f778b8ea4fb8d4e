#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide settings a training run wants before it allocates anything.
public enum ProcessSetup {
    /// Keeps freed tensor buffers in the heap for reuse. glibc returns blocks above its mmap
    /// threshold (128 KiB, adapting up to 32 MiB) to the kernel on free, so a training step that
    /// allocates its activations anew pays a page fault and a zeroed page for every 4 KiB, every
    /// step (measured: ~30% of a demo step). Raising the mmap and trim thresholds makes such blocks
    /// come from, and go back to, the heap. No effect outside glibc.
    public static func reuseLargeAllocations() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which Swift's Glibc module does not import: look it up.
        guard let symbol = dlsym(nil, "mallopt") else { return }
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let trimThreshold: Int32 = -1, topPad: Int32 = -2, mmapThreshold: Int32 = -3  // <malloc.h>
        _ = mallopt(mmapThreshold, 1 << 30)
        _ = mallopt(trimThreshold, Int32.max)
        _ = mallopt(topPad, 64 << 20)
        #endif
    }

    /// The process's peak resident memory so far, in bytes (`getrusage`'s ru_maxrss: KiB on Linux,
    /// bytes on macOS).
    public static func peakMemoryBytes() -> Double {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
        return Double(usage.ru_maxrss) * 1024
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return .nan }
        return Double(usage.ru_maxrss)
        #endif
    }
}
