// The run-folder format (Sources/MeanFieldTraining/Runs, docs/run-format.md): the committed format-1 run
// folders (Fixtures/legacy-run-format, written by meanfield at 354c1ca) load with the right values,
// read here a second way (JSONSerialization) to compare; every file type survives a write → read
// round trip, ±∞ and NaN included, spelled as strict JSON with snake_case keys; a newer format is
// refused in one line; and no Swift file outside Runs/ opens a run file by name.
import Foundation
@testable import MeanField
@testable import MeanFieldTraining
import MeanFieldCore
import Testing

private let testsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
private let legacy = testsRoot.appendingPathComponent("Fixtures/legacy-run-format").path
private let sourcesRoot = testsRoot.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")

private func scratch(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "meanfield-runformat-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.removeItem(atPath: path)
    return path
}

/// A copy of a fixture folder (reports and diagnostics write into the folder they read).
private func copyOfFixture(_ name: String) throws -> String {
    let path = scratch(name)
    try FileManager.default.copyItem(atPath: legacy + "/" + name, toPath: path)
    return path
}

/// The independent route: Foundation's JSONSerialization (which rounds some decimals by an ulp,
/// hence ``close(_:_:)``).
private func jsonObject(_ path: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], "\(path)")
}

private func jsonLines(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
}

/// A JSON value as a number the way the format spells it ("inf", "nan" strings included).
private func number(_ value: Any?) -> Double? {
    switch value {
    case let text as String: return ["inf": .infinity, "-inf": -.infinity, "nan": .nan][text] ?? Double(text)
    case let number as NSNumber: return number.doubleValue
    default: return nil
    }
}

/// Equal, or both NaN, or within a few ulps (JSONSerialization's decimal parsing is not exact).
private func close(_ a: Double?, _ b: Double?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    return a == b || abs(a - b) <= 1e-15 * max(abs(a), abs(b))
}

@Suite struct RunFormatTests {
    // MARK: Format-1 folders

    @Test func legacyRegressionRunLoads() throws {
        let path = legacy + "/icl-regression"
        let run = try RunRecord(path: path)
        #expect(run.formatVersion == 1 && run.name == "icl-regression")
        // config.json (kebab-case keys in format 1).
        let config = try jsonObject(path + "/config.json")
        #expect(run.config.heads == config["heads"] as? Int && run.config.ffnUnits == config["ffn-units"] as? Int)
        #expect(run.config.steps == 20 && run.config.checkpointEvery == 10 && close(run.config.lr, number(config["lr"])))
        #expect(run.configValues["ffn_units"]?.number == Double(run.config.ffnUnits))
        // manifest.json (camelCase in format 1).
        let manifest = try jsonObject(path + "/manifest.json")
        #expect(run.manifest?.gitCommit == manifest["gitCommit"] as? String && run.manifest?.scalarType == "f32")
        #expect(run.manifest?.command == manifest["command"] as? [String] && run.manifest?.runFormat == nil)
        // metrics.jsonl: every number and list of every line.
        let lines = try jsonLines(path + "/metrics.jsonl")
        #expect(run.metrics.count == lines.count && lines.count == 5)
        for (record, line) in zip(run.metrics, lines) {
            for (key, value) in line {
                if let list = value as? [Any] {
                    #expect(record.lists[key]?.count == list.count && zip(record.lists[key] ?? [], list).allSatisfy { close($0, number($1)) }, "\(key)")
                } else {
                    #expect(close(record[key], number(value)), "\(key)")
                }
            }
            #expect(record.numbers.count + record.lists.count == line.count)
        }
        #expect(run.layerCount("spread_attention") == 2 && run.series("R").x == [0, 0.1, 0.19999999999999998, 0.3, 0.4000000000000001])
        // summary.json: TrainSummary mapped into RunSummary.
        let old = try jsonObject(path + "/summary.json")
        let summary = try #require(run.summary)
        #expect(summary.status == "completed" && summary.task == "icl-regression")
        #expect(summary.totalSteps == 20 && summary.completedSteps == 20 && summary.stepsPerEpoch == nil)
        #expect(close(summary.meanFieldTime, number(old["meanFieldTime"])) && close(summary.wallSeconds, number(old["wallSeconds"])))
        #expect(close(summary.final["R"], number(old["finalTrainRisk"])) && close(summary.final["Q"], number(old["finalObjective"])))
        #expect(close(summary.final["eval_R"], number(old["finalEvalRisk"])) && close(summary.initial["R"], number(old["initialTrainRisk"])))
        #expect(close(summary.initial["eval_R"], number(lines[0]["eval_R"])))
        #expect(summary.lastCheckpoint == old["lastCheckpoint"] as? String && summary.secondsPerStep.isNaN)
        // checkpoints/: listed, and a format-1 checkpoint (kebab-case config in its metadata) reads.
        #expect(run.checkpoints.map(\.step) == [0, 10, 20])
        let checkpoint = try TrainingCheckpoint<Float>.read(path: run.checkpoints[2].path)
        #expect(checkpoint.config == run.config && checkpoint.step == 20 && close(checkpoint.meanFieldTime, summary.meanFieldTime))
        #expect(run.confusion == nil && run.status == "completed")
    }

