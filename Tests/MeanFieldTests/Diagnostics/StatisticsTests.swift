// Statistics that do not mislead (issue 15, item 3): the one verdict rule on intervals that hold,
// exclude and straddle the theory's slope (NaN and empty intervals are errors); fits per family on
// hand-built sweep folders with two η families (the pooled fit would differ); diverged runs out of
// fits and axis ranges; the sweep's warning about fits its grid cannot give; the coordinate
// check's per-layer verdict on a hand-built model with one mis-scaled layer; failure signatures
// that name a cause only on the run's own evidence.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func folder(_ name: String) -> String {
    NSTemporaryDirectory() + "meanfield-statistics-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))"
}

private func baseConfig(heads: Int = 2, layers: Int = 2, seed: UInt64 = 0) -> TrainConfig {
    var config = TrainConfig()
    config.heads = heads
    config.ffnUnits = 0
    config.layers = layers
    config.seed = seed
    config.lr = 0.02
    config.steps = 20
    config.logEvery = 5
    config.checkpointEvery = 10
    config.evalSize = 16
    return config
}

/// A run folder by hand: config.json, metrics.jsonl, summary.json (status only).
private func writeRun(_ path: String, config: TrainConfig, records: [[String: Double]], status: String) throws {
    let directory = try RunDirectory(path: path)
    try directory.writeConfig(try config.resolved(defaultThreads: 1))
    for record in records { try directory.appendMetrics(numbers: record) }
    try "{\"status\":\"\(status)\"}".write(toFile: path + "/summary.json", atomically: true, encoding: .utf8)
}

/// sweep.json for runs named in `runs` (name → grid flags).
private func writeSweep(_ root: String, grid: [String: [String]], runs: [(name: String, flags: [String: String])]) throws {
    let object: [String: Any] = ["grid": grid, "fixed": [:] as [String: String],
                                 "runs": runs.map { ["name": $0.name, "flags": $0.flags] }]
    try JSONSerialization.data(withJSONObject: object, options: .sortedKeys).write(to: URL(fileURLWithPath: root + "/sweep.json"))
}

@Suite struct VerdictTests {
    func kind(_ low: Double, _ high: Double, theory: Double, alternative: Double = 0) throws -> SlopeVerdict.Kind {
        try SlopeVerdict.decide(slope: (low + high) / 2, confidence95: [low, high], theory: theory, alternative: alternative, points: 4, seeds: 3).kind
    }

    @Test func intervalsThatHoldExcludeOrStraddle() throws {
        // Holds −½ and excludes 0.
        #expect(try kind(-0.56, -0.44, theory: -0.5) == .consistent)
        // Holds −½ but also 0 (the issue's [−2.8, 1.9]): not a confirmation.
        #expect(try kind(-2.8, 1.9, theory: -0.5) == .inconclusive)
        // Excludes 1 and 0 (E3's 0.77 [0.72, 0.81]).
        #expect(try kind(0.72, 0.81, theory: 1) == .inconsistent)
        // Excludes −½, holds 0, and is narrower than ½: a flat line, measured precisely.
        #expect(try kind(-0.2, 0.2, theory: -0.5) == .inconsistent)
        // Misses −½ by a hair but is wide and holds 0: too wide to tell.
        #expect(try kind(-0.45, 3, theory: -0.5) == .inconclusive)
        // The wrong sign, excluding 0.
        #expect(try kind(0.5, 3, theory: -0.5) == .inconsistent)
        // An exact power law (zero-width interval) at the theory's slope.
        #expect(try kind(1, 1, theory: 1) == .consistent)
        #expect(try kind(1 - 1e-12, 1 - 1e-12, theory: 1) == .consistent)
        // The coordinate check: theory flat (0 ± ¼), the alternative the ±½ mis-scaling.
        func flat(_ low: Double, _ high: Double) throws -> SlopeVerdict.Kind {
            try SlopeVerdict.decide(slope: (low + high) / 2, confidence95: [low, high], theory: 0, margin: 0.25,
                                    alternative: low + high < 0 ? -0.5 : 0.5, points: 4).kind
        }
        #expect(try flat(-0.05, 0.07) == .consistent)
        #expect(try flat(0.03, 0.07) == .consistent)        // a finite-width correction, not a scaling
        #expect(try flat(0.45, 0.55) == .inconsistent)
        #expect(try flat(0.3, 0.6) == .inconsistent)        // misses the band, narrower than ½
        #expect(try flat(-1.1, -0.9) == .inconsistent)      // a 1/M mis-scaling the other way
        #expect(try flat(-0.4, 0.9) == .inconclusive)
        #expect(try flat(0.2, 0.55) == .inconclusive)       // meets the band and holds ½
        #expect(throws: RunError.self) { try SlopeVerdict.decide(slope: 0, confidence95: [0, 0], theory: 0, margin: 0.5, alternative: 0.5, points: 3) }
    }

