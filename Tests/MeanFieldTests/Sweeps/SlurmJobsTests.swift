// What `meanfield sweep --emit slurm` asks Slurm for and how its scripts behave, without Slurm
// (Sources/MeanField/Sweeps/SlurmResources.swift, SlurmSite.swift, SlurmScript.swift): the resource
// flags and their checks, arrays cut at MaxArraySize, node-local path warnings, threads following
// SLURM_CPUS_PER_TASK, and submit.sh and sweep.sbatch run by bash against stand-ins for sbatch and
// meanfield that record their arguments. scripts/slurm_sweep_test.sh runs them on a real Slurm.
import Foundation
import MeanField
import Testing

private func folder(_ name: String) -> String { NSTemporaryDirectory() + "meanfield-slurm-jobs-\(name)-\(getpid())" }

private func runner(_ directory: String, arguments: [String] = ["--heads", "1,2,4"], threads: Int = 2) throws -> SweepRunner {
    SweepRunner(manifest: SweepManifest(grid: try SweepGrid.make(arguments: arguments)), directory: directory,
                executable: "/shared/bin/meanfield", threadsPerRun: threads, parallel: 1)
}

/// The message of the error `body` throws ("" when it does not throw).
private func refusal(_ body: () throws -> SlurmResources) -> String {
    do { _ = try body(); return "" } catch { return "\(error)" }
}

