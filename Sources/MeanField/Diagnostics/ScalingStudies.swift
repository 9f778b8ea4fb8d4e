import Foundation
import MeanFieldCore

/// Depth and weight-decay families of a sweep (theory §1.5 C1 and C2).
enum ScalingStudies {
    /// Each run of a depth family (same config except `layers`, same seed) against the deepest one,
    /// on the runs' own evaluation set (``EvaluationSample`` of `evalSize` samples):
    /// E_x |F_L(x) − F_ref(x)|² at initialization and at the last common checkpoint, each with its
    /// standard error, and the final risk gap. Theory (depth ODE, theory §1.5): the RMS depth error
    /// ∝ 1/L. Different depths draw independent particles (streams are per layer), so at small M the
    /// M^{-1/2} sampling error adds a floor; run depth families at large M.
    static func depthEntries(_ runs: [RunRecord], evalSize: Int = 0, skipped: inout [String]) -> [DiagnosticsReport.DepthEntry] {
        var entries: [DiagnosticsReport.DepthEntry] = []
        let varying = RunFamilies.varyingKeys(runs.map(\.config), excluding: ["layers", "seed"])
        for family in RunFamilies.groups(runs, varying: ["layers"], order: { Double($0.config.layers) }) {
            do {
                let label = RunFamilies.label(family[0].config, always: [family[0].config.model == .transformer ? "heads" : "units"], varying: varying)
                entries += try depthFamily(family, evalSize: evalSize).map { entry in
                    var entry = entry
                    entry.family = label
                    return entry
                }
            } catch {
                skipped.append("\(family.map(\.name).joined(separator: ", ")): no depth distances (\(error))")
            }
        }
        return entries
    }

    static func depthFamily(_ family: [RunRecord], evalSize: Int) throws -> [DiagnosticsReport.DepthEntry] {
        let reference = family.last!
        let probe = try ModelProbe(run: reference, evalSize: evalSize)
        let lossKey = reference.config.isImageTask ? "train_loss" : "R"
        let referenceInitial = probe.predictions(try reference.state(atStep: 0).store)
        var entries: [DiagnosticsReport.DepthEntry] = []
        for run in family.dropLast() where run.config.layers < reference.config.layers {
            let runProbe = try ModelProbe(config: run.config, sample: probe.sample,
                                          initial: run.config.gamma0 == nil ? nil : try run.state(atStep: 0).store)
            let common = Set(run.checkpoints.map(\.step)).intersection(reference.checkpoints.map(\.step)).max() ?? 0
            let initial = probe.distance(runProbe.predictions(try run.state(atStep: 0).store), referenceInitial)
            let final = probe.distance(runProbe.predictions(try run.state(atStep: common).store),
                                       probe.predictions(try reference.state(atStep: common).store))
            let gap = run.last(lossKey).flatMap { risk in reference.last(lossKey).map { abs(risk - $0) } } ?? .nan
            var entry = DiagnosticsReport.DepthEntry(run: run.name, reference: reference.name, layers: run.config.layers,
                                                     referenceLayers: reference.config.layers, heads: WidthStudy.width(run.config),
                                                     seed: Int(run.config.seed), initialFunctionDistance: initial.mean,
                                                     functionDistance: final.mean, riskGap: gap)
            entry.evalSamples = probe.sample.count
            entry.initialFunctionDistanceSE = initial.standardError
            entry.functionDistanceSE = final.standardError
            entries.append(entry)
        }
        return entries
    }

