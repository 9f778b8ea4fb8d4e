import Foundation
import MeanFieldCore

/// What an `rff-kernel` run was asked to do (its config.json).
public struct RFFKernelConfig: Codable, Sendable {
    /// n points x ~ N(0, I_d) (the inputs of a teacher-regression run with the same seed).
    public var points: Int
    public var inputDimension: Int
    /// The numbers of features r to try.
    public var featureCounts: [Int]
    public var featureMap: RandomFeatureMap
    /// σ of ω.
    public var scale: Double
    public var seed: UInt64

    public init(points: Int, inputDimension: Int, featureCounts: [Int], featureMap: RandomFeatureMap, scale: Double, seed: UInt64) {
        self.points = points; self.inputDimension = inputDimension; self.featureCounts = featureCounts
        self.featureMap = featureMap; self.scale = scale; self.seed = seed
    }

    /// One-line errors naming the flag and the fix.
    public func validate() throws {
        if points < 2 || points > 2000 { throw RunError("--points \(points) must lie in 2…2000 (the Gram matrix is n × n)") }
        if inputDimension < 1 || inputDimension > TrainBound.size.value {
            throw RunError("--input-dim \(inputDimension) must lie in 1…\(TrainBound.size.value) (\(TrainBound.size.reason))")
        }
        if featureCounts.isEmpty || featureCounts.contains(where: { $0 < 1 || $0 > 1_000_000 }) {
            throw RunError("--features must list counts in 1…1000000, e.g. 10,100,1000")
        }
        if !(scale > 0 && scale.isFinite) { throw RunError("--feature-scale \(scale) must be a positive number") }
        // In Double: the points n × d, the features r × d, Φ n × r and three n × n Gram matrices.
        let n = Double(points), d = Double(inputDimension), r = Double(featureCounts.max()!)
        try MemoryEstimate.check(bytes: 8 * (n * d + r * d + n * r + 3 * n * n),
                                 needs: "rff-kernel with n = \(points), d = \(inputDimension), r = \(featureCounts.max()!)",
                                 fix: "lower --input-dim, --features or --points")
    }
}

/// `meanfield rff-kernel` (theory §5): λ_min of the random-feature Gram matrix K_r as r grows,
/// against the limit kernel's (``RandomFeatureKernel``). Writes config.json, manifest.json,
/// kernel.jsonl (one line per r, plus the limit) and kernel.svg.
public enum RFFKernelRun {
    public struct Results: Sendable {
        public var limitLambdaMin: Double
        public var limitLambdaMax: Double
        public var points: [RandomFeatureKernel.Point]
    }

    public static func run(_ config: RFFKernelConfig, path: String) throws -> Results {
        try config.validate()
        var random = PhiloxRandom(seed: config.seed, stream: TeacherRegression.trainStream)
        let inputs: Tensor<Double> = random.normal([config.points, config.inputDimension])
        let study = RandomFeatureKernel.study(points: inputs, featureCounts: config.featureCounts.sorted(), scale: config.scale,
                                              map: config.featureMap, seed: config.seed)
        let directory = try RunDirectory(path: path)
        try directory.writeConfig(config)
        try directory.writeManifest(RunManifest.current(seed: config.seed, scalarType: "f64"))
        var lines = study.points.map { point in
            String(format: "{\"features\":%d,\"lambda_min\":%@,\"lambda_max\":%@,\"limit_deviation\":%@}", point.features,
                   RunDirectory.jsonNumber(point.lambdaMin), RunDirectory.jsonNumber(point.lambdaMax), RunDirectory.jsonNumber(point.limitDeviation))
        }
        lines.append("{\"features\":\"limit\",\"lambda_min\":\(RunDirectory.jsonNumber(study.limit.lambdaMin)),\"lambda_max\":\(RunDirectory.jsonNumber(study.limit.lambdaMax))}")
        try directory.writeAtomically("kernel.jsonl", Data((lines.joined(separator: "\n") + "\n").utf8))
        let results = Results(limitLambdaMin: study.limit.lambdaMin, limitLambdaMax: study.limit.lambdaMax, points: study.points)
        try directory.writeAtomically("kernel.svg", Data(chart(results, config).svg(id: "kernel").utf8))
        return results
    }

    /// λ_min(K_r) against r (log-log; r < n gives 0 and is left off) with the limit's λ_min as a line.
    public static func chart(_ results: Results, _ config: RFFKernelConfig) -> Chart {
        let positive = results.points.filter { $0.lambdaMin > 0 }
        let x = positive.map { Double($0.features) }
        var series = [ChartSeries("λ_min(K_r)", x: x, y: positive.map(\.lambdaMin), style: .lineWithMarkers)]
        if let first = x.first, let last = x.last, results.limitLambdaMin > 0 {
            series.append(ChartSeries("λ_min(K), r → ∞", x: [first, last], y: [results.limitLambdaMin, results.limitLambdaMin],
                                      style: .line, colour: .reference, dashed: true))
        }
        return Chart(title: "Random-feature kernel: λ_min vs features (\(config.featureMap.rawValue), n = \(config.points), d = \(config.inputDimension))",
                     x: ChartAxis("features r", scale: .log10), y: ChartAxis("λ_min", scale: .log10), series: series)
    }
}