    @Test func nanOrEmptyIntervalsAreErrorsNotVerdicts() {
        #expect(throws: RunError.self) { try kind(.nan, 0.5, theory: -0.5) }
        #expect(throws: RunError.self) { try kind(-0.5, .infinity, theory: -0.5) }
        #expect(throws: RunError.self) { try SlopeVerdict.decide(slope: 0, confidence95: [0.3, -0.3], theory: -0.5, points: 3) }
        #expect(throws: RunError.self) { try SlopeVerdict.decide(slope: 0, confidence95: [], theory: -0.5, points: 3) }
        #expect(throws: RunError.self) { try SlopeVerdict.decide(slope: .nan, confidence95: [-1, 1], theory: -0.5, points: 3) }
        // Through the diagnostics file's fit as well.
        let fit = DiagnosticsReport.Fit(quantity: "rms_function_distance", against: "heads", family: "layers=2", slope: -0.5,
                                        confidence95: [.nan, .nan], theory: -0.5, points: 3, seeds: 2)
        #expect(throws: RunError.self) { try fit.decide() }
    }

    @Test func theVerdictTextShowsNAndTheInterval() throws {
        let verdict = try SlopeVerdict.decide(slope: -0.45, confidence95: [-2.8, 1.9], theory: -0.5, points: 3, seeds: 2)
        #expect(verdict.text.hasPrefix("inconclusive about the theory's −0.5"))
        #expect(verdict.text.contains("n = 3 × 2 seeds") && verdict.text.contains("95% CI [−2.8, 1.9]") && verdict.text.contains("also holds 0"))
        let consistent = try SlopeVerdict.decide(slope: -0.5, confidence95: [-0.56, -0.44], theory: -0.5, points: 4)
        #expect(consistent.text.hasPrefix("consistent with the theory's −0.5") && consistent.text.contains("n = 4"))
    }
}

@Suite struct FamilyFitTests {
    /// λ ∈ {1e-3, 1e-2, 1e-1} × η ∈ {0.02, 0.05} × seeds {0, 1}: final Q = 3λ at η = 0.02 and
    /// 0.1·√λ at η = 0.05, and one more run at η = 0.05, λ = 0.3 that diverged (R = 1e33, then NaN).
    func writeDecaySweep(_ root: String) throws -> [(name: String, flags: [String: String])] {
        var runs: [(name: String, flags: [String: String])] = []
        for lr in ["0.02", "0.05"] {
            for decay in ["0.001", "0.01", "0.1", "0.3"] {
                for seed in [0, 1] {
                    let lambda = Double(decay)!
                    var config = baseConfig(seed: UInt64(seed))
                    config.lr = Double(lr)!
                    config.weightDecay = lambda
                    let name = "weight-decay-\(decay)_lr-\(lr)_seed-\(seed)"
                    let path = root + "/runs/" + name
                    if decay == "0.3" {
                        guard lr == "0.05" && seed == 0 else { continue }
                        try writeRun(path, config: config, records: [["step": 0, "t": 0, "R": 1, "Q": 1, "lr": 0.05],
                                                                      ["step": 10, "t": 0.5, "R": 1e33, "Q": 1e33, "lr": 0.05],
                                                                      ["step": 20, "t": 1, "R": .nan, "Q": .nan, "lr": 0.05]], status: "diverged")
                    } else {
                        let q = lr == "0.02" ? 3 * lambda : 0.1 * lambda.squareRoot()
                        let jitter = 1 + 0.01 * Double(seed)
                        try writeRun(path, config: config, records: [["step": 0, "t": 0, "R": 1, "Q": 1, "lr": Double(lr)!],
                                                                      ["step": 20, "t": 20 * Double(lr)!, "R": q / 2 * jitter, "Q": q * jitter, "lr": Double(lr)!]],
                                     status: "completed")
                    }
                    runs.append((name, ["weight-decay": decay, "lr": lr, "seed": String(seed)]))
                }
            }
        }
        try writeSweep(root, grid: ["weight-decay": ["0.001", "0.01", "0.1", "0.3"], "lr": ["0.02", "0.05"], "seed": ["0", "1"]], runs: runs)
        return runs
    }

