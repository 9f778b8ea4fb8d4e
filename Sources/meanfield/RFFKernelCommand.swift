import ArgumentParser
import Foundation
import MeanField

/// `meanfield rff-kernel`: λ_min of the random-feature kernel's Gram matrix as r grows (theory §5).
struct RFFKernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rff-kernel",
        abstract: "λ_min of the random-feature Gram matrix K_r as the number of features r grows (theory §5).",
        discussion: """
        Draws n points x ~ N(0, I_d), r random features (ω ~ N(0, σ²I); β ~ U[0, 2π) for cos, N(0, σ²) \
        for relu) and prints λ_min, λ_max of K_r = (1/r)ΦΦᵀ and max |K_r − K| against the limit kernel K \
        (Gaussian exp(−σ²|x − x′|²/2) for cos; arc-cosine of order 1 for relu). Writes OUT/config.json, \
        manifest.json, kernel.jsonl and kernel.svg; render with meanfield report OUT.
        Example: meanfield rff-kernel --points 100 --features 10,100,1000,10000 --out runs/rff-kernel
        """)

    @Option(help: "n, the number of points.") var points: Int = 100
    @Option(help: "d, the input dimension.") var inputDim: Int = 10
    @Option(help: "Comma-separated numbers of features r.") var features: String = "10,20,50,100,200,500,1000,2000,5000,10000"
    @Option(help: "Feature map: cos or relu.") var featureMap: String = "cos"
    @Option(help: "σ, the std of the features ω.") var featureScale: Double = 0.3
    @Option(help: "Random seed (points and features).") var seed: UInt64 = 0
    @Option(help: "Run directory (default runs/rff-kernel-<time>).") var out: String?

    func run() throws {
        let map: RandomFeatureMap = try choice(featureMap, option: "--feature-map")
        let counts = try commaList(features, option: "--features", "is not an integer", example: "e.g. 10,100,1000") { Int($0) }
        let config = RFFKernelConfig(points: points, inputDimension: inputDim, featureCounts: counts, featureMap: map, scale: featureScale, seed: seed)
        let path = try runFolder(out, default: "rff-kernel")
        let results = try RFFKernelRun.run(config, path: path)
        print("features r   λ_min(K_r)     λ_max(K_r)   max |K_r − K|")
        for point in results.points {
            print(String(format: "%10d   %-12.4e   %-10.4g   %.3e", point.features, point.lambdaMin, point.lambdaMax, point.limitDeviation))
        }
        print(String(format: "     limit   %-12.4e   %-10.4g", results.limitLambdaMin, results.limitLambdaMax))
        print("Run files: \(path) (config.json, manifest.json, kernel.jsonl, kernel.svg)")
    }
}
