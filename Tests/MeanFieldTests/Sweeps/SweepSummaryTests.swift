// Sweep bookkeeping (Sources/MeanField/Sweeps/SweepManifest.swift, SweepSummary.swift): sweep.json
// round trip and refusal to reuse a folder with other flags, run states (skip, resume, start), and
// summary.csv built from hand-written run directories.
import Foundation
import MeanField
import Testing

private func sweepFolder(_ name: String) -> String {
    NSTemporaryDirectory() + "meanfield-sweepsummary-\(getpid())-\(name)"
}

private func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

@Suite struct SweepSummaryTests {
    @Test func manifestIsTheAgreedJSONAndReadsBackInOrder() throws {
        let grid = try SweepGrid.make(arguments: ["--task", "icl-regression", "--layers", "2,8", "--heads", "2,8"], seeds: 2)
        let manifest = SweepManifest(grid: grid)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(manifest.json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["grid", "fixed", "runs"])
        #expect(object["grid"] as? [String: [String]] == ["layers": ["2", "8"], "heads": ["2", "8"], "seed": ["0", "1"]])
        #expect(object["fixed"] as? [String: String] == ["task": "icl-regression"])
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(runs.count == 8)
        #expect(runs[1]["name"] as? String == "layers-2_heads-2_seed-1")
        #expect(runs[1]["flags"] as? [String: String] == ["task": "icl-regression", "layers": "2", "heads": "2", "seed": "1"])
        let back = try SweepManifest.parse(manifest.json, name: "sweep.json")
        #expect(back == manifest)
        #expect(back.grid.axes.map(\.flag) == ["layers", "heads", "seed"])
    }

