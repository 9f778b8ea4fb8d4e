import ArgumentParser
import Foundation
import MeanField
import MeanFieldKernels

/// `meanfield bench metrics`: the Sinkhorn divergence, sliced W2 and MMD² between two clouds read
/// from a safetensors file, timed (benchmarks/metrics_vs_pot_geomloss.py runs POT and GeomLoss on
/// the same file).
struct MetricsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Particle-cloud distances between the clouds x and y of a safetensors file: values and seconds (min/median/max)."
    )

    @Option(help: "safetensors file with F64 tensors x [n, p] and y [m, p] (and optionally directions [K, p] for sliced W2).")
    var clouds: String

    @Option(help: "Comma-separated metrics among sinkhorn, sliced, mmd. Default: sinkhorn.")
    var metrics: String = "sinkhorn"

    @Option(help: "Sinkhorn blur ε, in units of the squared distance. Default: 0.1.")
    var epsilon: Double = 0.1

    @Option(help: "Sinkhorn stopping tolerance: L1 error of the plan's marginals. Default: 1e-5.")
    var tolerance: Double = 1e-5

    @Option(help: "Sinkhorn ε-scaling factor in (0, 1), or 'none'. Default: 0.5.")
    var scaling: String = "0.5"

    @Option(help: "Sinkhorn iteration cap per OT problem. Default: 1000.")
    var maxIterations: Int = 1_000

    @Option(help: "MMD Gaussian bandwidth h (k = exp(−|x−y|²/2h²)). Default: the median heuristic.")
    var bandwidth: Double?

    @Option(help: "Timed repeats per metric. Default: 3.")
    var repeats: Int = 3

    @Option(help: "Worker threads. Default: all (or MEANFIELD_THREADS).")
    var threads: Int?

    @Flag(help: "Print one JSON object on stdout (progress goes to stderr).")
    var json = false

    func validate() throws {
        try checkRepeats(repeats, option: "--repeats", atLeast: 1)
        try checkTolerance(epsilon, option: "--epsilon")
        try checkTolerance(tolerance)
        guard (1...1_000_000).contains(maxIterations) else {
            throw ValidationError("--max-iterations: expected an integer in 1...1000000, got '\(maxIterations)'")
        }
        if scaling != "none" {
            guard let factor = Double(scaling), factor > 0, factor < 1 else {
                throw ValidationError("--scaling: expected a number in (0, 1) or 'none', got '\(scaling)'")
            }
        }
        if let bandwidth { try checkTolerance(bandwidth, option: "--bandwidth") }
        if let threads { _ = try positiveIntegers(String(threads), name: "--threads", atMost: .threads) }
        for name in metrics.split(separator: ",", omittingEmptySubsequences: false) where !MetricsBenchmark.metricNames.contains(String(name)) {
            throw ValidationError("--metrics: expected a comma-separated list of sinkhorn, sliced, mmd, got '\(name)'")
        }
    }

    func run() throws {
        let names = try benchList(metrics, name: "--metrics") { MetricsBenchmark.metricNames.contains($0) ? $0 : nil }
        if let threads { Threading.threadCount = min(threads, Threading.processorCount) }
        let (x, y, directions) = try MetricsBenchmark.clouds(path: clouds)
        let settings = MetricsBenchmark.Settings(
            sinkhorn: SinkhornDivergence(epsilon: epsilon, tolerance: tolerance, maxIterations: maxIterations,
                                         epsilonScaling: scaling == "none" ? nil : Double(scaling)),
            bandwidth: bandwidth, metrics: names, repeats: repeats)
        var (result, host) = try HostActivity.measure {
            try MetricsBenchmark.run(x: x, y: y, directions: directions, settings: settings) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        if let host {
            result["host"] = host.jsonObject
            FileHandle.standardError.write(Data((host.summary + "\n").utf8))
        }
        let data = try JSONSerialization.data(withJSONObject: result, options: json ? [.sortedKeys] : [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }
}