    @Test func twoLearningRateFamiliesAreFittedApartNeverPooled() throws {
        let root = folder("decay-families")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try writeDecaySweep(root)
        let report = try LimitDiagnostics.diagnose(root)
        let q = report.fits.filter { $0.quantity == "final_Q" }
        #expect(q.count == 2, "\(q.map(\.family))")
        let slow = try #require(q.first { $0.family.contains("lr=0.02") })
        let fast = try #require(q.first { $0.family.contains("lr=0.05") })
        // Each family's own exponent, across its 2 seeds, on its 3 λ > 0 (the diverged run left out).
        #expect(abs(slow.slope - 1) < 1e-9 && abs(fast.slope - 0.5) < 1e-9)
        #expect(slow.points == 3 && slow.seeds == 2 && fast.points == 3 && fast.seeds == 2)
        #expect(slow.verdict == "consistent" && fast.verdict == "inconsistent")
        #expect(!report.decay.contains { $0.run.contains("0.3") })
        // The pooled fit over both families would be neither.
        let entries = report.decay
        let pooled = try LogLogFit.fit(x: entries.map(\.weightDecay), y: entries.map(\.finalQ))
        #expect(abs(pooled.slope - 1) > 0.1 && abs(pooled.slope - 0.5) > 0.1)
        #expect(report.signatures.contains { $0.name == "divergence" && $0.runs == ["weight-decay-0.3_lr-0.05_seed-0"] })

        // The report fits each family on its own too, with n and its interval; the diverged run is a
        // cross at the top edge, not a point that stretches the axis.
        try report.write(to: root)
        let html = try ReportBuilder.page(for: root).page.render()
        #expect(html.contains("η = 0.02: slope 1 (95% CI 1 … 1), n = 3 × 2 seeds"), "\(html.components(separatedBy: "slope ").dropFirst().prefix(4))")
        #expect(html.contains("η = 0.05: slope 0.5 (95% CI 0.5 … 0.5), n = 3 × 2 seeds"))
        #expect(html.contains("η = 0.02: consistent with the theory&#39;s 1") && html.contains("η = 0.05: inconsistent with the theory&#39;s 1"), "\(html.components(separatedBy: "Fits: ").dropFirst().map { $0.prefix(400) })")
        #expect(html.contains("class=\"off-scale\"") && html.contains("1 diverged run (weight-decay-0.3_lr-0.05_seed-0)"))
        #expect(!html.contains("10³³") && !html.contains("10³²") && !html.contains("1e33"))
    }

