// Hostile invocations of every command through the real binary (issue 17): extreme numbers (values
// near Int.max, in flags and config files), memory bombs, odd paths (empty, root, FIFOs, folders),
// vacuous tolerances and zero repeats. Each must end in exactly one "Error:" line naming the flag
// and the bound or estimate — never an overflow trap (status 132/134), never training or a run folder
// in the working directory. Each runs in a fresh working directory.
import Foundation
import Testing

private let folder = NSTemporaryDirectory() + "meanfield-hostile-\(getpid())"
private let intMax = String(Int.max)
private let sizeBound = ["2147483647", "32-bit integers"]

private let files: [String: String] = [
    "huge-heads.toml": "heads = 9223372036854775807\n",
    "huge-steps.yaml": "lr: 0.01\nsteps: 1e13\n",
    "huge-examples.json": "{\n  \"examples\": 9223372036854775807\n}\n",
    "huge-grid.toml": "seeds = 100000000\n",
    // Nested aliases ("billion laughs"): 9⁹ ≈ 3.9·10⁸ strings once expanded.
    "bomb.yaml": yamlBomb,
    // The same without nesting deeper than a map of lists: caught by the value budget.
    "flat-bomb.yaml": "a: &a [" + Array(repeating: "1", count: 1000).joined(separator: ",") + "]\n"
        + (0..<200).map { "k\($0): *a\n" }.joined(),
]

private let yamlBomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    + zip("bcdefghi", "abcdefgh").map { name, previous in "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n" }.joined()

private func file(_ name: String) -> String { folder + "/" + name }

