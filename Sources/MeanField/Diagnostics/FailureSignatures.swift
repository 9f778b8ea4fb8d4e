import Foundation
import MeanFieldCore

/// The failure signatures of theory §6, recognised in finished runs, each with the cause the run's
/// own data support and the knob to turn; one signature per (name, cause) covering every run that
/// shows it.
///
/// A plateau names a cause only on evidence from the run itself:
/// - **over-fitting** when the final evaluation loss (eval_R, or test_loss for images) is at least
///   ``overfitRatio`` × the final training loss;
/// - **decayed schedule** when the final learning rate (the last logged `lr`, else the schedule's
///   rate at the last step) is at most ``decayedFraction`` × the base rate;
/// - **weight decay** when λ > 0 and the penalty Q − R is at least ``penaltyShare`` of the final Q;
/// - **capacity** only when none of these holds (the line says what ruled them out).
enum FailureSignatures {
    /// A plateau: the risk ends above `plateauFloor` × its initial value and moved less than
    /// `plateauChange` (relative) over the last quarter of the run.
    static let plateauFloor = 0.05, plateauChange = 0.02
    /// Evidence thresholds for the causes of a plateau (see the type).
    static let overfitRatio = 1.5, decayedFraction = 0.05, penaltyShare = 0.1
    /// Distance growth: the last function distance exceeds `growthFactor` × its value at
    /// initialization and the run ends far from the reference — RMS distance above
    /// `relativeDistance` × the reference's RMS output. (Some growth is expected: the finite-M
    /// error bound grows like e^{Ct}/√M; a run that ends far from the limit is the failure.)
    static let growthFactor = 2.0, relativeDistance = 0.5

    /// One run's finding before grouping.
    private struct Finding {
        var name: String
        var cause: String
        var run: String
        var evidence: String
        var knob: String
    }