    @Test func widthFamiliesOfTwoLearningRatesHaveTheirOwnReferences() throws {
        let root = folder("width-families")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for lr in [0.02, 0.05] {
            for heads in [1, 2, 4, 8] {
                var config = baseConfig(heads: heads)
                config.lr = lr
                let resolved = try config.resolved(defaultThreads: 1)
                var trainer = Trainer(config: resolved, engine: AutodiffEngine<Float>(config: resolved.transformer))
                trainer.showProgress = false
                _ = try trainer.run(directory: root + "/runs/heads-\(heads)_lr-\(lr)")
            }
        }
        let report = try LimitDiagnostics.diagnose(root)
        #expect(Set(report.width.map(\.family)) == ["layers=2 lr=0.02", "layers=2 lr=0.05"])
        #expect(report.width.allSatisfy { $0.reference == "heads-8_lr-\($0.lr)" })
        let distance = report.fits.filter { $0.quantity == "rms_function_distance" }
        #expect(distance.count == 2 && Set(distance.map(\.family)) == ["layers=2 lr=0.02", "layers=2 lr=0.05"])
        #expect(distance.allSatisfy { $0.points == 3 && $0.references == ["heads-8_lr-\($0.family.hasSuffix("0.02") ? "0.02" : "0.05")"] && !$0.verdict.isEmpty })
        // The pooled fit over both families differs from each.
        let pooled = try LogLogFit.fit(x: report.width.map { Double($0.heads) }, y: report.width.map { $0.functionDistance.squareRoot() })
        #expect(distance.allSatisfy { abs($0.slope - pooled.slope) > 1e-6 })
        // Coordinate check: one width family per η, at the steps every run has (0, 10, 20), every layer.
        #expect(report.coordinateFamilies.count == 2)
        #expect(report.coordinateFamilies.allSatisfy { $0.against == "heads" && $0.steps == [0, 10, 20] && $0.selection.contains("every layer ℓ = 0…2") })
        #expect(Set(report.coordinateFits.map(\.layer)) == [0, 1, 2])
        #expect(Set(report.coordinateFits.map(\.step)) == [0, 10, 20])
        #expect(report.coordinateFits.allSatisfy { !$0.verdict.isEmpty })
        // The terminal summary gives every fit its verdict.
        let text = LimitDiagnostics.describe(report)
        #expect(text.contains("rms_function_distance vs heads (layers=2 lr=0.02): "), "\(text)")
        #expect(text.contains("coordinate check over M (layers=2 lr=0.05; steps 0, 10, 20)"), "\(text)")
    }
}

@Suite struct DepthCoordinateTests {
    @Test func depthFamiliesCompareTheLayersAtTheSameRelativeDepth() throws {
        let root = folder("depth-coordinates")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for layers in [2, 4, 8] {
            let resolved = try baseConfig(heads: 2, layers: layers).resolved(defaultThreads: 1)
            var trainer = Trainer(config: resolved, engine: AutodiffEngine<Float>(config: resolved.transformer))
            trainer.showProgress = false
            _ = try trainer.run(directory: root + "/runs/layers-\(layers)")
        }
        let report = try LimitDiagnostics.diagnose(root)
        let family = try #require(report.coordinateFamilies.first { $0.against == "layers" })
        #expect(family.family == "heads=2" && family.steps == [0, 10, 20])
        #expect(family.selection.contains("ℓ/L ∈ {0, 1/2, 1}"), "\(family.selection)")
        let fits = report.coordinateFits.filter { $0.against == "layers" }
        #expect(Set(fits.map(\.depthFraction)) == [0, 0.5, 1] && fits.allSatisfy { $0.layer == -1 && $0.points == 3 })
        #expect(Set(fits.map(\.position)) == ["ℓ/L = 0", "ℓ/L = 0.5", "ℓ/L = 1"])
        // The depth error fit is there too (two depths below the deepest: not enough), and says why not.
        #expect(report.unfitted.contains { $0.hasPrefix("layers fit (heads=2)") && $0.contains("needs 3") }, "\(report.unfitted)")
    }
}