    /// Final Q and R of every run of a weight-decay family with λ > 0 (diverged runs left out).
    static func decayEntries(_ runs: [RunRecord]) -> [DiagnosticsReport.DecayEntry] {
        let runs = runs.filter { !$0.hasDiverged }
        let varying = RunFamilies.varyingKeys(runs.map(\.config), excluding: ["weight-decay", "seed"])
        return RunFamilies.groups(runs, varying: ["weight-decay"], order: { $0.config.weightDecay }).flatMap { family in
            family.compactMap { run -> DiagnosticsReport.DecayEntry? in
                guard run.config.weightDecay > 0, let q = run.last("Q"), let r = run.last("R") else { return nil }
                return .init(run: run.name, family: RunFamilies.label(run.config, always: [run.config.model == .transformer ? "heads" : "units"], varying: varying),
                             weightDecay: run.config.weightDecay, heads: run.config.heads, layers: run.config.layers,
                             seed: Int(run.config.seed), finalQ: q, finalR: r)
            }
        }
    }

    /// Fits, one per family (never pooled over families), each with its verdict: RMS depth error
    /// (initial and final) vs L (theory −1); final Q and R vs λ (theory 1, C2). `unfitted` gets one
    /// line per family that cannot be fitted.
    static func fits(depth: [DiagnosticsReport.DepthEntry], decay: [DiagnosticsReport.DecayEntry], unfitted: inout [String]) -> [DiagnosticsReport.Fit] {
        var fits: [DiagnosticsReport.Fit] = []
        func fitFamilies<Entry>(_ entries: [Entry], varying: String, family: (Entry) -> String, seed: (Entry) -> Int, x: (Entry) -> Double,
                                references: (Entry) -> String?, quantities: [(String, Double, (Entry) -> Double)], add: String) {
            var families: [String: [Entry]] = [:]
            var order: [String] = []
            for entry in entries {
                if families[family(entry)] == nil { order.append(family(entry)) }
                families[family(entry), default: []].append(entry)
            }
            for key in order {
                let members = families[key]!
                let xs = Array(Set(members.map(x))).sorted()
                guard xs.count >= 3 else {
                    unfitted.append("\(varying) fit (\(key)): \(xs.count) value\(xs.count == 1 ? "" : "s") of \(varying) (\(xs.map { MarkupText.number($0) }.joined(separator: ", "))); a slope with an interval needs 3: \(add)")
                    continue
                }
                let seeds = Array(Set(members.map(seed))).sorted()
                for (name, theory, value) in quantities {
                    let rows: [[Double]] = seeds.compactMap { s in
                        let row = xs.compactMap { position in members.first { seed($0) == s && x($0) == position }.map(value) }
                        return row.count == xs.count && row.allSatisfy({ $0 > 0 && $0.isFinite }) ? row : nil
                    }
                    guard !rows.isEmpty, let fit = try? LogLogFit.acrossSeeds(x: xs, ySeeds: rows) else {
                        unfitted.append("\(name) vs \(varying) (\(key)): no seed has a positive, finite value at every \(varying)")
                        continue
                    }
                    var entry = DiagnosticsReport.Fit(quantity: name, against: varying, family: key, slope: fit.slope, confidence95: fit.confidence95,
                                                      theory: theory, points: xs.count, seeds: rows.count,
                                                      references: Array(Set(members.compactMap(references))).sorted())
                    guard let verdict = try? entry.decide() else {
                        unfitted.append("\(name) vs \(varying) (\(key)): the fit's interval is not finite; no verdict")
                        continue
                    }
                    entry.verdict = verdict.kind.rawValue
                    fits.append(entry)
                }
            }
        }
        // The depth fit counts the depths below the reference (the deepest run).
        fitFamilies(depth, varying: "layers", family: \.family, seed: \.seed, x: { Double($0.layers) }, references: { $0.reference },
                    quantities: [("rms_depth_error_init", -1, { $0.initialFunctionDistance.squareRoot() }),
                                 ("rms_depth_error", -1, { $0.functionDistance.squareRoot() })],
                    add: "add depths below the deepest (the reference) to --layers")
        fitFamilies(decay, varying: "weight-decay", family: \.family, seed: \.seed, x: \.weightDecay, references: { _ in nil },
                    quantities: [("final_Q", 1, \.finalQ), ("final_R", 1, \.finalR)],
                    add: "add values λ > 0 to --weight-decay")
        return fits
    }
}
