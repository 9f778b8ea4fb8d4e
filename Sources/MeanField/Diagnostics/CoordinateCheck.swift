import Foundation
import MeanFieldCore

/// Coordinate check: the size of every layer's residual stream H^{(ℓ)} at initialization and how
/// far it has moved after k updates, per (M, L). In the mean-field parameterization (1/M averages,
/// 1/L steps, flow scale L·M, theory §1.2–1.4) both stay O(1) as M and L grow: a column that grows
/// or vanishes with width or depth flags a parameterization bug or a step size that does not transfer.
enum CoordinateCheck {
    /// One entry per layer ℓ = 0 … L at step 0 (update 0) and at the first checkpoint after step 0,
    /// for the first seed of every (config without seed) in `runs`.
    static func entries(_ runs: [RunRecord]) throws -> [DiagnosticsReport.Coordinate] {
        var seen = Set<String>()
        var entries: [DiagnosticsReport.Coordinate] = []
        for run in runs.sorted(by: { $0.config.seed < $1.config.seed }) where !run.config.isImageTask {
            guard seen.insert(RunFamilies.key(run.config, excluding: ["seed"])).inserted,
                  let step = run.checkpoints.map(\.step).first(where: { $0 > 0 }) else { continue }
            let probe = try ModelProbe(config: run.config)
            let initial = probe.states(try run.state(atStep: 0).store)
            let later = probe.states(try run.state(atStep: step).store)
            for layer in 0..<initial.count {
                entries.append(.init(run: run.name, heads: run.config.heads, layers: run.config.layers, step: 0, layer: layer,
                                     activationRMS: ModelProbe.rms(initial[layer]), updateRMS: 0))
                entries.append(.init(run: run.name, heads: run.config.heads, layers: run.config.layers, step: step, layer: layer,
                                     activationRMS: ModelProbe.rms(later[layer]), updateRMS: ModelProbe.rms(later[layer] - initial[layer])))
            }
        }
        return entries
    }
}