private let table: [BadInvocation] = [
    // train: sizes near Int.max (they used to trap in the memory estimate, disk check or workspace planning).
    .init(arguments: ["train", "--heads", intMax], status: 1, mentions: ["--heads: expected an integer ≤ 2147483647"] + sizeBound),
    .init(arguments: ["train", "--layers", intMax], status: 1, mentions: ["--layers"] + sizeBound),
    .init(arguments: ["train", "--token-dim", intMax], status: 1, mentions: ["--token-dim", "2...2147483647"]),
    .init(arguments: ["train", "--examples", intMax], status: 1, mentions: ["--examples"] + sizeBound),
    .init(arguments: ["train", "--train-size", intMax], status: 1, mentions: ["--train-size"] + sizeBound),
    .init(arguments: ["train", "--eval-size", intMax], status: 1, mentions: ["--eval-size"] + sizeBound),
    .init(arguments: ["train", "--input-dim", intMax], status: 1, mentions: ["--input-dim"] + sizeBound),
    .init(arguments: ["train", "--ffn-units", intMax], status: 1, mentions: ["--ffn-units"] + sizeBound),
    .init(arguments: ["train", "--batch-size", intMax, "--train-size", "0"], status: 1, mentions: ["--batch-size"] + sizeBound),
    .init(arguments: ["train", "--attention", "factored", "--head-dim", intMax], status: 1, mentions: ["--head-dim", "1...2147483647"]),
    .init(arguments: ["train", "--heads", "99999999999999999999"], status: 1, mentions: ["--heads"] + sizeBound),
    .init(arguments: ["train", "--heads", "1e300"], status: 1, mentions: ["--heads"] + sizeBound),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--units", intMax], status: 1, mentions: ["--units"] + sizeBound),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--hidden-dim", intMax], status: 1, mentions: ["--hidden-dim"] + sizeBound),
    .init(arguments: ["train", "--task", "synthetic-images", "--patch", intMax], status: 1, mentions: ["--patch"] + sizeBound),
    .init(arguments: ["train", "--task", "synthetic-images", "--subset", intMax], status: 1, mentions: ["--subset"] + sizeBound),
    .init(arguments: ["train", "--threads", intMax], status: 1, mentions: ["--threads", "1...1024"]),
    .init(arguments: ["train", "--seed", "18446744073709551616"], status: 1, mentions: ["--seed", "integer in 0..."]),
    // train: counts (steps, epochs, cadences) and their products.
    .init(arguments: ["train", "--steps", intMax, "--checkpoint-every", "1"], status: 1, mentions: ["--steps", "≤ 1000000000000", "11 days"]),
    .init(arguments: ["train", "--task", "synthetic-images", "--epochs", intMax], status: 1, mentions: ["--epochs", "≤ 1000000000000"]),
    .init(arguments: ["train", "--warmup-steps", intMax], status: 1, mentions: ["--warmup-steps", "≤ 1000000000000"]),
    .init(arguments: ["train", "--log-every", intMax], status: 1, mentions: ["--log-every", "≤ 1000000000000"]),
    .init(arguments: ["train", "--checkpoint-every", intMax], status: 1, mentions: ["--checkpoint-every", "≤ 1000000000000"]),
    .init(arguments: ["train", "--schedule", "step", "--decay-every", intMax], status: 1, mentions: ["--decay-every", "≤ 1000000000000"]),
    .init(arguments: ["train", "--steps", "1000000000000", "--checkpoint-every", "1"], status: 1, mentions: ["1000000000001 checkpoints", "free"]),
    .init(arguments: ["train", "--epochs", "1000", "--train-size", "2147483647", "--batch-size", "1"], status: 1,
          mentions: ["--epochs 1000", "1000 × 2147483647 steps", "more than 1000000000000"]),
    .init(arguments: ["train", "--epochs", "1", "--train-size", "1000", "--batch-size", "1", "--checkpoint-every-epochs", "1000000000000"], status: 1,
          mentions: ["--checkpoint-every-epochs", "× 1000 steps"]),
    // train: sizes within their bounds but beyond memory: the estimate and the limit.
    .init(arguments: ["train", "--heads", "2147483647"], status: 1, mentions: ["this config needs about", "GiB available"]),
    .init(arguments: ["train", "--examples", "2147483647"], status: 1, mentions: ["this config needs about", "GiB available"]),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--units", "2147483647"], status: 1, mentions: ["this config needs about"]),
    // train: config files hold the same bounds.
    .init(arguments: ["train", "--config", file("huge-heads.toml")], status: 1, mentions: ["huge-heads.toml line 1", "'heads'"] + sizeBound),
    .init(arguments: ["train", "--config", file("huge-steps.yaml")], status: 1, mentions: ["huge-steps.yaml line 2", "'steps'", "≤ 1000000000000"]),
    .init(arguments: ["train", "--config", file("huge-examples.json")], status: 1, mentions: ["huge-examples.json line 2", "'examples'"] + sizeBound),
    // train and sweep: YAML alias bombs are measured before they are expanded.
    .init(arguments: ["train", "--config", file("bomb.yaml")], status: 1, mentions: ["bomb.yaml", "YAML nested deeper than a map of lists"]),
    .init(arguments: ["train", "--config", file("flat-bomb.yaml")], status: 1, mentions: ["flat-bomb.yaml", "more than 100000 YAML values"]),
    .init(arguments: ["sweep", "--out", file("s10"), "--grid", file("bomb.yaml")], status: 1, mentions: ["bomb.yaml", "YAML nested deeper"]),
    .init(arguments: ["sweep", "--out", file("s11"), "--grid", file("flat-bomb.yaml")], status: 1, mentions: ["flat-bomb.yaml", "more than 100000 YAML values"]),
    // train: odd paths.
    .init(arguments: ["train", "--out", ""], status: 1, mentions: ["--out: expected a path, got ''"]),
    .init(arguments: ["train", "--out", "/"], status: 1, mentions: ["--out /", "root folder"]),
    .init(arguments: ["train", "--resume", ""], status: 1, mentions: ["--resume: expected a path"]),
    .init(arguments: ["train", "--resume", "/"], status: 1, mentions: ["--resume /", "root folder"]),
    .init(arguments: ["train", "--config", ""], status: 1, mentions: ["--config: expected a path"]),
    .init(arguments: ["train", "--config", file("fifo.toml")], status: 1, mentions: ["--config", "fifo.toml", "is a FIFO (named pipe), not a regular file"]),
    .init(arguments: ["train", "--config", file("folder.toml")], status: 1, mentions: ["--config", "is a directory, not a regular file"]),
    .init(arguments: ["train", "--config", "/dev/zero.toml"], status: 1, mentions: ["--config /dev/zero.toml", "cannot read"]),
    .init(arguments: ["train", "--task", "fashion-mnist", "--data", ""], status: 1, mentions: ["--data: expected a path"]),
    .init(arguments: ["train", "--task", "fashion-mnist", "--data", "/"], status: 1, mentions: ["--data /", "root folder"]),
    .init(arguments: ["train", "--task", "fashion-mnist", "--data", file("fifo-dataset")], status: 1, mentions: ["train-images-idx3-ubyte", "is a FIFO"]),
    // demo: its flags go through the train key table.
    .init(arguments: ["demo", "--heads", intMax], status: 64, mentions: ["--heads"] + sizeBound),
    .init(arguments: ["demo", "--layers", intMax], status: 64, mentions: ["--layers"] + sizeBound),
    .init(arguments: ["demo", "--steps", "10000000000000"], status: 64, mentions: ["--steps", "≤ 1000000000000"]),
    .init(arguments: ["demo", "--batch-size", "2147483647"], status: 1, mentions: ["this config needs about", "GiB available"]),
    .init(arguments: ["demo", "--batch-size", "0"], status: 64, mentions: ["--batch-size", "≥ 1"]),
    .init(arguments: ["demo", "--threads", "5000"], status: 64, mentions: ["--threads", "1...1024"]),
    .init(arguments: ["demo", "--lr", "nan"], status: 64, mentions: ["--lr", "number > 0"]),
    .init(arguments: ["demo", "--out", ""], status: 1, mentions: ["--out: expected a path"]),
    .init(arguments: ["demo", "--out", "/"], status: 1, mentions: ["--out /", "root folder"]),
    // adjoint-check: the train keys, a memory estimate and a real tolerance.
    .init(arguments: ["adjoint-check", "--heads", intMax], status: 1, mentions: ["--heads"] + sizeBound),
    .init(arguments: ["adjoint-check", "--examples", intMax], status: 1, mentions: ["--examples"] + sizeBound),
    .init(arguments: ["adjoint-check", "--heads", "100000000"], status: 1, mentions: ["this config needs about"]),
    .init(arguments: ["adjoint-check", "--tolerance", "nan"], status: 64, mentions: ["--tolerance", "finite number > 0", "'nan'"]),
    .init(arguments: ["adjoint-check", "--tolerance", "inf"], status: 64, mentions: ["--tolerance", "finite number > 0"]),
    .init(arguments: ["adjoint-check", "--tolerance", "0"], status: 64, mentions: ["--tolerance", "finite number > 0"]),
    .init(arguments: ["adjoint-check", "--tolerance=-1"], status: 64, mentions: ["--tolerance", "finite number > 0"]),
    .init(arguments: ["adjoint-check", "--out", ""], status: 1, mentions: ["--out: expected a path"]),
    // bench: repeats, sizes and memory.
    .init(arguments: ["bench", "train", "--repeats", "0"], status: 64, mentions: ["--repeats", "1...1000000"]),
    .init(arguments: ["bench", "train", "--warmup=-1"], status: 64, mentions: ["--warmup", "0...1000000"]),
    .init(arguments: ["bench", "train", "--threads", "0"], status: 64, mentions: ["--threads"]),
    .init(arguments: ["bench", "gemm", "--repeats", "0"], status: 64, mentions: ["--repeats", "1...1000000"]),
    .init(arguments: ["bench", "gemm", "--repeats", intMax], status: 64, mentions: ["--repeats", "1...1000000"]),
    .init(arguments: ["bench", "gemm", "--sizes", intMax], status: 64, mentions: ["--sizes"] + sizeBound),
    .init(arguments: ["bench", "gemm", "--threads", "100000"], status: 64, mentions: ["--threads", "≤ 1024"]),
    .init(arguments: ["bench", "gemm", "--sizes", "1000000", "--no-transformer-shapes"], status: 1,
          mentions: ["bench gemm at n = 1000000", "needs about", "available", "--sizes"]),
    // rff-kernel, ntk-check, varpro: bounds and memory estimates.
    .init(arguments: ["rff-kernel", "--input-dim", intMax], status: 1, mentions: ["--input-dim"] + sizeBound),
    .init(arguments: ["rff-kernel", "--input-dim", "100000000"], status: 1, mentions: ["rff-kernel with", "needs about", "--input-dim"]),
    .init(arguments: ["rff-kernel", "--feature-scale", "nan"], status: 1, mentions: ["--feature-scale"]),
    .init(arguments: ["rff-kernel", "--out", ""], status: 1, mentions: ["--out: expected a path"]),
    .init(arguments: ["ntk-check", "--sets", intMax], status: 1, mentions: ["--sets"] + sizeBound),
    .init(arguments: ["ntk-check", "--tokens", intMax], status: 1, mentions: ["--tokens"] + sizeBound),
    .init(arguments: ["ntk-check", "--dimension", intMax], status: 1, mentions: ["--dimension"] + sizeBound),
    .init(arguments: ["ntk-check", "--directions", intMax], status: 1, mentions: ["--directions"] + sizeBound),
    .init(arguments: ["ntk-check", "--sets", "2000000"], status: 1, mentions: ["ntk-check with K = 2000000", "needs about"]),
    .init(arguments: ["ntk-check", "--tolerance", "nan"], status: 1, mentions: ["--tolerance", "(0, 1)"]),
    .init(arguments: ["varpro", "--width", intMax], status: 1, mentions: ["--width"] + ["at most 2147483647"]),
    .init(arguments: ["varpro", "--samples", intMax], status: 1, mentions: ["--samples", "at most 2147483647"]),
    .init(arguments: ["varpro", "--steps", intMax], status: 1, mentions: ["--steps", "at most 1000000000000"]),
    .init(arguments: ["varpro", "--pde-grid", intMax], status: 1, mentions: ["--pde-grid", "at most 2147483647"]),
    .init(arguments: ["varpro", "--teacher-grid", intMax], status: 1, mentions: ["--teacher-grid", "at most 2147483647"]),
    .init(arguments: ["varpro", "--width", "100000", "--samples", "10000000"], status: 1, mentions: ["varpro with m = 100000", "needs about"]),
    .init(arguments: ["varpro", "--steps", "1000000000000", "--record-every", "1"], status: 1, mentions: ["varpro with", "records", "--record-every"]),
    .init(arguments: ["varpro", "--time-step", "nan"], status: 1, mentions: ["--time-step"]),
    .init(arguments: ["varpro", "--out", ""], status: 1, mentions: ["--out: expected a path"]),
    // sweep: the grid is bounded before it is expanded; paths and counts.
    .init(arguments: ["sweep", "--out", file("s1"), "--seeds", "100000000"], status: 1, mentions: ["--seeds 100000000", "100000 a sweep may have"]),
    .init(arguments: ["sweep", "--out", file("s2"), "--seeds", intMax], status: 1, mentions: ["--seeds", "100000 a sweep may have"]),
    .init(arguments: ["sweep", "--out", file("s3"), "--heads", "1,2,3,4,5,6,7,8,9,10", "--layers", "1,2,3,4,5,6,7,8,9,10",
                      "--lr", "1,2,3,4,5,6,7,8,9,10", "--seeds", "1000"], status: 1, mentions: ["the grid (10 heads × 10 layers × 10 lr × 1000 seed)", "1000000 runs"]),
    .init(arguments: ["sweep", "--grid", file("huge-grid.toml"), "--out", file("s4")], status: 1, mentions: ["huge-grid.toml", "'seeds' 100000000"]),
    .init(arguments: ["sweep", "--out", file("s5"), "--heads", "1,\(intMax)"], status: 1, mentions: ["--heads"] + sizeBound),
    .init(arguments: ["sweep", "--out", file("s6"), "--threads-per-run", "5000"], status: 1, mentions: ["--threads-per-run", "1...1024"]),
    .init(arguments: ["sweep", "--out", file("s7"), "--parallel", "0"], status: 1, mentions: ["--parallel"]),
    .init(arguments: ["sweep", "--out", ""], status: 1, mentions: ["--out: expected a path"]),
    .init(arguments: ["sweep", "--out", "/"], status: 1, mentions: ["--out /", "root folder"]),
    .init(arguments: ["sweep", "--out", file("s8"), "--grid", ""], status: 1, mentions: ["--grid"]),
    .init(arguments: ["sweep", "--out", file("s9"), "--grid", file("fifo.toml")], status: 1, mentions: ["--grid", "is a FIFO"]),
    // diagnose, report.
    .init(arguments: ["diagnose", folder, "--eval-size", intMax], status: 64, mentions: ["--eval-size"] + sizeBound),
    .init(arguments: ["report", folder, "--layer", "-1"], status: 64, mentions: ["--layer"]),
    .init(arguments: ["report", folder, "--layer", intMax], status: 64, mentions: ["--layer"]),
]