/// Runs `bash script` with `environment` added; returns its exit status.
private func bash(_ script: String, _ arguments: [String] = [], environment: [String: String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [script] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// An executable stand-in that appends its arguments, one line per call, to `log` and prints `output`.
private func standIn(_ path: String, log: String, output: String = "") throws {
    try "#!/bin/bash\necho \"$*\" >> \(log)\n\(output)\n".write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
}

@Suite struct SlurmJobsTests {
    @Test(arguments: ["30", "30:00", "2:00:00", "1-0", "1-12", "2-12:30", "2-12:30:15", "UNLIMITED"])
    func slurmTimeFormatsAreAccepted(time: String) throws {
        #expect(try SlurmResources(time: time).directives == ["--time=\(time)"])
    }

    @Test(arguments: ["", "2h", "1:2:3:4", "-5", "1-", "1:xx", "2 hours"])
    func otherTimesAreRefusedNamingTheFlag(time: String) {
        let message = refusal { try SlurmResources(time: time) }
        #expect(message.hasPrefix("--time: expected minutes") && message.hasSuffix("got '\(time)'"), "\(message)")
    }

    @Test func memoryPartitionAccountQosAndFreeOptionsBecomeDirectivesInOrder() throws {
        let resources = try SlurmResources(time: "1:00:00", memory: "4G", partition: "cpu,short", account: "proj-1", qos: "normal",
                                           extraArguments: ["--gres=gpu:1", "--exclusive"])
        #expect(resources.directives == ["--time=1:00:00", "--mem=4G", "--partition=cpu,short", "--account=proj-1", "--qos=normal", "--gres=gpu:1", "--exclusive"])
        #expect(try SlurmResources(memoryPerCPU: "2048").directives == ["--mem-per-cpu=2048"])
        #expect(SlurmResources.none.directives.isEmpty)
    }

    @Test func badResourcesAreRefusedWithOneLineNamingTheFlag() {
        let cases: [(() throws -> SlurmResources, String)] = [
            ({ try SlurmResources(memory: "4G", memoryPerCPU: "1G") }, "--mem and --mem-per-cpu are exclusive"),
            ({ try SlurmResources(memory: "4GB") }, "--mem: expected an integer"),
            ({ try SlurmResources(memoryPerCPU: "lots") }, "--mem-per-cpu: expected an integer"),
            ({ try SlurmResources(partition: "a b") }, "--partition: expected a Slurm name"),
            ({ try SlurmResources(account: "x;rm") }, "--account: expected a Slurm name"),
            ({ try SlurmResources(qos: "") }, "--qos: expected a Slurm name"),
            ({ try SlurmResources(extraArguments: ["gres=gpu:1"]) }, "--sbatch-arg: expected an sbatch option"),
            ({ try SlurmResources(extraArguments: ["--comment=a\n#SBATCH --x"]) }, "control character"),
            ({ try SlurmResources(extraArguments: ["--time=5"]) }, "use --time"),
            ({ try SlurmResources(extraArguments: ["-p", "gpu"]) }, "use --partition"),
            ({ try SlurmResources(extraArguments: ["-c4"]) }, "use --threads-per-run"),
            ({ try SlurmResources(extraArguments: ["--array=0-3"]) }, "--max-array-size"),
        ]
        for (make, message) in cases {
            let refused = refusal(make)
            #expect(refused.contains(message) && !refused.contains("\n"), "\(refused)")
        }
    }

    @Test func maxArraySizeIsReadFromScontrolShowConfig() {
        let config = "Configuration data as of 2026-12-02T04:00:00\nAccountingStorageType   = accounting_storage/none\nMaxArraySize            = 4001\nMaxJobCount             = 10000\n"
        #expect(SlurmSite.maxArraySize(fromConfig: config) == 4001)
        #expect(SlurmSite.maxArraySize(fromConfig: "MaxJobCount = 10000\n") == nil)
    }

    @Test(arguments: [(2500, 1001), (1001, 1001), (1002, 1001), (7, 3), (1, 5)])
    func arraysAreCutIntoConsecutiveChunksBelowMaxArraySize(count: Int, max: Int) {
        let chunks = SlurmSite.chunks(count: count, maxArraySize: max)
        #expect(chunks.flatMap { Array($0) } == Array(0 ..< count))
        #expect(chunks.allSatisfy { $0.count <= max && !$0.isEmpty })
        #expect(chunks.count == (count + max - 1) / max)
    }

    @Test func nodeLocalPathsAreWarnedAboutOncePerPath() {
        let warnings = SlurmSite.nodeLocalWarnings(executable: "/home/me/MeanField/.build/release/meanfield", sweepDirectory: "/tmp/sweep",
                                                   workingDirectory: "/dev/shm/x")
        #expect(warnings.count == 3)
        #expect(warnings[0].hasPrefix("the meanfield binary /home/me/MeanField/.build/release/meanfield is inside a SwiftPM build folder"))
        #expect(warnings[1].hasPrefix("the sweep folder /tmp/sweep is node-local (/tmp)"))
        #expect(warnings[2].hasPrefix("the working directory /dev/shm/x is node-local (/dev/shm)"))
        #expect(SlurmSite.nodeLocalWarnings(executable: "/shared/bin/meanfield", sweepDirectory: "/scratch/tmpl/sweep", workingDirectory: "/home/me").isEmpty)
    }

    @Test func resourcesGoToTheArrayAndTheReportJob() throws {
        let directory = folder("resources")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let resources = try SlurmResources(time: "2:00:00", memoryPerCPU: "2G", account: "lab", extraArguments: ["--constraint=avx512"])
        try SlurmScript.emit(runner: runner(directory), parallel: nil, resources: resources, maxArraySize: 1001, workingDirectory: "/srv")
        for name in [SlurmScript.scriptFileName, SlurmScript.reportScriptFileName] {
            let lines = try String(contentsOfFile: directory + "/" + name, encoding: .utf8).split(separator: "\n")
            #expect(Array(lines.filter { $0.hasPrefix("#SBATCH ") }.suffix(4)) == ["#SBATCH --time=2:00:00", "#SBATCH --mem-per-cpu=2G", "#SBATCH --account=lab", "#SBATCH --constraint=avx512"])
        }
        let report = try String(contentsOfFile: directory + "/" + SlurmScript.reportScriptFileName, encoding: .utf8)
        #expect(report.contains("\"$MEANFIELD\" sweep --summarize \(directory)\n\"$MEANFIELD\" diagnose \(directory)\n\"$MEANFIELD\" report \(directory)\n"))
    }

    /// submit.sh against an sbatch stand-in: one submission per chunk (offset, local array, log
    /// name), then the report job depending on every array job with afterok.
    @Test func submitScriptSubmitsEveryChunkThenTheReportJobAfterThemAll() throws {
        let directory = folder("submit")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = try SlurmScript.emit(runner: runner(directory, arguments: ["--heads", "1,2,3,4,5,6,7"]), parallel: 2, maxArraySize: 3)
        #expect(script.chunks == [0 ..< 3, 3 ..< 6, 6 ..< 7])
        let bin = directory + "/bin", log = directory + "/sbatch.log"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try standIn(bin + "/sbatch", log: log, output: "echo $((100 + $(wc -l < \(log))))\\;cluster")
        let status = try bash(directory + "/" + SlurmScript.submitFileName, ["--partition=debug"],
                              environment: ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        #expect(status == 0)
        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        let sbatch = directory + "/sweep.sbatch"
        #expect(calls == [
            "--parsable --partition=debug --array=0-2%2 --export=ALL,MEANFIELD_TASK_OFFSET=0 --output=\(directory)/runs/%x-%A_%a+0.log \(sbatch)",
            "--parsable --partition=debug --array=0-2%2 --export=ALL,MEANFIELD_TASK_OFFSET=3 --output=\(directory)/runs/%x-%A_%a+3.log \(sbatch)",
            "--parsable --partition=debug --array=0-0%1 --export=ALL,MEANFIELD_TASK_OFFSET=6 --output=\(directory)/runs/%x-%A_%a+6.log \(sbatch)",
            "--parsable --partition=debug --dependency=afterok:101:102:103 --kill-on-invalid-dep=yes \(directory)/report.sbatch",
        ])
    }

    /// sweep.sbatch as Slurm starts it, against a meanfield stand-in: the run index adds the chunk's
    /// offset and the threads are SLURM_CPUS_PER_TASK.
    @Test func arrayTaskRunsItsOffsetRunWithTheAllocatedCPUs() throws {
        let directory = folder("task")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SlurmScript.emit(runner: runner(directory), parallel: nil, maxArraySize: 1001)
        let log = directory + "/meanfield.log"
        try standIn(directory + "/meanfield", log: log)
        let status = try bash(directory + "/" + SlurmScript.scriptFileName, environment: [
            "SLURM_ARRAY_TASK_ID": "4", "MEANFIELD_TASK_OFFSET": "1001", "SLURM_CPUS_PER_TASK": "6", "MEANFIELD": directory + "/meanfield"])
        #expect(status == 0)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "sweep --array-task 1005 --threads-per-run 6 --out \(directory)\n")
    }

    @Test func arrayTaskThreadsReplaceTheEmittedOnes() throws {
        let directory = folder("threads")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let emitted = try runner(directory, threads: 2)
        try SlurmScript.emit(runner: emitted, parallel: nil, maxArraySize: 1001)
        let allocated = try runner(directory, threads: 7)
        let run = allocated.manifest.runs[2]
        #expect(try SweepRunner.arrayTask(index: 2, directory: directory, threads: 7, report: { _ in }) == .run(arguments: ["train"] + allocated.trainArguments(run)))
        #expect(try SweepRunner.arrayTask(index: 2, directory: directory, report: { _ in }) == .run(arguments: ["train"] + emitted.trainArguments(run)))
    }
}
