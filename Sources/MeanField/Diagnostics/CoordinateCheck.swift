import Foundation
import MeanFieldCore

/// Coordinate check: the size of every layer's residual stream H^{(ℓ)} at initialization and how
/// far it has moved after k updates, per family. In the mean-field parameterization (1/M averages,
/// 1/L^α steps, flow scale L^(2α−1)·M, theory §1.2–1.4, §1.6) both stay O(1) as M and L grow: a layer whose size
/// grows or vanishes with width or depth is mis-scaled (a parameterization bug, or a step size that
/// does not transfer).
///
/// **Families.** Over width: runs equal in every setting but `heads` and the seed; over depth: but
/// `layers` and the seed. Never pooled over other settings.
///
/// **Steps.** Step 0 and the first and last checkpoint steps that every run of the family has (so
/// every point of a fit is at the same step, hence the same mean-field time); a family without a
/// common checkpoint after step 0 gets activations at step 0 only, and says so.
///
/// **Layers.** Width families: every layer ℓ = 0 … L (ℓ = 0 is the input tokens; its update is 0
/// and is not fitted). Depth families compare the layers at the same relative depth ℓ/L, so they
/// check the fractions ℓ/L that every depth of the family has (0 and 1 always; ½ when every L is even).
///
/// **Verdict.** Per position, quantity and step: the log-log slope against M (or L) across seeds
/// (``LogLogFit/acrossSeeds(x:ySeeds:)``, at least 3 widths or depths) and its ``SlopeVerdict``
/// with theory flat, 0 ± ¼ (``DiagnosticsReport/CoordinateFit/flatMargin``: finite-width
/// corrections are not a scaling), and alternative ±½ (the 1/√M mis-scaling) on the slope's side. A position with
/// any inconsistent slope is named mis-scaled; the first one named is where the scaling breaks
/// (later layers inherit it through the residual stream).
enum CoordinateCheck {
    struct Result {
        var entries: [DiagnosticsReport.Coordinate] = []
        var fits: [DiagnosticsReport.CoordinateFit] = []
        var families: [DiagnosticsReport.CoordinateFamily] = []
    }