@Suite struct CoordinateVerdictTests {
    /// Hand-built runs of width M ∈ {4, 16, 64, 256}, L = 3, whose heads are all equal (so the
    /// mean-field average is the same for every M) and whose block 1 is scaled like 1/√M instead of
    /// 1/M (its output-value weights × 10√M, so the √M term dominates): H^{(2)} and later grow with
    /// M, H^{(0)} and H^{(1)} do not.
    @Test func oneMisScaledBlockIsNamed() throws {
        let root = folder("coordinate")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base: ParameterStore<Float> = try baseConfig(heads: 1, layers: 3).resolved(defaultThreads: 1).initialParameters()
        let widths = [4, 16, 64, 256]
        for heads in widths {
            let config = try baseConfig(heads: heads, layers: 3).resolved(defaultThreads: 1)
            let path = root + "/runs/heads-\(heads)"
            try writeRun(path, config: config, records: [["step": 0, "t": 0, "R": 1, "Q": 1], ["step": 10, "t": 0.2, "R": 0.5, "Q": 0.5]],
                         status: "completed")
            let folder = path + "/checkpoints"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for step in [0, 10] {
                var store: ParameterStore<Float> = config.initialParameters()
                for name in store.names {
                    let one = base[name]
                    var values = store[name].shape.first == heads && one.shape.first == 1
                        ? Array(repeating: one.scalars, count: heads).flatMap { $0 } : one.scalars
                    // Training moved blocks 0 and 1 by the same amount at every width.
                    if step == 10 && (name.hasPrefix("layer0.") || name.hasPrefix("layer1.")) { values = values.map { $0 * 1.2 + 0.05 } }
                    if name == MeanFieldTransformer.outputValueName(1) { values = values.map { $0 * Float(10 * Double(heads).squareRoot()) } }
                    store[name] = Tensor(shape: store[name].shape, scalars: values)
                }
                let checkpoint = TrainingCheckpoint<Float>(config: config, step: step, meanFieldTime: step == 0 ? 0 : 0.2, parameters: store,
                                                           optimizerState: [:], optimizerKind: config.optimizer, optimizerUpdates: step,
                                                           initialRisk: 1, randomState: "")
                try checkpoint.write(to: folder + "/" + TrainingCheckpoint<Float>.fileName(step: step), optimizerTensors: [])
            }
        }
        let report = try LimitDiagnostics.diagnose(root)
        let family = try #require(report.coordinateFamilies.first { $0.against == "heads" })
        #expect(family.steps == [0, 10])
        let fits = report.coordinateFits.filter { $0.against == "heads" }
        func verdicts(_ layer: Int) -> [String] { fits.filter { $0.layer == layer }.map(\.verdict) }
        #expect(verdicts(0).allSatisfy { $0 == "consistent" } && verdicts(1).allSatisfy { $0 == "consistent" }, "\(fits.map { ($0.layer, $0.quantity, $0.step, $0.slope, $0.confidence95) })")
        #expect(verdicts(2).contains("inconsistent"), "\(fits.filter { $0.layer == 2 }.map { ($0.quantity, $0.step, $0.slope, $0.confidence95) })")
        #expect(family.misScaled.first == "layer 2" && !family.misScaled.contains("layer 1") && !family.misScaled.contains("layer 0"), "\(family.misScaled)")
        let summary = LimitDiagnostics.describe(report)
        #expect(summary.contains("mis-scaled: layer 2"), "\(summary)")
        // The report names it too, with the steps and the layers checked.
        try writeSweep(root, grid: ["heads": widths.map(String.init)], runs: widths.map { ("heads-\($0)", ["heads": String($0)]) })
        try report.write(to: root)
        let html = try ReportBuilder.page(for: root).page.render()
        #expect(html.contains("mis-scaled: layer 2") && html.contains("every layer ℓ = 0…3") && html.contains("steps every run of the family has a checkpoint at"))
    }
}

@Suite struct SignatureEvidenceTests {
    /// A plateau in R from step 3 on, with the given extra metrics on every line.
    func plateau(_ extra: [String: Double], finalRate: Double? = nil) -> [[String: Double]] {
        (0...8).map { index in
            var record: [String: Double] = ["step": Double(index * 10), "t": Double(index) * 0.2, "R": index < 3 ? 2.0 - 0.4 * Double(index) : 0.8, "Q": 0.8]
            for (key, value) in extra { record[key] = value }
            if index == 8, let finalRate { record["lr"] = finalRate }
            return record
        }
    }