    @Test func aFolderWithAnotherSweepOfTheSameRunNamesIsRefused() throws {
        let folder = sweepFolder("compatible")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try SweepManifest(grid: SweepGrid.make(arguments: ["--heads", "2,8", "--steps", "10"])).write(to: folder)
        // More values on the axis: allowed (the old runs keep their flags).
        try SweepManifest(grid: SweepGrid.make(arguments: ["--heads", "2,8,32", "--steps", "10"])).checkCompatible(withExistingIn: folder)
        // Another fixed value: heads-2 would be skipped with the old --steps.
        let error = #expect(throws: RunError.self) {
            try SweepManifest(grid: SweepGrid.make(arguments: ["--heads", "2,8", "--steps", "20"])).checkCompatible(withExistingIn: folder)
        }
        #expect(error?.description.contains("--steps") == true)
    }

    @Test func runStatesDecideSkipResumeOrStart() throws {
        let folder = sweepFolder("states")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(SweepRunState.inspect(folder + "/none") == .notStarted(folderExists: false))
        try write("{}", to: folder + "/fresh/config.json")
        #expect(SweepRunState.inspect(folder + "/fresh") == .notStarted(folderExists: true))
        try write("", to: folder + "/cut/checkpoints/step-00000005.safetensors")
        #expect(SweepRunState.inspect(folder + "/cut") == .interrupted)
        try write("{\"status\": \"halted\"}", to: folder + "/cut/summary.json")
        #expect(SweepRunState.inspect(folder + "/cut") == .interrupted)
        try write("{\"status\": \"completed\"}", to: folder + "/done/summary.json")
        #expect(SweepRunState.inspect(folder + "/done") == .finished(status: "completed"))
        let runner = SweepRunner(manifest: SweepManifest(grid: try SweepGrid.make(arguments: ["--heads", "2,8", "--steps", "30", "--lr", "0.1"])),
                                 directory: folder, executable: "/bin/meanfield", threadsPerRun: 2, parallel: 1)
        try write("", to: folder + "/runs/heads-8/checkpoints/step-00000010.safetensors")
        #expect(runner.plan(runner.manifest.runs[0]).arguments == ["train", "--steps", "30", "--lr", "0.1", "--heads", "2", "--out", folder + "/runs/heads-2", "--threads", "2"])
        // Resuming passes only the flags --resume accepts.
        #expect(runner.plan(runner.manifest.runs[1]).arguments == ["train", "--resume", folder + "/runs/heads-8", "--steps", "30", "--threads", "2"])
    }

    @Test func summaryCSVReadsSummariesAndLastMetricsLines() throws {
        let folder = sweepFolder("csv")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let manifest = SweepManifest(grid: try SweepGrid.make(arguments: ["--task", "icl-regression", "--heads", "2,8,32", "--lr", "0.1,1"]))
        // heads-2_lr-0.1: completed (values from summary.json).
        try write("""
        {"finalEvalRisk": 0.25, "finalObjective": 0.125, "finalTrainRisk": 0.0625, "initialTrainRisk": 2,
         "meanFieldTime": 1.5, "status": "completed", "steps": 15, "wallSeconds": 3.5}
        """, to: folder + "/runs/heads-2_lr-0.1/summary.json")
        try write("{\"step\":15,\"t\":1.5,\"R\":0.07,\"Q\":0.13,\"eval_R\":0.3}\n", to: folder + "/runs/heads-2_lr-0.1/metrics.jsonl")
        // heads-2_lr-1: diverged (NaN written as strings).
        try write("""
        {"finalEvalRisk": "nan", "finalObjective": "nan", "finalTrainRisk": "nan", "initialTrainRisk": 2,
         "meanFieldTime": 4, "status": "diverged", "steps": 100, "wallSeconds": 1}
        """, to: folder + "/runs/heads-2_lr-1/summary.json")
        // heads-8_lr-0.1: interrupted (checkpoint, metrics; the last line is cut in half).
        try write("{\"step\":0,\"t\":0,\"R\":2,\"Q\":2,\"eval_R\":2}\n{\"step\":10,\"t\":1,\"R\":0.5,\"Q\":0.5,\"eval_R\":0.75}\n{\"step\":2",
                  to: folder + "/runs/heads-8_lr-0.1/metrics.jsonl")
        try write("", to: folder + "/runs/heads-8_lr-0.1/checkpoints/step-00000010.safetensors")
        // heads-8_lr-1: an image-style run (accuracies, losses).
        try write("""
        {"finalTestAccuracy": 0.75, "finalTestLoss": 0.5, "finalTrainAccuracy": 1, "finalTrainLoss": 0.01,
         "meanFieldTime": 2, "status": "completed", "steps": 20, "epochs": 2, "wallSeconds": 9}
        """, to: folder + "/runs/heads-8_lr-1/summary.json")
        try write("{\"Q\":0.02,\"step\":20,\"t\":2,\"train_acc\":1,\"test_acc\":0.75}\n", to: folder + "/runs/heads-8_lr-1/metrics.jsonl")
        // heads-32_lr-0.1: a folder with nothing yet; heads-32_lr-1: not started, but the runner saw it fail.
        try FileManager.default.createDirectory(atPath: folder + "/runs/heads-32_lr-0.1", withIntermediateDirectories: true)

        try SweepSummary.write(directory: folder, manifest: manifest, statuses: ["heads-32_lr-1": "failed"])
        let text = try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8)
        #expect(text == """
        name,heads,lr,status,steps,t,R,eval_R,Q,train_acc,test_acc,wall_seconds
        heads-2_lr-0.1,2,0.1,completed,15,1.5,0.0625,0.25,0.125,,,3.5
        heads-2_lr-1,2,1,diverged,100,4.0,nan,nan,nan,,,1.0
        heads-8_lr-0.1,8,0.1,interrupted,10,1.0,0.5,0.75,0.5,,,
        heads-8_lr-1,8,1,completed,20,2.0,0.01,0.5,0.02,1.0,0.75,9.0
        heads-32_lr-0.1,32,0.1,incomplete,,,,,,,,
        heads-32_lr-1,32,1,failed,,,,,,,,

        """)
    }

    @Test func csvQuotesCellsThatNeedIt() {
        #expect(SweepSummary.csv([["a", "b,c", "say \"x\""]]) == "a,\"b,c\",\"say \"\"x\"\"\"\n")
    }
}
