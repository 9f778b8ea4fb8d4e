import Foundation
import MeanFieldCore

/// The failure signatures of theory §6, recognised in finished runs, each with the knob to turn.
enum FailureSignatures {
    /// A plateau: the risk ends above `plateauFloor` × its initial value and moved less than
    /// `plateauChange` (relative) over the last quarter of the run.
    static let plateauFloor = 0.05, plateauChange = 0.02
    /// Distance growth: the last function distance exceeds `growthFactor` × its value at
    /// initialization and the run ends far from the reference — RMS distance above
    /// `relativeDistance` × the reference's RMS output. (Some growth is expected: the finite-M
    /// error bound grows like e^{Ct}/√M; a run that ends far from the limit is the failure.)
    static let growthFactor = 2.0, relativeDistance = 0.5

    static func detect(runs: [RunRecord], width: [DiagnosticsReport.WidthEntry]) -> [DiagnosticsReport.Signature] {
        var found: [DiagnosticsReport.Signature] = []
        for run in runs {
            let lossKey = run.config.isImageTask ? "train_loss" : "R"
            if run.status == "diverged" || run.metrics.contains(where: { !($0[lossKey] ?? 0).isFinite }) {
                let when = run.metrics.isEmpty ? " before its first metrics line" : ""
                found.append(.init(name: "divergence", run: run.name,
                                   message: "the flow diverged (NaN/Inf)\(when) at η = \(run.config.lr), λ = \(run.config.weightDecay)",
                                   knob: "lower --lr (the Euler step is beyond its stability bound) or raise --weight-decay to control growth"))
                continue
            }
            let series = run.metrics.compactMap { record in record[lossKey].map { (record["t"] ?? record["step"] ?? 0, $0) } }
            guard series.count >= 4, let initial = series.first?.1, let final = series.last?.1, initial > 0 else { continue }
            let quarter = series[(series.count * 3) / 4].1
            let change = abs(quarter - final) / max(abs(quarter), 1e-300)
            if final > plateauFloor * initial && change < plateauChange {
                let decay = run.config.weightDecay
                let width = run.config.model == .transformer ? "--heads" : "--units"
                let knob = decay > 0
                    ? "λ = \(decay) may be too large for global convergence (C2): lower --weight-decay, or raise \(width)/--layers"
                    : "raise \(width) and --layers (capacity), or --lr / --steps if the curve is still bending"
                found.append(.init(name: "plateau", run: run.name,
                                   message: String(format: "%@ plateaus at %.3g (%.1f%% of its initial %.3g; changed %.2f%% over the last quarter)",
                                                   lossKey, final, 100 * final / initial, initial, 100 * change),
                                   knob: knob))
            }
        }
        for entry in width where entry.curve.functionDistance.count >= 2 {
            let first = entry.curve.functionDistance[0], last = entry.curve.functionDistance.last!
            let relative = (last / max(entry.referenceMeanSquare, 1e-300)).squareRoot()
            guard first > 0, last > growthFactor * first, relative > relativeDistance else { continue }
            let ratio = Double(entry.heads) / log(max(Double(entry.layers), M_E))
            found.append(.init(name: "distance-growth", run: entry.run,
                               message: String(format: "distance to the M = %d reference grows in time (%.3g → %.3g) and ends at %.0f%% of the reference's RMS output; M / log L = %.3g",
                                               entry.referenceHeads, first, last, 100 * relative, ratio),
                               knob: "the width is too small for the depth: raise --heads (the limit needs M / log L → ∞) or lower --layers"))
        }
        return found
    }
}
