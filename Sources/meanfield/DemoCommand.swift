import ArgumentParser
import Foundation
import MeanField
import MeanFieldKernels

/// `meanfield demo`: the main job on a built-in default that needs no data.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small mean-field Transformer on in-context linear regression (about a minute on 2 cores).")

    @Option(help: "Euler steps of the gradient flow (default: \(TrainConfig.demo.steps)).")
    var steps: Int = TrainConfig.demo.steps

    @Option(help: "Attention heads per layer, M.")
    var heads: Int = TrainConfig.demo.heads

    @Option(help: "Feed-forward units per layer, M′ (0 = attention only).")
    var ffnUnits: Int = TrainConfig.demo.ffnUnits

    @Option(help: "Layers, L.")
    var layers: Int = TrainConfig.demo.layers

    @Option(help: "Time step η of the Euler gradient flow (mean-field time per step).")
    var lr: Double = TrainConfig.demo.lr

    @Option(help: "Weight decay λ.")
    var weightDecay: Double = TrainConfig.demo.weightDecay

    @Option(help: "Prompts per step.")
    var batchSize: Int = TrainConfig.demo.batchSize

    @Option(help: "Random seed (parameters, data, batch order).")
    var seed: UInt64 = 0

    @Option(help: "Worker threads for the kernels (default: all cores).")
    var threads: Int?

    @Option(help: "Run directory (default: runs/demo-<date>-<time>).")
    var out: String?

    /// Every flag through the key table of `meanfield train` (``TrainConfig/set(_:_:source:)``): the
    /// same bounds and one-line errors, as usage errors.
    mutating func validate() throws { _ = try config() }

    /// The demo's config with the flags applied.
    func config() throws -> TrainConfig {
        var config = TrainConfig.demo
        let flags: [(String, String)] = [("steps", "\(steps)"), ("heads", "\(heads)"), ("ffn-units", "\(ffnUnits)"), ("layers", "\(layers)"),
                                         ("lr", "\(lr)"), ("weight-decay", "\(weightDecay)"), ("batch-size", "\(batchSize)"),
                                         ("threads", threads.map(String.init) ?? "auto")]
        do {
            for (key, text) in flags { try config.set(key, text, source: "--" + key) }
            guard batchSize >= 1 else { throw RunError("--batch-size: expected an integer ≥ 1 (fresh prompts every step), got '\(batchSize)'") }
        } catch let error as RunError {
            throw ValidationError(error.description)
        }
        config.seed = seed
        return config
    }

    func run() throws {
        ProcessSetup.reuseLargeAllocations()
        let path = try runFolder(out, default: "demo")
        let resolved = try config().resolved(defaultThreads: Threading.threadCount)
        // Refuse a config that cannot fit before allocating anything, as train does.
        try MemoryEstimate(config: resolved).check()
        try DiskSpaceCheck.check(resolved, directory: path)
        if let threads = resolved.threads { Threading.threadCount = threads }
        let model = resolved.transformer
        print("MeanField demo: in-context linear regression (d = \(resolved.inputDim), N = \(resolved.examples)), "
              + "Transformer D = \(model.dimension), M = \(model.heads) heads, M′ = \(model.ffnUnits) units, L = \(model.layers) layers")
        print("GEMM: \(Gemm.backendDescription())")
        var trainer = Trainer(config: resolved, engine: AnyTransformerEngine<Float>(config: model, kind: resolved.engine))
        let summary = try trainer.run(directory: path)
        print(String(format: "Reached training risk R = %.5f (from %.4f) at mean-field time t = %.1f; evaluation risk %.5f; %.1f s.",
                     summary.final["R"] ?? .nan, summary.initial["R"] ?? .nan, summary.meanFieldTime, summary.final["eval_R"] ?? .nan, summary.wallSeconds))
        // What the risk is to be judged by, on the same evaluation prompts.
        let baselines = RegressionBaselines(config: resolved, as: Float.self)
        let determined = resolved.noise == 0 && resolved.examples >= resolved.inputDim ? " (noiseless, N ≥ d: the examples determine w)" : ""
        print(String(format: "On the same %d evaluation prompts: predicting 0 gives %.4f; the best possible (the Bayes-optimal predictor, "
                     + "ridge regression on each prompt's examples) %.4f", baselines.prompts, baselines.zeroPredictor, baselines.bayesOptimal)
              + determined + ".")
        print("Run files: \(path) (config.json, manifest.json, metrics.jsonl, checkpoints/, summary.json)")
        print("Next: meanfield experiment run E1 --quick --out runs/e1   (widths, depths and step sizes on one mean-field time axis, "
              + "about a minute; then open runs/e1/report.html; meanfield experiment list names E1–E8)")
    }
}
