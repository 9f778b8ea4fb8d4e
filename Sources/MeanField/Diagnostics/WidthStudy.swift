import Foundation
import MeanFieldCore

/// Propagation of chaos in width (theory §1.5 C1, experiment E2): finite-M runs against a coupled
/// large-M reference, for every model and task — the Transformer on in-context regression, the ViT
/// and the ResNets on images, the ResNets on teacher regression.
///
/// **Coupling.** Each parameter tensor is drawn from its own Philox stream in row-major order with
/// the particles on axis 0 (``MeanFieldTransformer/initialParameters(seed:as:)``,
/// ``MeanFieldResNet/initialParameters(seed:as:)``), so for one seed the initial particles of an
/// M-particle model are exactly the first M of the M_ref-particle model: the smaller run starts from
/// a subsample of the reference's initial sample, and differences measure the finite-M error, not
/// seed noise. Independent seeds give the error bars.
///
/// For each family (same config except the width — `heads` for Transformers, `units` for ResNets —
/// same seed) the widest run is the reference; every other run gets, on the runs' own evaluation set
/// (``EvaluationSample``; all members see the same samples): the squared function-space distance
/// E_x |F_M(x) − F_ref(x)|² (|·| over the C logits of an image run) with its standard error at every
/// common checkpoint, the risk gap |R_M(t) − R_ref(t)| (training loss for images) at the common logged
/// steps, the test-accuracy gap of image runs with its paired standard error, and per-layer distances
/// between the particle measures at the end. Theory: RMS function distance and risk gap ∝ M^{-1/2}.
enum WidthStudy {
    /// The key a width family varies for this config.
    static func widthKey(_ config: TrainConfig) -> String { config.model == .transformer ? "heads" : "units" }
    static func width(_ config: TrainConfig) -> Int { config.model == .transformer ? config.heads : config.units }

    static func entries(_ runs: [RunRecord], evalSize: Int = 0, skipped: inout [String],
                        particleDistances: (ParameterStore<Double>, ParameterStore<Double>, Int) -> (w2: Double, mmd: Double, sinkhorn: Double)) throws -> [DiagnosticsReport.WidthEntry] {
        var entries: [DiagnosticsReport.WidthEntry] = []
        for key in ["heads", "units"] {
            let members = runs.filter { widthKey($0.config) == key }
            let varying = RunFamilies.varyingKeys(members.map(\.config), excluding: [key, "seed"])
            for family in RunFamilies.groups(members, varying: [key], order: { Double(width($0.config)) }) {
                do {
                    var familyEntries = try familyEntries(family, key: key, evalSize: evalSize, particleDistances: particleDistances)
                    for index in familyEntries.indices { familyEntries[index].family = label(family[0].config, varying: varying) }
                    entries += familyEntries
                } catch {
                    skipped.append("\(family.map(\.name).joined(separator: ", ")): no width distances (\(error))")
                }
            }
        }
        return entries
    }