    @Test func legacyImageRunLoads() throws {
        let path = legacy + "/image"
        let run = try RunRecord(path: path)
        #expect(run.isImageRun && run.config.task == "synthetic-images")
        let old = try jsonObject(path + "/summary.json")
        let summary = try #require(run.summary)
        // ImageTrainSummary: 2 epochs of 100 images in batches of 20 = 10 steps.
        #expect(summary.completedSteps == 10 && summary.stepsPerEpoch == 5 && summary.totalSteps == 10)
        for (key, oldKey) in [("train_loss", "finalTrainLoss"), ("train_acc", "finalTrainAccuracy"), ("test_loss", "finalTestLoss"), ("test_acc", "finalTestAccuracy")] {
            #expect(close(summary.final[key], number(old[oldKey])), "\(key)")
        }
        let lines = try jsonLines(path + "/metrics.jsonl")
        #expect(close(summary.initial["test_acc"], number(lines[0]["test_acc"])) && summary.initial["R"] == nil)
        #expect(close(summary.secondsPerStep, number(old["secondsPerStep"])))
        // confusion.json (classNames in format 1).
        let confusion = try #require(run.confusion)
        let file = try jsonObject(path + "/confusion.json")
        #expect(confusion.classNames == file["classNames"] as? [String] && confusion.counts == file["counts"] as? [[Int]])
        #expect(confusion.set == "test" && close(confusion.accuracy, summary.final["test_acc"]))
        #expect(run.checkpoints.map(\.step) == [10])
        _ = try TrainingCheckpoint<Float>.read(path: run.checkpoints[0].path)
    }

    @Test func legacyResNetRunLoads() throws {
        let path = legacy + "/resnet"
        let run = try RunRecord(path: path)
        #expect(run.config.model == .resnet && run.config.task == "teacher-regression" && run.config.ntkEvery == 10)
        let lines = try jsonLines(path + "/metrics.jsonl")
        #expect(run.series("pl_constant").y.count == 3)
        #expect(zip(run.series("ntk_lambda_min").y, lines.compactMap { number($0["ntk_lambda_min"]) }).allSatisfy { close($0, $1) })
        let summary = try #require(run.summary)
        let old = try jsonObject(path + "/summary.json")
        #expect(summary.task == "teacher-regression" && close(summary.final["R"], number(old["finalTrainRisk"])))
        #expect(run.checkpoints.map(\.step) == [0, 20])
        let checkpoint = try TrainingCheckpoint<Float>.read(path: run.checkpoints[1].path)
        #expect(checkpoint.parameters.names.contains("layer1.in"))
    }

