import ArgumentParser
import Foundation
import MeanField

/// `meanfield bench train`: milliseconds per Transformer training step (risk, gradients, Euler
/// update), min/median/max, for the sizes compared with PyTorch in benchmarks/pytorch_transformer.py.
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Transformer training-step time (ms, min/median/max) per size, engine and thread count."
    )

    @Option(help: "Comma-separated sizes among regression, vit. Default: regression,vit.")
    var sizes: String = "regression,vit"

    @Option(help: "Comma-separated thread counts. Default: 1,2.")
    var threads: String = "1,2"

    @Option(help: "Engine: fused or autodiff. Default: fused.")
    var engine: EngineKind = .fused

    @Option(help: "Timed steps per case. Default: 20.")
    var repeats: Int = 20

    @Option(help: "Untimed steps before timing. Default: 3.")
    var warmup: Int = 3

    @Option(help: "Instead of timing: write <dir>/<size>.safetensors (F64 initial weights and batch) and print the risks of 10 Euler steps in Double as JSON.")
    var export: String?

    @Flag(help: "Print one JSON object on stdout.")
    var json = false

    func validate() throws {
        try checkRepeats(repeats, option: "--repeats", atLeast: 1)
        try checkRepeats(warmup, option: "--warmup", atLeast: 0)
        _ = try positiveIntegers(threads, name: "--threads", atMost: .threads)
    }

    func run() throws {
        let names = sizes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let cases = try names.map { name in
            guard let found = TrainStepBenchmark.cases.first(where: { $0.name == name }) else {
                throw ValidationError("--sizes: unknown size '\(name)' (known: regression, vit)")
            }
            return found
        }
        if let export {
            var risks: [String: [Double]] = [:]
            for benchCase in cases { risks[benchCase.name] = try TrainStepBenchmark.export(benchCase, kind: engine, to: export) }
            let data = try JSONSerialization.data(withJSONObject: risks, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let threadCounts = try positiveIntegers(threads, name: "--threads", atMost: .threads)
        var rows: [[String: Any]] = []
        if !json { print("size        engine    threads   min ms   median ms   max ms   (\(repeats) steps after \(warmup) warm-up)") }
        for benchCase in cases {
            for count in threadCounts {
                let samples = TrainStepBenchmark.time(benchCase, kind: engine, threads: count, warmup: warmup, repeats: repeats)
                let (low, median, high) = (samples.first!, samples[samples.count / 2], samples.last!)
                rows.append(["size": benchCase.name, "engine": engine.rawValue, "threads": count,
                             "min_ms": low, "median_ms": median, "max_ms": high])
                if !json {
                    let label = benchCase.name.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + engine.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                    print(label + String(format: " %7d %8.2f %11.2f %8.2f", count, low, median, high))
                }
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["results": rows], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

extension EngineKind: ExpressibleByArgument {}