@Suite(.enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct HostileInvocationTests {
    init() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: file(name), atomically: true, encoding: .utf8) }
        try FileManager.default.createDirectory(atPath: file("folder.toml"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: file("fifo-dataset"), withIntermediateDirectories: true)
        for fifo in [file("fifo.toml"), file("fifo-dataset/train-images-idx3-ubyte")] where !FileManager.default.fileExists(atPath: fifo) {
            #expect(mkfifo(fifo, 0o600) == 0)
        }
    }

    @Test func theTableCoversEveryCommand() {
        #expect(table.count >= 100)
        let commands = Set(table.map { $0.arguments[0] })
        #expect(commands == ["train", "demo", "adjoint-check", "bench", "rff-kernel", "ntk-check", "varpro", "sweep", "diagnose", "report"])
    }

    @Test(arguments: table)
    func hostileInvocationEndsInOneLineNamingTheProblem(_ invocation: BadInvocation) throws {
        // A fresh working directory: nothing may be written there (an empty --out used to train in it).
        let cwd = folder + "/cwd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: meanfieldBinary!)
        process.arguments = invocation.arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let pipe = Pipe()
        (process.standardOutput, process.standardError) = (pipe, pipe)
        let started = Date()
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 30, "took \(Date().timeIntervalSince(started)) s")
        #expect(process.terminationStatus == invocation.status, "\(output)")
        let errorLines = output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(errorLines.count == 1, "expected one Error: line, got \(output)")
        #expect(!output.contains("Backtracing") && !output.contains("Fatal error"), "\(output)")
        let line = errorLines.first.map(String.init) ?? ""
        for text in invocation.mentions { #expect(line.contains(text), "'\(text)' missing from: \(line)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd).isEmpty, "a hostile invocation wrote into the working directory")
    }

    @Test func aNonFiniteAdjointIsADisagreementNeverAgree() throws {
        let out = folder + "/adjoint-overflow"
        let result = try meanfield(["adjoint-check", "--init-std", "1e30", "--out", out])
        #expect(result.status == 1, "\(result.output)")
        let verdict = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("risk ") }, "\(result.output)")
        #expect(verdict.hasSuffix("DISAGREE") && verdict.contains("largest relative difference inf"), "\(verdict)")
        // adjoint.jsonl stays valid JSON (inf as "inf") and its report renders.
        let report = try meanfield(["report", out])
        #expect(report.status == 0, "\(report.output)")
    }
}
