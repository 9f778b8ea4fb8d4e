// `meanfield bench metrics`: the particle-cloud distances (Metrics/) timed on two clouds read from a
// safetensors file, so that benchmarks/metrics_vs_pot_geomloss.py can run POT and GeomLoss on the
// same points and compare values and times side by side.
import Foundation
import MeanFieldCore
import MeanFieldKernels
import MeanFieldTraining

/// Times and values of the Sinkhorn divergence, sliced W2 and MMD² between the clouds `x` and `y` of
/// one file (F64 tensors `[n, p]` and `[m, p]`).
public enum MetricsBenchmark {
    /// The settings of one benchmark run.
    public struct Settings: Sendable {
        public var sinkhorn: SinkhornDivergence
        /// MMD's Gaussian bandwidth h (`nil`: the median heuristic).
        public var bandwidth: Double?
        public var metrics: [String]
        public var repeats: Int
        public init(sinkhorn: SinkhornDivergence, bandwidth: Double?, metrics: [String], repeats: Int) {
            (self.sinkhorn, self.bandwidth, self.metrics, self.repeats) = (sinkhorn, bandwidth, metrics, repeats)
        }
    }

    /// The metrics this benchmark knows.
    public static let metricNames = ["sinkhorn", "sliced", "mmd"]

    /// Reads `x`, `y` and, if present, the sliced-W2 `directions` (`[K, p]`, unit rows) from `path`;
    /// one line naming the file and the problem otherwise.
    public static func clouds(path: String) throws -> (x: Tensor<Double>, y: Tensor<Double>, directions: Tensor<Double>?) {
        _ = try InputPath.regularFileSize(path, flag: "--clouds")
        let file = try SafeTensorsFile.read(path: path)
        let x = try file.tensor("x", as: Double.self, file: path), y = try file.tensor("y", as: Double.self, file: path)
        // Sizes, dimensions and finiteness are the metrics' own checks (one line each).
        _ = try PointCloud.sizes(x, y, metric: "bench metrics")
        let directions = file.names.contains("directions") ? try file.tensor("directions", as: Double.self, file: path) : nil
        return (x, y, directions)
    }

    /// One JSON-ready row per metric: the value(s), seconds per repeat (min, median, max) and, for
    /// Sinkhorn, the iterations and whether it converged. `progress` gets a line per repeat.
    public static func run(x: Tensor<Double>, y: Tensor<Double>, directions: Tensor<Double>?, settings: Settings,
                           progress: (String) -> Void) throws -> [String: Any] {
        var result: [String: Any] = ["n": x.shape[0], "m": y.shape[0], "p": x.shape[1], "threads": Threading.threadCount]
        for metric in settings.metrics {
            var seconds: [Double] = []
            var row: [String: Any] = [:]
            for repeat_ in 0..<settings.repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                switch metric {
                case "sinkhorn":
                    let value = try settings.sinkhorn.divergence(x, y)
                    row = ["value": value.divergence, "cross": value.crossCost, "self_x": value.selfCostFirst,
                           "self_y": value.selfCostSecond, "epsilon": value.epsilon, "iterations": value.iterations,
                           "converged": value.converged, "marginal_violation": value.marginalViolation]
                case "sliced":
                    // The file's directions (as POT gets them), else the metric's default 128.
                    row = ["value": try directions.map { try SlicedWasserstein.distance(x, y, directions: $0) }
                        ?? SlicedWasserstein.distance(x, y)]
                default:
                    let value = try MaximumMeanDiscrepancy(bandwidth: settings.bandwidth).compute(x, y)
                    row = ["value": value.biased, "unbiased": value.unbiased, "bandwidth": value.bandwidth]
                }
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                progress("\(metric) repeat \(repeat_ + 1)/\(settings.repeats): \(String(format: "%.3f", seconds.last!)) s")
            }
            seconds.sort()
            row["seconds"] = [seconds.first!, seconds[seconds.count / 2], seconds.last!]
            result[metric] = row
        }
        result["peak_rss_mb"] = ProcessSetup.peakMemoryBytes() / 1_048_576
        return jsonReady(result) as! [String: Any]
    }

    /// `value` with every non-finite `Double` spelled as the run files spell it ("inf", "-inf",
    /// "nan": JSON has no such numbers; a capped Sinkhorn reports an infinite marginal violation).
    static func jsonReady(_ value: Any) -> Any {
        switch value {
        case let number as Double where !number.isFinite:
            return number.isNaN ? "nan" : (number > 0 ? "inf" : "-inf")
        case let list as [Any]: return list.map(jsonReady)
        case let object as [String: Any]: return object.mapValues(jsonReady)
        default: return value
        }
    }
}