    @Test func eachCauseNeedsItsEvidence() throws {
        let root = folder("signatures")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Over-fitting: eval_R 3× R. Decayed: the last lr 0.1% of the base. Capacity: neither (two runs, one line).
        try writeRun(root + "/overfit", config: baseConfig(heads: 2), records: plateau(["eval_R": 2.4, "lr": 0.02]), status: "completed")
        try writeRun(root + "/decayed", config: baseConfig(heads: 3), records: plateau(["eval_R": 0.82, "lr": 0.02], finalRate: 2e-5), status: "completed")
        try writeRun(root + "/capacity-a", config: baseConfig(heads: 4), records: plateau(["eval_R": 0.85, "lr": 0.02]), status: "completed")
        try writeRun(root + "/capacity-b", config: baseConfig(heads: 5), records: plateau(["eval_R": 0.9, "lr": 0.02]), status: "completed")
        // λ > 0 with the penalty a third of Q: weight decay, not capacity.
        var decayed = baseConfig(heads: 6)
        decayed.weightDecay = 0.5
        try writeRun(root + "/penalty", config: decayed, records: plateau(["eval_R": 0.8, "lr": 0.02, "Q": 1.2]), status: "completed")
        // Two runs diverge: one line.
        try writeRun(root + "/diverged-a", config: baseConfig(heads: 7), records: [["step": 0, "t": 0, "R": 2, "Q": 2]], status: "diverged")
        try writeRun(root + "/diverged-b", config: baseConfig(heads: 8), records: [["step": 0, "t": 0, "R": 2, "Q": 2], ["step": 10, "t": 0.2, "R": .nan, "Q": .nan]], status: "completed")
        let report = try LimitDiagnostics.diagnose(root)
        func signature(_ cause: String) -> DiagnosticsReport.Signature? { report.signatures.first { $0.name == "plateau" && $0.cause == cause } }
        let overfit = try #require(signature("over-fitting"))
        #expect(overfit.runs == ["overfit"] && overfit.message.contains("eval_R 2.4 = 3× R"), "\(overfit.message)")
        let schedule = try #require(signature("decayed schedule"))
        #expect(schedule.runs == ["decayed"] && schedule.message.contains("η ended at") && schedule.message.contains("0.1% of its base 0.02"), "\(schedule.message)")
        let penalty = try #require(signature("weight decay"))
        #expect(penalty.runs == ["penalty"] && penalty.knob.contains("--weight-decay"))
        let capacity = try #require(signature("capacity"))
        #expect(capacity.runs == ["capacity-a", "capacity-b"], "\(capacity.runs)")
        #expect(capacity.message.contains("eval_R/R = 1.06") && capacity.message.contains("λ = 0") && capacity.knob.contains("--heads"), "\(capacity.message)")
        // No cause without its evidence: over-fitting, the schedule and capacity are each named for their runs only.
        #expect(report.signatures.filter { $0.name == "plateau" }.allSatisfy { $0.runs.count == Set($0.runs).count })
        #expect(!(signature("capacity")?.runs.contains("overfit") ?? true) && !(signature("capacity")?.runs.contains("decayed") ?? true)
                && !(signature("capacity")?.runs.contains("penalty") ?? true))
        let divergence = try #require(report.signatures.first { $0.name == "divergence" })
        #expect(divergence.runs == ["diverged-a", "diverged-b"] && report.signatures.filter { $0.name == "divergence" }.count == 1)
        // One line per signature on the terminal.
        let lines = LimitDiagnostics.describe(report).split(separator: "\n").filter { $0.hasPrefix("⚠") }
        #expect(lines.count == report.signatures.count && lines.count == 5)
    }
}