    static func familyEntries(_ family: [RunRecord], key: String, evalSize: Int,
                              particleDistances: (ParameterStore<Double>, ParameterStore<Double>, Int) -> (w2: Double, mmd: Double, sinkhorn: Double)) throws -> [DiagnosticsReport.WidthEntry] {
        let reference = family.last!
        let probe = try ModelProbe(run: reference, evalSize: evalSize)
        let lossKey = reference.config.isImageTask ? "train_loss" : "R"
        var referenceCache: [Int: [Double]] = [:]
        func referencePredictions(_ step: Int) throws -> [Double] {
            if let cached = referenceCache[step] { return cached }
            let value = probe.predictions(try reference.state(atStep: step).store)
            referenceCache[step] = value
            return value
        }
        var entries: [DiagnosticsReport.WidthEntry] = []
        for run in family.dropLast() where width(run.config) < width(reference.config) {
            let runProbe = try ModelProbe(config: run.config, sample: probe.sample,
                                          initial: run.config.gamma0 == nil ? nil : try run.state(atStep: 0).store)
            let common = [0] + Set(run.checkpoints.map(\.step)).intersection(reference.checkpoints.map(\.step)).sorted().filter { $0 > 0 }
            var curve = DiagnosticsReport.Curve()
            var finalPredictions: [Double] = []
            for step in common {
                let (store, time) = try run.state(atStep: step)
                finalPredictions = runProbe.predictions(store)
                let distance = probe.distance(finalPredictions, try referencePredictions(step))
                curve.t.append(time)
                curve.functionDistance.append(distance.mean)
                curve.functionDistanceSE.append(distance.standardError)
            }
            for record in run.metrics {
                guard let step = record["step"], let risk = record[lossKey], let time = record["t"],
                      let referenceRisk = reference.metrics.first(where: { $0["step"] == step })?[lossKey] else { continue }
                curve.riskGapT.append(time)
                curve.riskGap.append(abs(risk - referenceRisk))
            }
            let finalStep = common.last!
            let referenceFinal = try referencePredictions(finalStep)
            let finalStore = try run.state(atStep: finalStep).store, referenceStore = try reference.state(atStep: finalStep).store
            var w2: [Double] = [], mmd: [Double] = [], sinkhorn: [Double] = []
            for layer in 0..<run.config.layers {
                let distances = particleDistances(finalStore, referenceStore, layer)
                w2.append(distances.w2); mmd.append(distances.mmd); sinkhorn.append(distances.sinkhorn)
            }
            let C = Double(probe.outputsPerSample)
            var entry = DiagnosticsReport.WidthEntry(
                run: run.name, reference: reference.name, heads: width(run.config), referenceHeads: width(reference.config),
                layers: run.config.layers, seed: Int(run.config.seed), weightDecay: run.config.weightDecay, lr: run.config.lr,
                functionDistance: curve.functionDistance.last!,
                referenceMeanSquare: referenceFinal.reduce(0) { $0 + $1 * $1 } / Double(referenceFinal.count) * C,
                riskGap: curve.riskGap.last ?? .nan, particleSlicedW2: w2, particleMMD: mmd, particleSinkhorn: sinkhorn, curve: curve)
            entry.widthKey = key
            entry.task = run.config.task
            entry.evalSamples = probe.sample.count
            entry.functionDistanceSE = curve.functionDistanceSE.last!
            if run.config.isImageTask {
                let differences = zip(probe.correct(finalPredictions), probe.correct(referenceFinal)).map { Double($0 ? 1 : 0) - Double($1 ? 1 : 0) }
                (entry.accuracyGap, entry.accuracyGapSE) = meanAndStandardError(differences)
            }
            entries.append(entry)
        }
        return entries
    }

    /// The label of a width family: "layers=L" and every other setting that differs between the runs.
    static func label(_ config: TrainConfig, varying: [String]) -> String {
        RunFamilies.label(config, always: ["layers"], varying: varying)
    }

    /// Log-log fits of RMS function distance and risk gap against M, one per family (runs equal in
    /// every setting but the width and the seed; never pooled over families): slopes averaged over
    /// seeds with a Student-t interval (``LogLogFit/acrossSeeds(x:ySeeds:)``), each with its verdict
    /// (``SlopeVerdict``) and the family's references. `unfitted` gets one line per family that
    /// cannot be fitted, with what to add.
    static func fits(_ entries: [DiagnosticsReport.WidthEntry], unfitted: inout [String]) -> [DiagnosticsReport.Fit] {
        var families: [String: [DiagnosticsReport.WidthEntry]] = [:]
        var order: [String] = []
        for entry in entries {
            let key = entry.widthKey + "\u{1}" + entry.family
            if families[key] == nil { order.append(key) }
            families[key, default: []].append(entry)
        }
        var fits: [DiagnosticsReport.Fit] = []
        for key in order {
            let members = families[key]!
            let family = members[0].family, against = members[0].widthKey
            let widths = Array(Set(members.map(\.heads))).sorted()
            let seeds = Array(Set(members.map(\.seed))).sorted()
            let references = Array(Set(members.map(\.reference))).sorted()
            let referenceWidth = members.map(\.referenceHeads).max() ?? 0
            guard widths.count >= 3 else {
                unfitted.append("width fit (\(family)): \(widths.count) width\(widths.count == 1 ? "" : "s") below the reference M = \(referenceWidth) (M = \(widths.map(String.init).joined(separator: ", "))); a slope with an interval needs 3: add widths to --\(against)")
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
                    unfitted.append("\(name) vs \(against) (\(family)): no seed has a positive, finite value at every width")
                    continue
                }
                var entry = DiagnosticsReport.Fit(quantity: name, against: against, family: family, slope: fit.slope,
                                                  confidence95: fit.confidence95, theory: -0.5, points: widths.count, seeds: rows.count,
                                                  references: references)
                guard let verdict = try? entry.decide() else {
                    unfitted.append("\(name) vs \(against) (\(family)): the fit's interval is not finite; no verdict")
                    continue
                }
                entry.verdict = verdict.kind.rawValue
                fits.append(entry)
            }
        }
        return fits
    }
}