    static func detect(runs: [RunRecord], width: [DiagnosticsReport.WidthEntry]) -> [DiagnosticsReport.Signature] {
        var findings: [Finding] = []
        for run in runs {
            let lossKey = run.isImageRun ? "train_loss" : "R"
            if run.hasDiverged {
                let when = run.metrics.isEmpty ? ", before its first metrics line" : ""
                findings.append(.init(name: "divergence", cause: "", run: run.name,
                                      evidence: "η = \(number(run.config.lr)), λ = \(number(run.config.weightDecay))\(when)",
                                      knob: "lower --lr (the Euler step is beyond its stability bound) or raise --weight-decay to control growth"))
                continue
            }
            let series = run.metrics.compactMap { record in record[lossKey].map { (record["t"] ?? record["step"] ?? 0, $0) } }
            guard series.count >= 4, let initial = series.first?.1, let final = series.last?.1, initial > 0 else { continue }
            let quarter = series[(series.count * 3) / 4].1
            let change = abs(quarter - final) / max(abs(quarter), 1e-300)
            guard final > plateauFloor * initial && change < plateauChange else { continue }
            let seen = "\(lossKey) \(number(final)) = \(String(format: "%.0f", 100 * final / initial))% of its initial \(number(initial)), changed \(String(format: "%.2f", 100 * change))% over the last quarter"

            // Evidence for each cause, from this run's own metrics.
            var causes: [(cause: String, evidence: String, knob: String)] = []
            var ruledOut: [String] = []
            let evalKey = run.isImageRun ? "test_loss" : "eval_R"
            if let evaluation = run.last(evalKey), evaluation.isFinite, final > 0 {
                let ratio = evaluation / final
                if ratio >= overfitRatio {
                    causes.append(("over-fitting", "\(evalKey) \(number(evaluation)) = \(number(ratio))× \(lossKey)",
                                   run.isImageRun ? "more training data (drop --subset) or stop earlier; capacity is not what is missing"
                                                  : "a larger training set (--train-size, 0 = fresh prompts) or stop earlier; capacity is not what is missing"))
                } else {
                    ruledOut.append("\(evalKey)/\(lossKey) = \(number(ratio))")
                }
            } else {
                ruledOut.append("no \(evalKey) logged")
            }
            let base = run.config.lr
            let finalRate = run.last("lr") ?? run.config.learningRateSchedule.rate(atUpdate: max(0, run.config.steps - 1))
            if base > 0, finalRate <= decayedFraction * base {
                causes.append(("decayed schedule", "η ended at \(number(finalRate)) = \(String(format: "%.2g", 100 * finalRate / base))% of its base \(number(base)) (\(run.config.schedule.rawValue) schedule)",
                               "the schedule stopped the flow, not the model: raise --min-lr, use --schedule constant, or give more --steps before the decay"))
            } else if base > 0 {
                ruledOut.append("η at \(String(format: "%.0f", 100 * finalRate / base))% of its base rate")
            }
            if run.config.weightDecay > 0, let q = run.last("Q"), let r = run.last(lossKey), q > 0, q.isFinite {
                let share = (q - r) / q
                if share >= penaltyShare {
                    causes.append(("weight decay", "λ = \(number(run.config.weightDecay)): the penalty Q − \(lossKey) = \(number(q - r)) is \(String(format: "%.0f", 100 * share))% of Q",
                                   "λ may be too large for global convergence (C2): lower --weight-decay"))
                } else {
                    ruledOut.append("penalty \(String(format: "%.0f", 100 * share))% of Q")
                }
            } else {
                ruledOut.append(run.config.weightDecay > 0 ? "no Q logged" : "λ = 0")
            }
            if causes.isEmpty {
                let width = run.config.model == .transformer ? "--heads" : "--units"
                causes.append(("capacity", "no train–evaluation gap, no decayed rate, no dominant penalty: \(ruledOut.joined(separator: ", "))",
                               "raise \(width) and --layers (capacity), or --lr / --steps if the curve is still bending"))
            }
            for cause in causes {
                findings.append(.init(name: "plateau", cause: cause.cause, run: run.name, evidence: "\(seen); \(cause.evidence)", knob: cause.knob))
            }
        }
        for entry in width where entry.curve.functionDistance.count >= 2 {
            let first = entry.curve.functionDistance[0], last = entry.curve.functionDistance.last!
            let relative = (last / max(entry.referenceMeanSquare, 1e-300)).squareRoot()
            guard first > 0, last > growthFactor * first, relative > relativeDistance else { continue }
            let ratio = Double(entry.heads) / log(max(Double(entry.layers), M_E))
            findings.append(.init(name: "distance-growth", cause: "width for depth", run: entry.run,
                                  evidence: String(format: "%.3g → %.3g against the M = %d reference, ending at %.0f%% of its RMS output; M / log L = %.3g",
                                                   first, last, entry.referenceHeads, 100 * relative, ratio),
                                  knob: "the width is too small for the depth: raise --heads (the limit needs M / log L → ∞) or lower --layers"))
        }
        return group(findings)
    }

    /// One signature per (name, cause), in first-seen order, listing every run with its evidence.
    private static func group(_ findings: [Finding]) -> [DiagnosticsReport.Signature] {
        var order: [String] = []
        var grouped: [String: [Finding]] = [:]
        for finding in findings {
            let key = finding.name + "\u{1}" + finding.cause
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(finding)
        }
        return order.map { key in
            let members = grouped[key]!
            let first = members[0]
            let what: String
            switch first.name {
            case "divergence": what = "the flow diverged (NaN/Inf)"
            case "plateau": what = "the loss plateaus above zero"
            default: what = "the distance to the reference grows in time"
            }
            let count = members.count == 1 ? "1 run" : "\(members.count) runs"
            let message = "\(what) in \(count): " + members.map { "\($0.run) (\($0.evidence))" }.joined(separator: "; ")
            return DiagnosticsReport.Signature(name: first.name, cause: first.cause, runs: members.map(\.run), message: message, knob: first.knob)
        }
    }

    private static func number(_ value: Double) -> String { MarkupText.number(value, significantDigits: 3) }
}