@Suite struct MissingFitWarningTests {
    @Test func aGridThatCannotGiveItsFitsIsWarnedAbout() throws {
        let small = try SweepGrid.make(arguments: ["--heads", "2,8,32", "--lr", "0.01,0.1"])
        let lines = small.missingFits()
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("width fit") && $0.contains("2 widths below the reference M = 32") && $0.contains("--heads 2,8,32,128") })
        #expect(lines.contains { $0.hasPrefix("distance vs M / log L: one depth") && $0.contains("--layers") })
        #expect(lines.contains { $0.contains("one seed") && $0.contains("--seeds 5") })

        let depths = try SweepGrid.make(arguments: ["--heads", "4,16,64,256", "--layers", "2,8", "--weight-decay", "0,0.01"], seeds: 5)
        let depthLines = depths.missingFits()
        #expect(depthLines.count == 2, "\(depthLines)")
        #expect(depthLines.contains { $0.hasPrefix("depth fit") && $0.contains("1 depth below the reference L = 8") && $0.contains("--layers 2,8,32,128") })
        #expect(depthLines.contains { $0.hasPrefix("λ fit") && $0.contains("1 value λ > 0") })

        let complete = try SweepGrid.make(arguments: ["--heads", "4,16,64,256", "--layers", "2,4,8,16"], seeds: 5)
        #expect(complete.missingFits().isEmpty)
        #expect(try SweepGrid.make(arguments: ["--lr", "0.01,0.1"]).missingFits().isEmpty)
    }

    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle"))
    func dryRunWarnsBeforeRunning() throws {
        let out = folder("dry-run")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try meanfield(["sweep", "--heads", "2,8,32", "--steps", "10", "--dry-run", "--out", out])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("meanfield sweep: warning: width fit (distance to the reference vs M): --heads 2,8,32 gives 2 widths below the reference M = 32"), "\(result.output)")
        #expect(result.output.contains("warning: width fit across seeds: one seed") && result.output.contains("(dry run)"))
        #expect(!FileManager.default.fileExists(atPath: out + "/runs"))
    }

    @Test func theReportSaysWhyThereIsNoFit() throws {
        let root = folder("no-fit")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var runs: [(name: String, flags: [String: String])] = []
        for heads in [2, 8] {
            try writeRun(root + "/runs/heads-\(heads)", config: baseConfig(heads: heads),
                         records: [["step": 0, "t": 0, "R": 1, "Q": 1], ["step": 20, "t": 0.4, "R": 0.1, "Q": 0.1]], status: "completed")
            runs.append(("heads-\(heads)", ["heads": String(heads)]))
        }
        try writeSweep(root, grid: ["heads": ["2", "8"]], runs: runs)
        let plain = try ReportBuilder.page(for: root).page.render()
        #expect(plain.contains("<section id=\"fits\">") && plain.contains("no diagnostics.json") && plain.contains("1 width below the reference M = 8"))
        try LimitDiagnostics.diagnose(root).write(to: root)
        let html = try ReportBuilder.page(for: root).page.render()
        #expect(html.contains("<section id=\"fits\">") && html.contains("No fitted slopes") && html.contains("1 width below the reference M = 8"))
    }
}

@Suite struct OffScaleTests {
    @Test func edgeMarkersNeverSetTheAxisRange() {
        let chart = Chart(title: "t", x: ChartAxis("η", scale: .log10), y: ChartAxis("R", scale: .log10),
                          series: [ChartSeries("runs", x: [0.01, 0.1], y: [0.5, 0.2], style: .markers),
                                   ChartSeries("diverged", x: [1], y: [1e33], style: .edgeMarkers),
                                   ChartSeries("blown-up curve", x: [0.01, 1], y: [0.3, 1e30], affectsRange: false)])
        let svg = chart.svg(id: "edge")
        #expect(svg.contains("class=\"off-scale\""))
        let ticks = TickGenerator.ticks(for: chart.yAxis, data: [0.5, 0.2])
        #expect(ticks.domain.upperBound <= 1)
        #expect(!svg.contains("10³") && !svg.contains("10²"), "the y axis was stretched")
        #expect(svg.contains(">1</text>"), "the x axis reaches the diverged run's η")
    }
}
