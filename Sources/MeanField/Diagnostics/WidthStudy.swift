import Foundation
import MeanFieldCore

/// Propagation of chaos in width (theory §1.5 C1, experiment E2): finite-M runs against a coupled
/// large-M reference.
///
/// **Coupling.** ``MeanFieldTransformer/initialParameters(seed:as:)`` draws each parameter tensor
/// from its own Philox stream in row-major order with the heads on axis 0, so for one seed the
/// initial heads of an M-head model are exactly the first M heads of the M_ref-head model: the
/// smaller run starts from a subsample of the reference's initial sample, and differences measure
/// the finite-M error, not seed noise. Independent seeds give the error bars.
///
/// For each family (same config except `heads`, same seed) the run with the most heads is the
/// reference; every other run gets: the squared function-space distance E_x |F_M(x) − F_ref(x)|²
/// on the evaluation prompts (at every common checkpoint), the risk gap |R_M(t) − R_ref(t)| at the
/// common logged steps, and per-layer distances between the head particle measures at the end.
/// Theory: RMS function distance and risk gap ∝ M^{-1/2}.
enum WidthStudy {
    static func entries(_ runs: [RunRecord], particleDistances: (ParameterStore<Double>, ParameterStore<Double>, Int) -> (w2: Double, mmd: Double, sinkhorn: Double)) throws -> [DiagnosticsReport.WidthEntry] {
        var entries: [DiagnosticsReport.WidthEntry] = []
        let varying = RunFamilies.varyingKeys(runs.map(\.config), excluding: ["heads", "seed"])
        for family in RunFamilies.groups(runs, varying: ["heads"], order: { Double($0.config.heads) }) {
            let reference = family.last!
            let probe = try ModelProbe(config: reference.config)
            var referenceCache: [Int: [Double]] = [:]
            func referencePredictions(_ step: Int) throws -> [Double] {
                if let cached = referenceCache[step] { return cached }
                let value = probe.predictions(try reference.state(atStep: step).store)
                referenceCache[step] = value
                return value
            }
            for run in family.dropLast() where run.config.heads < reference.config.heads {
                let runProbe = try ModelProbe(config: run.config)
                let common = [0] + Set(run.checkpoints.map(\.step)).intersection(reference.checkpoints.map(\.step)).sorted().filter { $0 > 0 }
                var curve = DiagnosticsReport.Curve()
                for step in common {
                    let (store, time) = try run.state(atStep: step)
                    curve.t.append(time)
                    curve.functionDistance.append(ModelProbe.squaredDistance(runProbe.predictions(store), try referencePredictions(step)))
                }
                for record in run.metrics {
                    guard let step = record["step"], let risk = record["R"], let time = record["t"],
                          let referenceRisk = reference.risk(atStep: Int(step)) else { continue }
                    curve.riskGapT.append(time)
                    curve.riskGap.append(abs(risk - referenceRisk))
                }
                let finalStep = common.last!
                let finalStore = try run.state(atStep: finalStep).store, referenceStore = try reference.state(atStep: finalStep).store
                var w2: [Double] = [], mmd: [Double] = [], sinkhorn: [Double] = []
                for layer in 0..<run.config.layers {
                    let distances = particleDistances(finalStore, referenceStore, layer)
                    w2.append(distances.w2); mmd.append(distances.mmd); sinkhorn.append(distances.sinkhorn)
                }
                entries.append(.init(run: run.name, reference: reference.name, family: label(run.config, varying: varying),
                                     heads: run.config.heads, referenceHeads: reference.config.heads,
                                     layers: run.config.layers, seed: Int(run.config.seed), weightDecay: run.config.weightDecay,
                                     lr: run.config.lr, functionDistance: curve.functionDistance.last!,
                                     referenceMeanSquare: try referencePredictions(finalStep).reduce(0) { $0 + $1 * $1 } / Double(probe.targets.count),
                                     riskGap: curve.riskGap.last ?? .nan, particleSlicedW2: w2, particleMMD: mmd,
                                     particleSinkhorn: sinkhorn, curve: curve))
            }
        }
        return entries
    }

    /// The label of a width family: "layers=L" and every other setting that differs between the runs.
    static func label(_ config: TrainConfig, varying: [String]) -> String {
        RunFamilies.label(config, always: ["layers"], varying: varying)
    }

    /// Log-log fits of RMS function distance and risk gap against M, one per family (runs equal in
    /// every setting but M and the seed; never pooled over families): slopes averaged over seeds
    /// with a Student-t interval (``LogLogFit/acrossSeeds(x:ySeeds:)``), each with its verdict
    /// (``SlopeVerdict``) and the family's references. `unfitted` gets one line per family that
    /// cannot be fitted, with what to add.
    static func fits(_ entries: [DiagnosticsReport.WidthEntry], unfitted: inout [String]) -> [DiagnosticsReport.Fit] {
        var families: [String: [DiagnosticsReport.WidthEntry]] = [:]
        var order: [String] = []
        for entry in entries {
            if families[entry.family] == nil { order.append(entry.family) }
            families[entry.family, default: []].append(entry)
        }
        var fits: [DiagnosticsReport.Fit] = []
        for key in order {
            let members = families[key]!
            let widths = Array(Set(members.map(\.heads))).sorted()
            let seeds = Array(Set(members.map(\.seed))).sorted()
            let references = Array(Set(members.map(\.reference))).sorted()
            let referenceHeads = members.map(\.referenceHeads).max() ?? 0
            guard widths.count >= 3 else {
                unfitted.append("width fit (\(key)): \(widths.count) width\(widths.count == 1 ? "" : "s") below the reference M = \(referenceHeads) (M = \(widths.map(String.init).joined(separator: ", "))); a slope with an interval needs 3: add widths to --heads")
                continue
            }
            let quantities: [(String, (DiagnosticsReport.WidthEntry) -> Double)] = [
                ("rms_function_distance", { $0.functionDistance.squareRoot() }), ("risk_gap", { $0.riskGap }),
            ]
            for (name, value) in quantities {
                // Seeds that have every width and positive values (a log-log fit needs them).
                let rows: [[Double]] = seeds.compactMap { seed in
                    let row = widths.compactMap { width in members.first { $0.seed == seed && $0.heads == width }.map(value) }
                    return row.count == widths.count && row.allSatisfy({ $0 > 0 && $0.isFinite }) ? row : nil
                }
                guard !rows.isEmpty, let fit = try? LogLogFit.acrossSeeds(x: widths.map(Double.init), ySeeds: rows) else {
                    unfitted.append("\(name) vs heads (\(key)): no seed has a positive, finite value at every width")
                    continue
                }
                var entry = DiagnosticsReport.Fit(quantity: name, against: "heads", family: key, slope: fit.slope,
                                                  confidence95: fit.confidence95, theory: -0.5, points: widths.count, seeds: rows.count,
                                                  references: references)
                guard let verdict = try? entry.decide() else {
                    unfitted.append("\(name) vs heads (\(key)): the fit's interval is not finite; no verdict")
                    continue
                }
                entry.verdict = verdict.kind.rawValue
                fits.append(entry)
            }
        }
        return fits
    }
}
