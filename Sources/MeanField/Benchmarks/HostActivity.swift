import Foundation

/// What else the machine did while a benchmark ran: the CPU time the hypervisor gave to other guests
/// (steal) and the CPU time other processes used, from the aggregate `cpu` line of /proc/stat and this
/// process's own CPU time. A figure measured while either was large says more about the host than
/// about the code (the rule: benchmarks on an idle machine), so every `bench` command prints
/// this beside its figures and records it in its JSON (benchmarks/RESULTS.md).
public struct HostActivity: Codable, Sendable, Equatable {
    /// Fraction of all CPUs' time taken by the hypervisor for other guests (steal), 0…1.
    public var stealFraction: Double
    /// CPUs' worth of time used by other processes on this machine (busy time minus this process's).
    public var otherBusyCPUs: Double
    /// The 1-minute load average when the run started.
    public var loadBefore: Double
    /// Wall-clock seconds the interval lasted.
    public var seconds: Double

    /// Steal above 2% or other processes above 0.1 CPU: the figures of this run are not from an idle host.
    public var isBusy: Bool { stealFraction > 0.02 || otherBusyCPUs > 0.1 }

    /// One line for the text output.
    public var summary: String {
        String(format: "host during the run: steal %.1f%% of CPU time, other processes %.2f CPUs busy, load before %.2f", 100 * stealFraction,
               otherBusyCPUs, loadBefore)
            + (isBusy ? " — not idle: expect these figures to move by 25% or more between runs; compare binaries interleaved" : " (idle)")
    }

    /// The JSON object of the commands that build their output by hand (`bench train`, `bench metrics`),
    /// with the keys `JSONEncoder` gives the Codable form (`bench gemm`).
    public var jsonObject: [String: Double] {
        ["stealFraction": stealFraction, "otherBusyCPUs": otherBusyCPUs, "loadBefore": loadBefore, "seconds": seconds]
    }

    /// Counters at one instant.
    public struct Snapshot: Sendable {
        /// Jiffies of the aggregate `cpu` line: every column, and the busy (not idle, not iowait) and steal parts.
        var totalTicks: Double
        var busyTicks: Double
        var stealTicks: Double
        /// This process's CPU time (user + system), seconds.
        var processSeconds: Double
        var wallSeconds: Double
        var loadAverage: Double

        /// Reads /proc/stat and /proc/loadavg; nil where they do not exist (not Linux).
        public static func now() -> Snapshot? {
            guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
            let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
            var cpu = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu)
            return parse(stat: stat, loadavg: load, processSeconds: Double(cpu.tv_sec) + 1e-9 * Double(cpu.tv_nsec),
                         wallSeconds: Double(DispatchTime.now().uptimeNanoseconds) / 1e9)
        }

        /// The counters in /proc/stat's text (`cpu  user nice system idle iowait irq softirq steal …`).
        static func parse(stat: String, loadavg: String, processSeconds: Double, wallSeconds: Double) -> Snapshot? {
            guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
            let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            guard ticks.count >= 8 else { return nil }
            // guest and guest_nice (columns 9 and 10) are already counted in user and nice.
            let total = ticks.prefix(8).reduce(0, +)
            let idle = ticks[3] + ticks[4]
            return Snapshot(totalTicks: total, busyTicks: total - idle - ticks[7], stealTicks: ticks[7],
                            processSeconds: processSeconds, wallSeconds: wallSeconds,
                            loadAverage: loadavg.split(separator: " ").first.flatMap { Double($0) } ?? 0)
        }
    }

    /// The activity between two snapshots; `ticksPerSecond` is the kernel's USER_HZ (100 on Linux).
    public init?(from start: Snapshot, to end: Snapshot, ticksPerSecond: Double = 100) {
        let total = end.totalTicks - start.totalTicks
        guard total > 0 else { return nil }
        let seconds = end.wallSeconds - start.wallSeconds
        let busy = (end.busyTicks - start.busyTicks) / ticksPerSecond
        let ours = end.processSeconds - start.processSeconds
        stealFraction = (end.stealTicks - start.stealTicks) / total
        otherBusyCPUs = max(0, busy - ours) / max(seconds, 1e-9)
        loadBefore = start.loadAverage
        self.seconds = seconds
    }

    /// Runs `body` and returns its result with the host's activity meanwhile (nil where /proc is missing).
    public static func measure<Result>(_ body: () throws -> Result) rethrows -> (Result, HostActivity?) {
        let start = Snapshot.now()
        let result = try body()
        guard let start, let end = Snapshot.now() else { return (result, nil) }
        return (result, HostActivity(from: start, to: end))
    }
}
