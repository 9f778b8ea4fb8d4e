#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMeanFieldSupport

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

    /// The signals that ask a command to stop.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Unblocks `signals` in the calling thread (and so in the threads it starts). The signal mask
    /// is inherited through fork and exec: a launcher whose thread blocks them (a test runner's
    /// worker thread, a Python program's, measured with Foundation's Process) would start us with
    /// SIGTERM blocked, and a command that does not catch it would then run on to its end. Every
    /// command calls it first thing (``StopRequest`` too); ignored signals stay ignored (`nohup`).
    public static func unblock(signals: [Int32] = stopSignals) {
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The environment variable through which a sweep (``SweepRunner``) gives the runs it starts
    /// its pid, for ``endWithParent()``.
    public static let parentPIDVariable = "MEANFIELD_PARENT_PID"

    /// A run started by a sweep ends with the sweep, however the sweep ends (SIGKILL included).
    /// When ``parentPIDVariable`` is set (and then removed from the environment, so that this
    /// process's own children do not see it): on Linux the kernel is asked to send SIGTERM to this
    /// process when its parent ends (prctl PR_SET_PDEATHSIG; SIGTERM makes a run checkpoint and stop,
    /// ``StopRequest``), and if the parent has already ended, this process exits at once (128 +
    /// SIGTERM). Elsewhere it does nothing: the sweep forwards its stop signals to its runs. Call it
    /// first thing at start-up, from the main thread.
    public static func endWithParent() {
        guard let value = getenv(parentPIDVariable) else { return }
        let parent = Int32(String(cString: value)) ?? 0
        unsetenv(parentPIDVariable)
        guard parent > 1 else { return }
        #if os(Linux)
        _ = mf_set_parent_death_signal(SIGTERM)
        // Checked after the request: a parent that died before it was made is seen here.
        if getppid() != parent {
            let message = "meanfield: the sweep that started this run (pid \(parent)) has ended; not starting\n"
            _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
            exit(128 + SIGTERM)
        }
        #endif
    }

    /// The process's peak resident memory so far, in bytes. Linux: `VmHWM` of /proc/self/status, the
    /// high-water mark of this program's own address space. Not `getrusage`'s ru_maxrss there: exec
    /// carries the old address space's peak into it, and a process started by posix_spawn (which
    /// shares the parent's memory until exec) would report its parent's peak — a test runner's
    /// 200 MB, or 600 MB under a big Python process (measured). Elsewhere ru_maxrss (bytes on macOS).
    public static func peakMemoryBytes() -> Double {
        #if os(Linux)
        if let highWater = procKilobytes("VmHWM:", file: "/proc/self/status") { return highWater * 1024 }
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
        return Double(usage.ru_maxrss) * 1024
        #else
        var usage = rusage()
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return .nan }
        return Double(usage.ru_maxrss)
        #endif
    }

    /// The number on the line starting with `field` of a Linux /proc file of "Name:   N kB" lines
    /// (/proc/self/status, /proc/meminfo), or nil (no such file or line).
    static func procKilobytes(_ field: String, file path: String) -> Double? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            if text.hasPrefix(field) {
                let digits = text.dropFirst(field.count).filter { $0.isNumber }
                return Double(String(digits))
            }
        }
        return nil
    }
}
