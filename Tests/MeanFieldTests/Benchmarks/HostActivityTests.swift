// The host-activity line every `bench` command prints (Benchmarks/HostActivity.swift): steal and other
// processes' CPU time from two /proc/stat snapshots, checked on hand-written counters.
import Testing
@testable import MeanField

@Suite("Host activity during a benchmark")
struct HostActivityTests {
    static func snapshot(_ cpuLine: String, process: Double, wall: Double) -> HostActivity.Snapshot {
        HostActivity.Snapshot.parse(stat: cpuLine + "\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 5\n", loadavg: "1.25 0.50 0.25 2/100 42\n",
                                    processSeconds: process, wallSeconds: wall)!
    }

    @Test("steal and other processes' CPUs from two snapshots (hand-computed)")
    func busyHost() throws {
        // Columns: user nice system idle iowait irq softirq steal guest guest_nice (ticks of 10 ms).
        let start = Self.snapshot("cpu  100 0 50 1000 10 0 0 5 7 0", process: 3.0, wall: 10)
        let end = Self.snapshot("cpu  300 0 100 1100 10 0 0 45 9 0", process: 4.5, wall: 12)
        let activity = try #require(HostActivity(from: start, to: end))
        // Δtotal = 1555 − 1165 = 390 ticks (guest columns excluded), Δsteal = 40.
        #expect(abs(activity.stealFraction - 40.0 / 390.0) < 1e-12)
        // Δbusy = (1555 − 1110 − 45) − (1165 − 1010 − 5) = 250 ticks = 2.5 s; ours 1.5 s over 2 s of wall time.
        #expect(abs(activity.otherBusyCPUs - 0.5) < 1e-12)
        #expect(activity.loadBefore == 1.25 && activity.seconds == 2)
        #expect(activity.isBusy)
        #expect(activity.summary.contains("steal 10.3%") && activity.summary.contains("not idle"))
    }

    @Test("an idle host: only this process ran, no steal")
    func idleHost() throws {
        let start = Self.snapshot("cpu  100 0 50 1000 10 0 0 5 0 0", process: 3.0, wall: 10)
        let end = Self.snapshot("cpu  295 0 55 1200 10 0 0 5 0 0", process: 5.0, wall: 12)
        let activity = try #require(HostActivity(from: start, to: end))
        #expect(activity.stealFraction == 0)
        #expect(activity.otherBusyCPUs == 0)  // busy 2.0 s, all of it ours
        #expect(!activity.isBusy && activity.summary.hasSuffix("(idle)"))
    }

    @Test("text without an aggregate cpu line, or with too few columns, gives no snapshot")
    func malformed() {
        #expect(HostActivity.Snapshot.parse(stat: "cpu0 1 2 3 4 5 6 7 8\n", loadavg: "", processSeconds: 0, wallSeconds: 0) == nil)
        #expect(HostActivity.Snapshot.parse(stat: "cpu  1 2 3\n", loadavg: "", processSeconds: 0, wallSeconds: 0) == nil)
    }
}