    /// The coordinate check of every width and depth family in `runs` (checkpointed Transformer
    /// regression runs that did not diverge).
    static func run(_ runs: [RunRecord]) throws -> Result {
        var result = Result()
        var cache: [String: (activation: [Double], update: [Double])] = [:]
        func measure(_ run: RunRecord, _ step: Int) throws -> (activation: [Double], update: [Double]) {
            let key = run.path + "#\(step)"
            if let cached = cache[key] { return cached }
            let probe = try ModelProbe(config: run.config)
            let initial = probe.states(try run.state(atStep: 0).store)
            let later = step == 0 ? initial : probe.states(try run.state(atStep: step).store)
            let value = (later.map(ModelProbe.rms), zip(later, initial).map { ModelProbe.rms($0 - $1) })
            cache[key] = value
            return value
        }
        for against in ["heads", "layers"] {
            let varying = RunFamilies.varyingKeys(runs.map(\.config), excluding: [against, "seed"])
            let size: (RunRecord) -> Int = { against == "heads" ? $0.config.heads : $0.config.layers }
            for members in RunFamilies.groups(runs, varying: [against, "seed"], order: { Double(size($0)) }) {
                let label = RunFamilies.label(members[0].config, always: [against == "heads" ? "layers" : "heads"], varying: varying)
                let sizes = Array(Set(members.map(size))).sorted()
                let seeds = Array(Set(members.map { Int($0.config.seed) })).sorted()
                // Steps every run has a checkpoint at (step 0 is always there: it is regenerated from the seed).
                var common = Set(members[0].checkpoints.map(\.step))
                for run in members.dropFirst() { common.formIntersection(run.checkpoints.map(\.step)) }
                let later = common.filter { $0 > 0 }.sorted()
                let steps = [0] + Array(Set([later.first, later.last].compactMap { $0 })).sorted()
                var notes: [String] = []
                if later.isEmpty { notes.append("no checkpoint after step 0 is common to every run of the family, so updates are not measured") }

                // Positions: (layer index in each run, label fraction). Width: every layer; depth: common ℓ/L.
                typealias Position = (layer: Int, fraction: Double, numerator: Int, denominator: Int)
                var positions: [Position] = []
                let selection: String
                if against == "heads" {
                    let depth = members[0].config.layers
                    positions = (0...depth).map { ($0, Double($0) / Double(max(1, depth)), $0, depth) }
                    selection = "every layer ℓ = 0…\(depth) (ℓ = 0 is the input; its update is 0 and not fitted)"
                } else {
                    func reduced(_ a: Int, _ b: Int) -> [Int] {
                        var (x, y) = (a, b)
                        while y != 0 { (x, y) = (y, x % y) }
                        return [a / max(1, x), b / max(1, x)]
                    }
                    var fractions = Set((0...sizes[0]).map { reduced($0, sizes[0]) })
                    for depth in sizes.dropFirst() { fractions.formIntersection((0...depth).map { reduced($0, depth) }) }
                    let sorted = fractions.sorted { Double($0[0]) / Double($0[1]) < Double($1[0]) / Double($1[1]) }
                    positions = sorted.map { (-1, Double($0[0]) / Double($0[1]), $0[0], $0[1]) }
                    let names = sorted.map { $0[0] == 0 ? "0" : $0[0] == $0[1] ? "1" : "\($0[0])/\($0[1])" }
                    selection = "the layers at relative depth ℓ/L ∈ {\(names.joined(separator: ", "))}, the fractions every depth L = \(sizes.map(String.init).joined(separator: ", ")) has"
                }

                // Entries: every run, every measured step, every layer.
                for run in members {
                    for step in steps where step == 0 || !later.isEmpty {
                        let sizesOfRun = try measure(run, step)
                        for layer in sizesOfRun.activation.indices {
                            result.entries.append(.init(run: run.name, family: label, against: against, seed: Int(run.config.seed),
                                                        heads: run.config.heads, layers: run.config.layers, step: step, layer: layer,
                                                        activationRMS: sizesOfRun.activation[layer], updateRMS: sizesOfRun.update[layer]))
                        }
                    }
                }

                // Fits per position, quantity and step.
                var misScaled: [String] = [], inconclusive: [String] = []
                if sizes.count < 3 {
                    notes.append("\(sizes.count) value\(sizes.count == 1 ? "" : "s") of \(against == "heads" ? "M" : "L"): a slope with an interval needs 3, so no verdict")
                } else {
                    for position in positions {
                        var positionKinds: [SlopeVerdict.Kind] = []
                        var name = ""
                        for (quantity, fittedSteps) in [("activation_rms", steps), ("update_rms", later.isEmpty ? [] : steps.filter { $0 > 0 })] {
                            for step in fittedSteps {
                                let rows: [[Double]] = try seeds.compactMap { seed in
                                    let row: [Double] = try sizes.compactMap { value in
                                        guard let run = members.first(where: { size($0) == value && Int($0.config.seed) == seed }) else { return nil }
                                        let layer = position.layer >= 0 ? position.layer : position.numerator * (value / position.denominator)
                                        let measured = try measure(run, step)
                                        return quantity == "activation_rms" ? measured.activation[layer] : measured.update[layer]
                                    }
                                    return row.count == sizes.count && row.allSatisfy({ $0 > 0 && $0.isFinite }) ? row : nil
                                }
                                guard !rows.isEmpty, let fit = try? LogLogFit.acrossSeeds(x: sizes.map(Double.init), ySeeds: rows) else { continue }
                                var entry = DiagnosticsReport.CoordinateFit(family: label, against: against, quantity: quantity, layer: position.layer,
                                                                            depthFraction: position.fraction, step: step, slope: fit.slope,
                                                                            confidence95: fit.confidence95, points: sizes.count, seeds: rows.count, verdict: "")
                                name = entry.position
                                guard let verdict = try? entry.decide() else { continue }
                                entry.verdict = verdict.kind.rawValue
                                positionKinds.append(verdict.kind)
                                result.fits.append(entry)
                            }
                        }
                        if positionKinds.contains(.inconsistent) { misScaled.append(name) }
                        else if positionKinds.contains(.inconclusive) { inconclusive.append(name) }
                    }
                }
                result.families.append(.init(family: label, against: against, runs: members.map(\.name), steps: later.isEmpty ? [0] : steps,
                                             selection: selection, misScaled: misScaled, inconclusive: inconclusive,
                                             note: notes.joined(separator: "; ")))
            }
        }
        return result
    }

    /// The verdict of a family in one line: which layers are mis-scaled (or that all are flat).
    static func summary(_ family: DiagnosticsReport.CoordinateFamily) -> String {
        let axis = family.against == "heads" ? "M" : "L"
        let head = "coordinate check over \(axis) (\(family.family); steps \(family.steps.map(String.init).joined(separator: ", ")))"
        if !family.misScaled.isEmpty {
            return "\(head): mis-scaled: \(family.misScaled.joined(separator: ", ")) (size not flat in \(axis); the first is where the scaling breaks, later layers inherit it)"
                + (family.inconclusive.isEmpty ? "" : "; inconclusive: \(family.inconclusive.joined(separator: ", "))")
        }
        if !family.inconclusive.isEmpty {
            return "\(head): no layer shown mis-scaled; inconclusive: \(family.inconclusive.joined(separator: ", ")) (add seeds or sizes)"
        }
        if !family.note.isEmpty && family.note.contains("no verdict") { return "\(head): \(family.note)" }
        return "\(head): every checked layer is flat in \(axis), as mean-field scaling predicts"
    }
}
