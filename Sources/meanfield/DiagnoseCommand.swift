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
        with the knob to turn. Every model and task: the Transformer on in-context regression, the
        ViT and the ResNets on images (distances between logits, test-accuracy gap), the ResNets on
        teacher regression (--units families). Distances are averaged over the runs' own evaluation
        set, with their standard errors (see --eval-size). Every checkpointed run also gets its
        distance from the linearized model, ‖f − f_lin‖/‖f − f₀‖ (theory §1.7: ≈ 0 lazy, O(1) feature
        learning). `meanfield report DIR` draws the result.
        Example:
          meanfield sweep --heads 4,16,64 --seeds 3 --ffn-units 0 --out runs/e2 && meanfield diagnose runs/e2
        """)

    @Argument(help: "Sweep directory, folder of run directories, or run directory.")
    var directory: String

    @Option(name: .customLong("eval-size"), help: ArgumentHelp(
        "Samples of the runs' own evaluation set the distances average over: regression runs draw this many from their evaluation stream (exactly their eval_R prompts when it equals their --eval-size; a larger --eval-size of the run wins), image runs take this many of their test images (class-balanced with the run's seed; all when the test subset is smaller). 0 = each run's own set as it is.",
        valueName: "n"))
    var evalSize: Int = LimitDiagnostics.defaultEvalSize

    func validate() throws {
        let bound = TrainBound.size
        guard evalSize >= 0, evalSize <= bound.value else {
            throw ValidationError("--eval-size must be in 0...\(bound.value) (\(bound.reason)), got \(evalSize)")
        }
    }

    func run() throws {
        let report = try LimitDiagnostics.diagnose(directory, evalSize: evalSize)
        try report.write(to: directory)
        let text = LimitDiagnostics.describe(report)
        if !text.isEmpty { print(text) }
        print("Diagnostics: \(directory)/diagnostics.json (\(report.width.count) width, \(report.depth.count) depth, "
              + "\(report.decay.count) weight-decay, \(report.linearization.count) linearization entries; \(report.fits.count) fits; "
              + "\(report.signatures.count) signatures)")
    }
}
