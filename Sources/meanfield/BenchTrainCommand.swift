import ArgumentParser
import Foundation
import MeanField
import MeanFieldKernels

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

    @Option(help: "Scalar type of the timed steps: float32 or float64 (the limit studies' precision; % of peak then divides by half the measured FP32 peak: the same FMA pipes, half the lanes per vector). Default: float32.")
    var precision: Precision = .float32

    @Option(help: "Fused engine: keep the attention weights for the backward pass, recompute them there (less memory, the same bits), or automatic (keep them up to \(Int(FusedShape.keptAttentionLimit)) scalars, all layers together). Default: automatic.")
    var attentionWeights: AttentionWeightStorage = .automatic

    @Option(help: "Timed steps per case. Default: 20.")
    var repeats: Int = 20

    @Option(help: "Untimed steps before timing. Default: 3.")
    var warmup: Int = 3

    @Flag(help: "Also time every GEMM of the timed steps and print, per size and thread count, each product shape's calls, share of the GEMM time and GFLOP/s inside the step (two clock reads per GEMM call; with more than one thread, products inside a parallel loop count thread-seconds).")
    var gemmProfile = false

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
            try InputPath.checkFolder(export, flag: "--export")
            var risks: [String: [Double]] = [:]
            for benchCase in cases { risks[benchCase.name] = try TrainStepBenchmark.export(benchCase, kind: engine, to: export) }
            let data = try JSONSerialization.data(withJSONObject: risks, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let threadCounts = try positiveIntegers(threads, name: "--threads", atMost: .threads)
        var rows: [[String: Any]] = []
        let peak = GemmBenchmark.machinePeak()
        // FP64 on these ISAs: the FP32 FMA pipes on vectors of half as many lanes.
        let peakPerCore = precision == .float32 ? peak.peakGFLOPSPerCore : peak.peakGFLOPSPerCore / 2
        if !json {
            print(GemmBenchmark.header(peak))
            print("\(precision.rawValue) steps; FLOP per step = 3 × forward GEMM FLOPs (TrainStepBenchmark.forwardFLOPs); GFLOP/s and % of "
                  + (precision == .float32 ? "peak" : "FP64 peak (\(String(format: "%.1f", peakPerCore)) GFLOP/s per core = measured FP32 peak / 2)")
                  + " at the median; attention weights \(attentionWeights.rawValue)")
            print("size        engine    threads   min ms   median ms   max ms   MFLOP/step   GFLOP/s   % peak   (\(repeats) steps after \(warmup) warm-up)")
        }
        let (_, host) = HostActivity.measure {
            for benchCase in cases {
                for count in threadCounts {
                    let (samples, gemms) = precision == .float32
                        ? TrainStepBenchmark.time(benchCase, kind: engine, threads: count, warmup: warmup, repeats: repeats,
                                                  attentionWeights: attentionWeights, profileGemms: gemmProfile, as: Float.self)
                        : TrainStepBenchmark.time(benchCase, kind: engine, threads: count, warmup: warmup, repeats: repeats,
                                                  attentionWeights: attentionWeights, profileGemms: gemmProfile, as: Double.self)
                    let (low, median, high) = (samples.first!, samples[samples.count / 2], samples.last!)
                    let flops = TrainStepBenchmark.stepFLOPs(benchCase), gflops = flops / (median * 1e6)
                    let fraction = gflops / (peakPerCore * Double(min(count, peak.processors)))
                    var row: [String: Any] = ["size": benchCase.name, "engine": engine.rawValue, "precision": precision.rawValue, "threads": count,
                                              "attention_weights": attentionWeights.rawValue,
                                              "min_ms": low, "median_ms": median, "max_ms": high, "flops_per_step": flops,
                                              "gflops": gflops, "fraction_of_peak": fraction]
                    let profile = gemmProfile
                        ? GemmProfileTable(entries: gemms, steps: repeats, threads: min(count, peak.processors),
                                           stepMilliseconds: samples.reduce(0, +), peakPerCore: peakPerCore)
                        : nil
                    if let profile { row["gemm_profile"] = profile.jsonObject }
                    rows.append(row)
                    if !json {
                        let label = benchCase.name.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + engine.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                        print(label + String(format: " %7d %8.2f %11.2f %8.2f %12.1f %9.1f %7.1f%%", count, low, median, high,
                                             flops / 1e6, gflops, 100 * fraction))
                        if let profile { print(profile.text) }
                    }
                }
            }
        }
        let hugePages = HugePageReport.current()
        if !json {
            if let host { print(host.summary) }
            print(hugePages.summary)
        }
        if json {
            let machine: [String: Any] = ["cpu_model": peak.cpuModel, "cpu_level": peak.cpuLevel,
                                          "peak_gflops_per_core": peak.peakGFLOPSPerCore, "precision_peak_gflops_per_core": peakPerCore]
            var object: [String: Any] = ["results": rows, "machine": machine]
            if let host { object["host"] = host.jsonObject }
            object["huge_pages"] = hugePages.jsonObject
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

extension EngineKind: ExpressibleByArgument {}
extension AttentionWeightStorage: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
