import ArgumentParser
import Foundation
import MeanField

/// `meanfield diagnose DIR`: limit diagnostics of a sweep (theory §1.5 C1–C2, §6 signatures).
struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute limit diagnostics of a sweep and write DIR/diagnostics.json.",
        discussion: """
        Reads the runs of a sweep directory (DIR/runs/*), a folder of run directories, or one run.
        Width families (same config except --heads, same seed) are compared with their largest-M
        run, which shares the initial sample (coupled runs): function-space distance
        E_x|F_M − F_ref|² over mean-field time, risk gap, and per-layer sliced W2, MMD and Sinkhorn
        distances between head particles; depth families (--layers) with the deepest run;
        weight-decay families give final Q and R vs λ. Log-log slopes come with 95% intervals
        across seeds (theory: −1/2 in M, −1 in L, +1 in λ). Also a per-layer coordinate check and
        the failure signatures of theory §6 (plateau, distance growing in time, divergence), each
        with the knob to turn. `meanfield report DIR` draws the result.
        Example:
          meanfield sweep --heads 4,16,64 --seeds 3 --ffn-units 0 --out runs/e2 && meanfield diagnose runs/e2
        """)

    @Argument(help: "Sweep directory, folder of run directories, or run directory.")
    var directory: String

    func run() throws {
        let report = try LimitDiagnostics.diagnose(directory)
        try report.write(to: directory)
        let text = LimitDiagnostics.describe(report)
        if !text.isEmpty { print(text) }
        print("Diagnostics: \(directory)/diagnostics.json (\(report.width.count) width, \(report.depth.count) depth, "
              + "\(report.decay.count) weight-decay entries; \(report.fits.count) fits; \(report.signatures.count) signatures)")
    }
}
