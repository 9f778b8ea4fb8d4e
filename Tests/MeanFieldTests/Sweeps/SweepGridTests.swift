// Sweep grids (Sources/MeanField/Sweeps/SweepGrid.swift): flags with comma-separated lists and
// sweep files (TOML, JSON, YAML) expand to the Cartesian product in a fixed order with fixed,
// filesystem-safe names; bad values fail in one line that names the flag.
import Foundation
import MeanField
import Testing

@Suite struct SweepGridTests {
    @Test func productHasEveryCombinationFirstAxisSlowestSeedFastest() throws {
        let grid = try SweepGrid.make(arguments: ["--task", "icl-regression", "--heads", "2,8,32", "--layers", "2,8", "--steps", "10"], seeds: 3)
        #expect(grid.axes.map(\.flag) == ["heads", "layers", "seed"])
        #expect(grid.axes.map(\.values) == [["2", "8", "32"], ["2", "8"], ["0", "1", "2"]])
        #expect(grid.fixed == [SweepFlag("task", "icl-regression"), SweepFlag("steps", "10")])
        let runs = grid.runs
        #expect(grid.count == 18 && runs.count == 18)
        #expect(runs.prefix(4).map(\.name) == ["heads-2_layers-2_seed-0", "heads-2_layers-2_seed-1", "heads-2_layers-2_seed-2", "heads-2_layers-8_seed-0"])
        #expect(runs.last?.name == "heads-32_layers-8_seed-2")
        #expect(Set(runs.map(\.name)).count == 18)
        #expect(runs[4].flags == [SweepFlag("task", "icl-regression"), SweepFlag("steps", "10"),
                                  SweepFlag("heads", "2"), SweepFlag("layers", "8"), SweepFlag("seed", "1")])
        // The same arguments always give the same runs.
        #expect(try SweepGrid.make(arguments: ["--task", "icl-regression", "--heads", "2,8,32", "--layers", "2,8", "--steps", "10"], seeds: 3).runs == runs)
    }

    @Test func seedListIsAnAxisPlacedLastAndSingleValuesAreFixed() throws {
        let grid = try SweepGrid.make(arguments: ["--seed", "5,7", "--lr=0.01,0.1", "--heads", "4"])
        #expect(grid.axes == [SweepAxis("lr", ["0.01", "0.1"]), SweepAxis("seed", ["5", "7"])])
        #expect(grid.fixed == [SweepFlag("heads", "4")])
        #expect(grid.runs.map(\.name) == ["lr-0.01_seed-5", "lr-0.01_seed-7", "lr-0.1_seed-5", "lr-0.1_seed-7"])
        // No axis at all: one run named "run".
        let single = try SweepGrid.make(arguments: ["--steps", "10"])
        #expect(single.runs.map(\.name) == ["run"])
    }

    @Test func booleanFlagsTakeNoValueOrAListOfTruthValues() throws {
        let grid = try SweepGrid.make(arguments: ["--pre-norm", "true,false", "--no-augment", "--class-token", "--heads", "2"])
        #expect(grid.axes == [SweepAxis("pre-norm", ["true", "false"])])
        #expect(grid.fixed == [SweepFlag("augment", "false"), SweepFlag("class-token", "true"), SweepFlag("heads", "2")])
        #expect(SweepGrid.trainArguments(grid.runs[1].flags) == ["--no-augment", "--class-token", "--heads", "2", "--no-pre-norm"])
        #expect(SweepGrid.trainArguments([SweepFlag("weight-decay", "0.001")]) == ["--weight-decay", "0.001"])
    }

    @Test func namesAreSafePathComponents() throws {
        #expect(SweepGrid.safeName("1e-3") == "1e-3")
        #expect(SweepGrid.safeName("a/b c") == "a_b_c")
        #expect(SweepGrid.safeName("..") == "_..")
        let grid = try SweepGrid.make(arguments: ["--data", "x/y,x y"])
        #expect(grid.runs.map(\.name) == ["data-x_y", "data-x_y-2"])
    }

    @Test(arguments: [
        (["--heads", "2,x"], "--heads"),
        (["--lr", "0.1,-1"], "--lr"),
        (["--optimizer", "adamw,lbfgs"], "--optimizer"),
        (["--heads", "2,,8"], "--heads"),
        (["--heads", "2,2"], "--heads"),
        (["--hedas", "2,8"], "--hedas"),
        (["--pre-norm", "maybe"], "--pre-norm"),
        (["--threads", "2"], "--threads"),
        (["--out", "x"], "--out"),
        (["--heads"], "--heads"),
        (["heads", "2"], "heads"),
    ])
    func badValuesFailInOneLineNamingTheFlag(arguments: [String], flag: String) throws {
        let error = #expect(throws: RunError.self) { try SweepGrid.make(arguments: arguments) }
        let message = error?.description ?? ""
        #expect(message.contains(flag), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func seedsAndSeedTogetherAreRefused() {
        #expect(throws: RunError.self) { try SweepGrid.make(arguments: ["--seed", "1,2"], seeds: 3) }
        #expect(throws: RunError.self) { try SweepGrid.make(arguments: [], seeds: 0) }
    }
}