    @Test(arguments: [("diverged-inf", Double.infinity), ("diverged-nan", Double.nan)])
    func legacyDivergedRunsKeepTheirNonFiniteValues(_ name: String, _ value: Double) throws {
        let run = try RunRecord(path: legacy + "/" + name)
        let summary = try #require(run.summary)
        #expect(summary.status == "diverged" && (summary.message ?? "").contains("diverged"))
        for key in ["R", "Q", "eval_R"] { #expect(close(summary.final[key], value), "\(key)") }
        #expect(summary.initial["R"]!.isFinite && run.metrics.count == 1 && run.checkpoints.isEmpty)
    }

    @Test func legacySweepLoadsWithItsDiagnostics() throws {
        let sweep = try SweepRecords.load(path: legacy + "/sweep")
        #expect(sweep.problems.isEmpty && sweep.runs.map(\.name) == ["heads-2", "heads-4"])
        #expect(sweep.runs.allSatisfy { $0.records?.summary?.status == "completed" })
        let diagnostics = try #require(sweep.diagnostics)
        let file = try jsonObject(legacy + "/sweep/diagnostics.json")
        let width = try #require((file["width"] as? [[String: Any]])?.first)
        let entry = try #require(diagnostics.width.first)
        #expect(entry.run == width["run"] as? String && entry.heads == width["heads"] as? Int && entry.referenceHeads == width["reference_heads"] as? Int)
        #expect(close(entry.functionDistance, number(width["function_distance"])) && close(entry.riskGap, number(width["risk_gap"])))
        let curve = try #require(width["curve"] as? [String: Any])
        #expect(zip(entry.curve.t, curve["t"] as? [Any] ?? []).allSatisfy { close($0, number($1)) } && entry.curve.t.count == (curve["t"] as? [Any])?.count)
        #expect(diagnostics.coordinates.count == (file["coordinates"] as? [Any])?.count && diagnostics.signatures.count == 1)
        #expect(diagnostics.reference == file["reference"] as? String)
        // summary.csv rebuilt from the format-1 run folders matches the one the old code wrote.
        let manifest = try SweepManifest.parse(String(contentsOfFile: legacy + "/sweep/sweep.json", encoding: .utf8), name: "sweep.json")
        let rebuilt = SweepSummary.table(directory: legacy + "/sweep", manifest: manifest)
        let written = try String(contentsOfFile: legacy + "/sweep/summary.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rebuilt.count == written.count)
        for (new, old) in zip(rebuilt, written) {
            #expect(new.count == old.count)
            for (a, b) in zip(new, old) { #expect(a == b || close(Double(a), Double(b)), "\(a) vs \(b)") }
        }
    }

    @Test func legacySweepDiagnosesAgainAndReports() throws {
        let sweep = try copyOfFixture("sweep")
        defer { try? FileManager.default.removeItem(atPath: sweep) }
        let before = try #require(try DiagnosticsReport.read(from: sweep))
        let report = try LimitDiagnostics.diagnose(sweep)
        // The coordinate check now measures every step the family shares (the old entries' steps among them).
        #expect(report.width.count == before.width.count && report.coordinates.count >= before.coordinates.count)
        // The format-1 checkpoints give the numbers the old build computed from them. It drew its
        // prompts in Double (now: the runs' own Float prompts, EvaluationSample): on those prompts,
        // the same distance and residual-stream sizes.
        func oldProbe(_ run: RunRecord) throws -> ModelProbe {
            try ModelProbe(config: run.config, sample: EvaluationSample(config: run.config, doublePrecision: true), initial: nil)
        }
        let entry = before.width[0]
        let run = try RunRecord(path: sweep + "/runs/" + entry.run), reference = try RunRecord(path: sweep + "/runs/" + entry.reference)
        let last = Set(run.checkpoints.map(\.step)).intersection(reference.checkpoints.map(\.step)).max()!
        let probe = try oldProbe(run)
        let distance = probe.distance(probe.predictions(try run.state(atStep: last).store),
                                      try oldProbe(reference).predictions(try reference.state(atStep: last).store))
        #expect(close(distance.mean, entry.functionDistance))
        #expect(report.width[0].evalSamples == LimitDiagnostics.defaultEvalSize && report.width[0].functionDistanceSE > 0)
        for coordinate in before.coordinates {
            let run = try RunRecord(path: sweep + "/runs/" + coordinate.run)
            let probe = try oldProbe(run)
            let initial = probe.states(try run.state(atStep: 0).store)[coordinate.layer]
            let later = probe.states(try run.state(atStep: coordinate.step).store)[coordinate.layer]
            #expect(close(ModelProbe.rms(later), coordinate.activationRMS) && close(ModelProbe.rms(later - initial), coordinate.updateRMS))
        }
        for name in ["icl-regression", "image", "resnet", "diverged-inf"] {
            let run = try copyOfFixture(name)
            defer { try? FileManager.default.removeItem(atPath: run) }
            let html = try ReportBuilder.page(for: run).page.render()
            #expect(html.contains("final.") && html.contains("<section id=\"overview\">"), "\(name)")
        }
        #expect(try ReportBuilder.page(for: sweep).page.render().contains("<section id=\"width\">"))
    }

    // MARK: Round trip

    @Test func everyFileRoundTripsWithNonFiniteNumbers() throws {
        let path = scratch("roundtrip")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var config = TrainConfig()
        config.heads = 3
        config.ffnUnits = 5
        config.steps = 7
        config = try config.resolved(defaultThreads: 1)
        let directory = try RunDirectory(path: path)
        try directory.writeConfig(config)
        var manifest = RunManifest.current(seed: 3, scalarType: "f32")
        manifest.command = ["meanfield", "train", "--out", "/tmp/x y"]
        try directory.writeManifest(manifest)
        try directory.writeManifest(manifest, resumedFromStep: 4)
        let lines: [([String: Double], [String: [Double]])] = [
            (["step": 0, "t": 0, "R": 2.5, "Q": 0.1 + 0.2, "eval_R": 0], ["spread_attention": [1, .infinity]]),
            (["step": 5, "t": 1e-300, "R": .infinity, "Q": -.infinity, "eval_R": .nan, "grad_norm": 123456789012345680], ["spread_ffn": [.nan, -.infinity, 0.5]]),
        ]
        for (numbers, lists) in lines { try directory.appendMetrics(numbers: numbers, lists: lists) }
        let summary = RunSummary(status: "diverged", task: "icl-regression", totalSteps: 7, completedSteps: 5, stepsPerEpoch: nil,
                                 meanFieldTime: 0.1, resumedFromStep: 4, lastCheckpoint: "checkpoints/step-00000005.safetensors",
                                 message: "R is inf", wallSeconds: 1.5, secondsPerStep: 0.25, peakMemoryBytes: 1e6,
                                 initial: ["R": 2.5, "Q": .nan], final: ["R": .infinity, "Q": -.infinity, "eval_R": .nan],
                                 parametrization: config.parametrization)
        try directory.writeSummary(summary)
        var confusion = ConfusionMatrix(classNames: ["cat", "dog \"2\""], set: "test")
        confusion.counts = [[3, 1], [0, 4]]
        try directory.writeConfusion(confusion)
        let store: ParameterStore<Float> = config.initialParameters()
        let checkpoint = TrainingCheckpoint(config: config, step: 5, meanFieldTime: 0.1, parameters: store, optimizerState: [:],
                                            optimizerKind: config.optimizer, optimizerUpdates: 5, initialRisk: 2.5, randomState: "")
        try checkpoint.write(to: try directory.checkpointsFolder() + "/" + TrainingCheckpoint<Float>.fileName(step: 5), optimizerTensors: [])

        let run = try RunRecord(path: path)
        #expect(run.formatVersion == RunFormat.version && run.config == config && run.manifest == manifest)
        #expect(run.resumeManifests == [manifest])
        #expect(run.metrics.count == 2)
        for (record, line) in zip(run.metrics, lines) {
            #expect(record.numbers.keys.sorted() == line.0.keys.sorted() && record.lists.keys.sorted() == line.1.keys.sorted())
            for (key, value) in line.0 { #expect(close(record[key], value), "\(key)") }
            for (key, list) in line.1 { #expect(zip(record.lists[key]!, list).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(key)") }
        }
        #expect(run.metrics[1]["grad_norm"] == 123456789012345680 && run.metrics[0]["Q"] == 0.1 + 0.2)
        let back = try #require(run.summary)
        #expect(back.final["R"] == .infinity && back.final["Q"] == -.infinity && back.final["eval_R"]!.isNaN && back.initial["Q"]!.isNaN)
        var comparable = back
        comparable.final["eval_R"] = 0
        comparable.initial["Q"] = 0
        var expected = summary
        expected.final["eval_R"] = 0
        expected.initial["Q"] = 0
        #expect(comparable == expected)
        #expect(run.confusion == confusion)
        #expect(run.checkpoints.map(\.step) == [5])
        #expect(try TrainingCheckpoint<Float>.read(path: run.checkpoints[0].path).config == config)

        // Strict JSON (JSONSerialization rejects bare NaN/Infinity), snake_case keys, the agreed spellings.
        let files = ["config.json", "manifest.json", "manifest-resume-step-00000004.json", "summary.json", "confusion.json"]
        for name in files {
            let object = try jsonObject(path + "/" + name)
            for key in object.keys { #expect(key.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil, "\(name): key \(key)") }
        }
        let summaryObject = try jsonObject(path + "/summary.json")
        #expect((summaryObject["final"] as? [String: Any])?["R"] as? String == "inf")
        #expect((summaryObject["final"] as? [String: Any])?["Q"] as? String == "-inf")
        #expect((summaryObject["final"] as? [String: Any])?["eval_R"] as? String == "nan")
        #expect(try jsonObject(path + "/manifest.json")["run_format"] as? Int == RunFormat.version)
        #expect(try jsonObject(path + "/config.json")["ffn_units"] as? Int == 5)
        #expect(try jsonObject(path + "/confusion.json")["class_names"] as? [String] == ["cat", "dog \"2\""])
        let metricsText = try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8)
        #expect(metricsText.split(separator: "\n").first == "{\"Q\":0.30000000000000004,\"R\":2.5,\"eval_R\":0,\"spread_attention\":[1,\"inf\"],\"step\":0,\"t\":0}")
        #expect(metricsText.contains("\"R\":\"inf\"") && metricsText.contains("\"Q\":\"-inf\"") && metricsText.contains("\"eval_R\":\"nan\""))
        #expect(try jsonLines(path + "/metrics.jsonl").count == 2)   // strict JSON too
    }

    @Test func diagnosticsRoundTripWithNonFiniteNumbers() throws {
        let path = scratch("diagnostics")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var report = DiagnosticsReport()
        report.reference = "heads-64"
        report.width = [.init(run: "heads-8", reference: "heads-64", heads: 8, referenceHeads: 64, layers: 2, seed: 0, weightDecay: 0, lr: 0.02,
                              functionDistance: .infinity, referenceMeanSquare: 1, riskGap: .nan, particleSlicedW2: [0.5, .nan],
                              particleMMD: [0.1], particleSinkhorn: [-.infinity], curve: .init(t: [0, 1], functionDistance: [0, 0.5], riskGapT: [1], riskGap: [0.25]))]
        report.decay = [.init(run: "d", weightDecay: 0.1, heads: 8, layers: 2, seed: 1, finalQ: 0.5, finalR: .nan)]
        report.fits = [.init(quantity: "final_Q", against: "weight-decay", family: "heads=8", slope: 1, confidence95: [0.9, 1.1], theory: 1, points: 3, seeds: 1)]
        report.coordinates = [.init(run: "heads-8", heads: 8, layers: 2, step: 0, layer: 1, activationRMS: 1.25, updateRMS: 0)]
        report.skipped = ["x: no checkpoints"]
        try report.write(to: path)
        let back = try #require(try DiagnosticsReport.read(from: path))
        let entry = try #require(back.width.first)
        #expect(entry.functionDistance == .infinity && entry.riskGap.isNaN && entry.particleSinkhorn == [-.infinity] && entry.particleSlicedW2[1].isNaN)
        #expect(entry.curve.riskGapT == [1] && entry.heads == 8 && entry.referenceHeads == 64 && back.reference == "heads-64")
        #expect(back.decay.first?.finalR.isNaN == true && back.decay.first?.finalQ == 0.5 && back.fits.first?.theory == 1)
        #expect(back.coordinates.first?.activationRMS == 1.25 && back.skipped == report.skipped)
        let object = try jsonObject(path + "/diagnostics.json")
        #expect((object["decay"] as? [[String: Any]])?.first?["final_R"] as? String == "nan")
        #expect((object["coordinates"] as? [[String: Any]])?.first?["activation_rms"] as? Double == 1.25)
    }

    // MARK: Spellings and versions

    @Test func format1NumberSpellingsReadAsNonFinite() throws {
        let path = scratch("spellings")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(path: path)
        try directory.writeConfig(try TrainConfig().resolved(defaultThreads: 1))
        try directory.appendMetricsLine("{\"R\":0.5,\"eval_R\":1e999,\"step\":10,\"t\":0.2,\"Q\":-1e999,\"grad_norm\":null,\"spread_ffn\":[1e999, -1e999,null]}")
        try directory.appendMetricsLine("{\"R\":\"nan\",\"step\":20,\"note\":\"1e999 stays text\",\"Q\":\"-inf\"}")
        let run = try RunRecord(path: path)
        #expect(run.metrics[0]["eval_R"] == .infinity && run.metrics[0]["Q"] == -.infinity && run.metrics[0]["grad_norm"]!.isNaN)
        #expect(run.metrics[0].lists["spread_ffn"]!.prefix(2) == [.infinity, -.infinity] && run.metrics[0].lists["spread_ffn"]![2].isNaN)
        #expect(run.metrics[1]["R"]!.isNaN && run.metrics[1]["Q"] == -.infinity && run.metrics[1]["note"] == nil)
        #expect(RunFormat.number(.infinity) == "\"inf\"" && RunFormat.number(-.infinity) == "\"-inf\"" && RunFormat.number(.nan) == "\"nan\"")
        #expect(RunFormat.number(3) == "3" && RunFormat.number(-0.0) == "0" && RunFormat.number(0.1) == "0.1" && RunFormat.number(1e300) == "1e+300")
    }

    @Test func keySpellings() {
        for (swift, file) in [("meanFieldTime", "mean_field_time"), ("activationRMS", "activation_rms"), ("ffn-units", "ffn_units"),
                              ("particleSlicedW2", "particle_sliced_w2"), ("eval_R", "eval_R"), ("final_Q", "final_Q"), ("R", "R"),
                              ("confidence95", "confidence95"), ("classNames", "class_names")] {
            #expect(RunFormat.snakeCase(swift) == file, "\(swift)")
        }
        for (file, swift) in [("scalar_type", "scalarType"), ("feature_counts", "featureCounts"), ("featureCounts", "featureCounts"),
                              ("particle_sliced_w2", "particleSlicedW2")] {
            #expect(RunFormat.camelCase(file) == swift, "\(file)")
        }
    }

    @Test func aNewerFormatIsRefusedInOneLine() throws {
        let path = try copyOfFixture("icl-regression")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var manifest = try #require(try RunRecord(path: path).manifest)
        manifest.runFormat = RunFormat.version + 1
        try RunFormat.encoder().encode(manifest).write(to: URL(fileURLWithPath: path + "/manifest.json"))
        let error = #expect(throws: RunError.self) { try RunRecord(path: path) }
        #expect(error?.description.contains("run format \(RunFormat.version + 1)") == true && error?.description.contains("\n") == false)
    }

    @Test func corruptFilesAreOneLineErrorsNamingThem() throws {
        let path = try copyOfFixture("image")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (file, text) in [("summary.json", "{\"status\": "), ("confusion.json", "[1, 2]"), ("manifest.json", "nonsense")] {
            let original = try Data(contentsOf: URL(fileURLWithPath: path + "/" + file))
            try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + file))
            let error = #expect(throws: RunError.self) { try RunRecord(path: path) }
            #expect(error?.description.contains(path + "/" + file) == true && error?.description.contains("\n") == false, "\(file)")
            try original.write(to: URL(fileURLWithPath: path + "/" + file))
        }
        // A metrics line cut short by a crash (no final newline) is dropped; a bad line inside is an error.
        let metrics = path + "/metrics.jsonl"
        let whole = try String(contentsOfFile: metrics, encoding: .utf8)
        try (whole + "{\"step\":15,\"t\"").write(toFile: metrics, atomically: true, encoding: .utf8)
        #expect(try RunRecord(path: path).metrics.count == 3)
        try ("{\"step\":0\n" + whole).write(toFile: metrics, atomically: true, encoding: .utf8)
        let error = #expect(throws: RunError.self) { try RunRecord(path: path) }
        #expect(error?.description.contains(metrics + ":1:") == true)
    }

    // MARK: One reader

    /// No Swift file outside Runs/ names a run file in a string literal ("summary.json",
    /// "/metrics.jsonl", …): they go through RunDirectory / RunRecord / RunFolder, so a second
    /// reader or writer cannot come back unnoticed. Help texts that mention a file inside a longer
    /// sentence do not count.
    @Test func onlyTheRunsModuleNamesTheRunFiles() throws {
        let names = ["metrics.jsonl", "summary.json", "config.json", "manifest.json", "confusion.json", "diagnostics.json", "checkpoints",
                     "events.out.tfevents."]
        // The events folder as a path ("/tensorboard", "tensorboard/…"); the bare word is also the config key.
        let pattern = "\"/?(" + names.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|") + ")\""
            + "|\"/tensorboard\\b|\"tensorboard/"
        let enumerator = try #require(FileManager.default.enumerator(atPath: sourcesRoot.path))
        var offenders: [String] = [], scanned = 0
        while let file = enumerator.nextObject() as? String {
            guard file.hasSuffix(".swift"), !file.hasPrefix("MeanFieldTraining/Runs/") else { continue }
            scanned += 1
            let text = try String(contentsOfFile: sourcesRoot.path + "/" + file, encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.range(of: pattern, options: .regularExpression) != nil {
                offenders.append("Sources/\(file):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(scanned > 100)
        #expect(offenders.isEmpty, "run files opened outside Sources/MeanFieldTraining/Runs:\n\(offenders.joined(separator: "\n"))")
        // The pattern does catch a reader.
        #expect("let data = FileManager.default.contents(atPath: path + \"/summary.json\")".range(of: pattern, options: .regularExpression) != nil)
        #expect("let events = path + \"/tensorboard\"".range(of: pattern, options: .regularExpression) != nil)
        #expect("flag(\"tensorboard\", \\.tensorboard".range(of: pattern, options: .regularExpression) == nil)
    }
}
