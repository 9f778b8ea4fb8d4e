import ArgumentParser
import Foundation
import MeanField
import MeanFieldKernels

/// `meanfield bench`: performance benchmarks.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks of the numeric core.",
        subcommands: [GemmBench.self, TrainBench.self, MetricsBench.self]
    )
}

/// `meanfield bench gemm`: GEMM GFLOP/s per backend, size and thread count, as a fraction of peak.
struct GemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "FP32 GEMM throughput (GFLOP/s, min/median/max over repeats) per backend, size and thread count."
    )

    @Flag(help: "Print exactly one JSON object on stdout (progress goes to stderr).")
    var json = false

    @Option(help: "Comma-separated square sizes n (n×n·n×n).")
    var sizes: String = "128,256,512,1024,2048"

    @Option(help: "Comma-separated thread counts.")
    var threads: String = "1,2"

    @Option(help: "Comma-separated backends among swift, blas, auto.")
    var backends: String = "swift,blas"

    @Option(help: "Timed samples per case (each at least 50 ms).")
    var repeats: Int = 5

    @Flag(help: "Skip the Transformer shapes (8320×64·64×64, batched 65×16·16×65, ...).")
    var noTransformerShapes = false

    @Option(help: "Only the shapes whose name contains this text (e.g. 'scores', 'square 1024').")
    var only: String?

    func validate() throws {
        try checkRepeats(repeats, option: "--repeats", atLeast: 1)
        _ = try positiveIntegers(sizes, name: "--sizes", atMost: .size)
        _ = try positiveIntegers(threads, name: "--threads", atMost: .threads)
    }

    func run() throws {
        var configuration = GemmBenchmarkConfiguration()
        configuration.sizes = try positiveIntegers(sizes, name: "--sizes", atMost: .size)
        configuration.threads = try positiveIntegers(threads, name: "--threads", atMost: .threads)
        configuration.backends = try benchList(backends, name: "--backends") { GemmBenchmark.backend(named: $0) }
        // A, B and C of the largest square case in Float, before any is allocated.
        let largest = Double(configuration.sizes.max() ?? 0)
        try MemoryEstimate.check(bytes: 3 * largest * largest * 4, needs: "bench gemm at n = \(Int(largest)) (A, B, C in Float)",
                                 fix: "pass smaller --sizes")
        configuration.repeats = repeats
        configuration.includeTransformerShapes = !noTransformerShapes
        configuration.shapeFilter = only
        let peak = GemmBenchmark.machinePeak()
        if !json {
            print(GemmBenchmark.header(peak))
            print(Gemm.backendDescription())
        }
        var (report, host) = HostActivity.measure {
            GemmBenchmark.run(configuration, peak: peak) { line in
                // With --json, stdout holds the JSON object alone; progress goes to stderr.
                if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
            }
        }
        report.host = host
        if json { print(GemmBenchmark.json(report)) } else if let host { print(host.summary) }
    }
}

/// The values of a comma-separated benchmark option (a usage error if any does not parse).
func benchList<Value>(_ text: String, name: String, _ parse: (String) -> Value?) throws -> [Value] {
    let values = text.split(separator: ",").map { String($0.filter { $0 != " " }) }
    let parsed = values.compactMap(parse)
    guard !parsed.isEmpty, parsed.count == values.count else {
        throw ValidationError("\(name): cannot parse '\(text)'")
    }
    return parsed
}

/// Sizes and thread counts: integers in 1...`bound` (the bounds of the `train` keys, with their reasons).
func positiveIntegers(_ text: String, name: String, atMost bound: TrainBound) throws -> [Int] {
    let values = try benchList(text, name: name) { Int($0).flatMap { $0 > 0 ? $0 : nil } }
    if let large = values.first(where: { $0 > bound.value }) {
        throw ValidationError("\(name): expected integers ≤ \(bound.value) (\(bound.reason)), got \(large)")
    }
    return values
}

/// Timed or warm-up repeats: at least `minimum` (0 timed repeats would report times of nothing) and
/// at most 10⁶ (a typo guard: a million timed steps of the smallest case take hours).
func checkRepeats(_ value: Int, option: String, atLeast minimum: Int) throws {
    guard value >= minimum, value <= 1_000_000 else {
        throw ValidationError("\(option): expected an integer in \(minimum)...1000000, got '\(value)'")
    }
}