private let toml = """
task = "icl-regression"
heads = [2, 8]
weight_decay = [0.01, 0.001]
steps = 10
pre-norm = true
seeds = 2
parallel = 3
"""

private let json = """
{"task": "icl-regression", "heads": [2, 8], "weight_decay": [0.01, 0.001], "steps": 10, "pre-norm": true,
 "seeds": 2, "parallel": 3}
"""

private let yaml = """
task: icl-regression
heads: [2, 8]
weight_decay:
  - 0.01
  - 0.001
steps: 10
pre-norm: true
seeds: 2
parallel: 3
"""

@Suite struct SweepFileTests {
    @Test(arguments: [(toml, ConfigFile.Format.toml), (json, .json), (yaml, .yaml)])
    func theThreeFormatsGiveTheSameGrid(text: String, format: ConfigFile.Format) throws {
        let file = try SweepFile.parse(Data(text.utf8), format: format, name: "sweep.\(format.rawValue)")
        #expect(file.parallel == 3)
        #expect(file.grid.axes == [SweepAxis("heads", ["2", "8"]), SweepAxis("weight-decay", ["0.01", "0.001"]), SweepAxis("seed", ["0", "1"])])
        #expect(Set(file.grid.fixed) == [SweepFlag("task", "icl-regression"), SweepFlag("steps", "10"), SweepFlag("pre-norm", "true")])
        #expect(file.grid.runs.count == 8)
        #expect(file.grid.runs.first?.name == "heads-2_weight-decay-0.01_seed-0")
    }

    @Test func flagsOverrideTheFileAndCanTurnAnAxisIntoAFixedValue() throws {
        let file = try SweepFile.parse(Data(toml.utf8), format: .toml, name: "sweep.toml")
        let grid = try SweepGrid.make(arguments: ["--heads", "4", "--layers", "1,2"], base: file.grid)
        #expect(grid.axes.map(\.flag) == ["weight-decay", "layers", "seed"])
        #expect(grid.fixed.contains(SweepFlag("heads", "4")))
        #expect(grid.count == 8)
    }

    @Test func loadsFromDiskByExtension() throws {
        let path = NSTemporaryDirectory() + "meanfield-sweepfile-\(getpid()).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try SweepFile.load(path).grid.runs.count == 8)
        #expect(throws: RunError.self) { try SweepFile.load(path + ".txt") }
    }

    @Test(arguments: [
        ("heads = [2, \"x\"]", ConfigFile.Format.toml, "--heads"),
        ("{\"lr\": [0.1, -2]}", .json, "--lr"),
        ("optimizer: [adamw, newton]", .yaml, "--optimizer"),
        ("heads: {a: 1}", .yaml, "heads"),
        ("{\"heads\": [[1, 2]]}", .json, "heads"),
        ("threads = 4", .toml, "--threads"),
        ("seeds = 0", .toml, "seeds"),
    ])
    func badFileValuesNameTheKey(text: String, format: ConfigFile.Format, flag: String) throws {
        let error = #expect(throws: RunError.self) { try SweepFile.parse(Data(text.utf8), format: format, name: "bad.\(format.rawValue)") }
        let message = error?.description ?? ""
        #expect(message.contains(flag) && message.contains("bad."), "\(message)")
        #expect(!message.contains("\n"))
    }
}
