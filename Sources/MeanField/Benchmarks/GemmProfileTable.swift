import Foundation
import MeanFieldKernels

/// `meanfield bench train --gemm-profile`: the GEMMs of the timed training steps by shape — calls
/// and milliseconds per step, share of the GEMM time, and the rate each shape ran at inside the step
/// (which can be far below its rate alone in `bench gemm`: its operands come from memory, not cache).
/// "loop" marks products called inside a parallel loop (the per-head attention products): their
/// milliseconds are thread-milliseconds, their rate one thread's, against one core's peak.
public struct GemmProfileTable {
    /// One row: a shape's calls and time per step, its share of all GEMM time, its rate.
    public struct Row: Sendable {
        public var label: String
        /// "loop": called inside a parallel loop, so `milliseconds` are thread-milliseconds.
        public var insideParallelLoop: Bool
        public var callsPerStep: Double
        public var millisecondsPerStep: Double
        /// This shape's seconds ÷ all shapes' seconds.
        public var share: Double
        /// FLOPs ÷ seconds (one thread's rate for products inside a parallel loop).
        public var gflops: Double
        /// `gflops` ÷ the measured peak of the cores the product could use: one inside a parallel
        /// loop, all the step's threads outside one (the GEMM runs small products on one thread, so
        /// those read low on more than one thread).
        public var fractionOfPeak: Double
    }

    public let rows: [Row]
    /// All GEMM time per step, milliseconds (thread-milliseconds for products inside parallel loops).
    public let gemmMillisecondsPerStep: Double
    /// Mean wall time of the timed steps, milliseconds.
    public let stepMilliseconds: Double

    /// `entries` from `steps` timed steps on `threads` threads that took `stepMilliseconds` in all;
    /// `peakPerCore` in GFLOP/s.
    public init(entries: [GemmProfile.Entry], steps: Int, threads: Int, stepMilliseconds totalMilliseconds: Double, peakPerCore: Double) {
        let steps = Double(max(steps, 1))
        let total = entries.reduce(0) { $0 + $1.seconds }
        rows = entries.map { entry in
            let gflops = entry.seconds > 0 ? entry.flops / entry.seconds / 1e9 : 0
            return Row(label: entry.shape.label, insideParallelLoop: entry.shape.insideParallelLoop,
                       callsPerStep: Double(entry.calls) / steps, millisecondsPerStep: 1000 * entry.seconds / steps,
                       share: total > 0 ? entry.seconds / total : 0, gflops: gflops,
                       fractionOfPeak: peakPerCore > 0 ? gflops / (peakPerCore * Double(entry.shape.insideParallelLoop ? 1 : max(threads, 1))) : 0)
        }
        gemmMillisecondsPerStep = 1000 * total / steps
        stepMilliseconds = totalMilliseconds / steps
    }

    /// The table as printed under the step's row.
    public var text: String {
        var lines = ["  GEMM shape (op(A) op(B) m×n×k)      where   calls/step    ms/step   share   GFLOP/s     % peak"]
        for row in rows {
            lines.append("  " + row.label.padding(toLength: 34, withPad: " ", startingAt: 0)
                         + String(format: " %5@ %12.0f %10.2f %6.1f%% %9.1f %10.1f%%", (row.insideParallelLoop ? "loop" : "call") as NSString,
                                  row.callsPerStep, row.millisecondsPerStep, 100 * row.share, row.gflops, 100 * row.fractionOfPeak))
        }
        lines.append(String(format: "  GEMMs: %.2f ms per step (thread-ms inside parallel loops) of a %.2f ms mean step", gemmMillisecondsPerStep, stepMilliseconds))
        return lines.joined(separator: "\n")
    }

    /// The rows and totals for `--json`.
    public var jsonObject: [String: Any] {
        ["gemm_ms_per_step": gemmMillisecondsPerStep, "step_ms": stepMilliseconds,
         "shapes": rows.map { ["shape": $0.label, "inside_parallel_loop": $0.insideParallelLoop, "calls_per_step": $0.callsPerStep,
                               "ms_per_step": $0.millisecondsPerStep, "share": $0.share, "gflops": $0.gflops,
                               "fraction_of_peak": $0.fractionOfPeak] as [String: Any] }]
    }
}
