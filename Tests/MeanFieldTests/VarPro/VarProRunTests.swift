// The varpro run directory (E5): the files `meanfield report` reads, a record per logged step for
// every student, one-line errors naming the flag, and the real binary end to end.
import Foundation
import MeanField
import Testing

@Suite struct VarProRunTests {
    static let small = VarProConfig(widths: [6], lambdas: [0.05], steps: 20, samples: 40, recordEvery: 10, seed: 3,
                                    teacherGrid: 128, pdeCells: 32)

    @Test func runDirectoryIsWrittenAndReported() throws {
        let path = NSTemporaryDirectory() + "meanfield-varpro-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let results = try VarProRun.run(Self.small, path: path)
        for name in ["config.json", "manifest.json", "metrics.jsonl", "varpro.json", "teacher-distance-lambda-0.05.svg", "pde-distance.svg"] {
            #expect(FileManager.default.fileExists(atPath: path + "/" + name), "\(name) missing")
        }
        #expect(results.runs.count == 2 && results.runs.allSatisfy { $0.failure == nil && $0.time.count == 3 })
        let lines = try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0].contains("\"teacher_energy\"") && lines[0].contains("\"pde_w1\"") && lines[0].contains("\"teacher_w2\""))
        #expect(results.runs.allSatisfy { $0.teacherW2?.count == 3 && $0.pdeW2?.count == 3 })
        // Both modes start from the same θ₀ and u*(θ₀).
        #expect(results.runs[0].objective[0] == results.runs[1].objective[0])
        #expect(abs((results.pde?.massDrift ?? 1)) < 1e-12)
        let page = try ReportBuilder.page(for: path).page.render()
        #expect(page.contains("VarPro teacher–student") && page.contains("Energy distance to the teacher"))
    }

    @Test func torusRunsWithoutPDE() throws {
        let path = NSTemporaryDirectory() + "meanfield-varpro-torus-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var config = Self.small
        config.features = .rbfTorus
        config.teacherGrid = 8
        config.modes = [.varpro]
        // φ ≤ 2/s² and |∇φ| ≤ 2/s³: the torus flow needs a smaller Δτ than the circle's 2⁻¹⁰.
        config.rbfScale = 0.5
        config.timeStep = 1e-4
        config.lambdas = [0.5]
        let results = try VarProRun.run(config, path: path)
        #expect(results.pde == nil && results.runs[0].pdeEnergy.isEmpty && results.runs[0].teacherEnergy.count == 3)
        #expect(results.runs[0].objective.last! < results.runs[0].objective.first!)
    }

    @Test func badValuesNameTheFlag() {
        var config = Self.small
        config.lambdas = [0]
        do { try config.validate(); Issue.record("accepted λ = 0") } catch { #expect("\(error)".contains("--lambda")) }
        config = Self.small
        config.widths = [0]
        do { try config.validate(); Issue.record("accepted m = 0") } catch { #expect("\(error)".contains("--width")) }
        config = Self.small
        config.momentum = 1
        do { try config.validate(); Issue.record("accepted β = 1") } catch { #expect("\(error)".contains("--momentum")) }
    }

    @Test(.enabled(if: meanfieldBinary != nil)) func binaryWritesARunAndItsReport() throws {
        let path = NSTemporaryDirectory() + "meanfield-varpro-binary-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try meanfield(["varpro", "--width", "5", "--lambda", "0.1", "--steps", "10", "--samples", "30", "--record-every", "5",
                                 "--teacher-grid", "64", "--pde-grid", "16", "--out", path])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("energy to teacher"))
        for name in ["config.json", "manifest.json", "metrics.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: path + "/" + name), "\(name) missing")
        }
        let report = try meanfield(["report", path])
        #expect(report.status == 0, "\(report.output)")
        #expect(FileManager.default.fileExists(atPath: path + "/report.html"))
        let bad = try meanfield(["varpro", "--features", "sigmoid", "--out", path + "-bad"])
        #expect(bad.status != 0 && bad.output.contains("--features"))
    }

    /// SIGINT ends the run at the next step: exit status 130, varpro.json with the students that ran, a report.
    @Test(.enabled(if: meanfieldBinary != nil)) func interruptedRunKeepsWhatRan() throws {
        let path = NSTemporaryDirectory() + "meanfield-varpro-stop-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = try startMeanfield(["varpro", "--width", "8", "--lambda", "0.1", "--steps", "100000000", "--samples", "30",
                                          "--record-every", "1000", "--teacher-grid", "64", "--pde-grid", "0", "--out", path])
        // Wait for the first metrics line, then interrupt.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, ((try? String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8)) ?? "").isEmpty {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let data = try #require(FileManager.default.contents(atPath: path + "/varpro.json"))
        let results = try JSONDecoder().decode(VarProResults.self, from: data)
        #expect(results.runs.count == 1 && (results.runs[0].failure ?? "").contains("SIGINT"))
        #expect(try ReportBuilder.page(for: path).page.render().contains("SIGINT"))
    }

    /// A huge --time-step makes the λ → 0 PDE's horizon huge: SIGTERM during the solve ends the
    /// command within seconds (the solve checks for it every 1,024 Euler steps), writing nothing.
    @Test(.enabled(if: meanfieldBinary != nil)) func sigtermDuringAHugePDESolveEndsWithinSeconds() throws {
        let path = NSTemporaryDirectory() + "meanfield-varpro-pde-stop-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = try startMeanfield(["varpro", "--time-step", "1e6", "--width", "4", "--samples", "20", "--steps", "10", "--out", path])
        Thread.sleep(forTimeInterval: 2)  // well inside the solve (its budget is minutes of a debug build)
        #expect(process.isRunning)
        let signalled = Date()
        kill(process.processIdentifier, SIGTERM)
        #expect(wait(upTo: 5) { !process.isRunning }, "varpro did not stop within 5 s of SIGTERM")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 143 && Date().timeIntervalSince(signalled) < 5)
        #expect(!FileManager.default.fileExists(atPath: path), "an interrupted PDE solve wrote a run folder")
    }

    /// A config.json written before the u rate, minibatch and momentum existed still loads, with defaults.
    @Test func olderConfigsDecodeWithDefaults() throws {
        let json = """
        {"features":"relu-circle","widths":[32],"lambdas":[0.01],"modes":["varpro"],"regulariser":"unbiased","steps":10,
         "timeStep":0.001,"samples":64,"recordEvery":5,"seed":1,"teacherGamma":20,"teacherGrid":128,"torusConcentration":6,
         "rbfScale":0.2,"pdeCells":64}
        """
        let config = try JSONDecoder().decode(VarProConfig.self, from: Data(json.utf8))
        #expect(config.outerRate == .lambda && config.batchSize == 0 && config.momentum == 0.9 && config.twoTimescaleStartsAtRidge)
        let roundTrip = try JSONDecoder().decode(VarProConfig.self, from: JSONEncoder().encode(Self.small))
        #expect(roundTrip == Self.small)
    }
}

