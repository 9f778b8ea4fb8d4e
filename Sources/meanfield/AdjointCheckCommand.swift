import ArgumentParser
import Foundation
import MeanField
import MeanFieldCore

/// `meanfield adjoint-check`: parameter gradients of the mean-field Transformer (or ResNet) by the
/// adjoint recursion of theory §2 against whole-depth reverse-mode autodiff, in Double, per layer.
struct AdjointCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adjoint-check",
        abstract: "Compare adjoint (backward-ODE) gradients with reverse-mode autodiff, per layer, in Double (theory §2).",
        discussion: """
        Takes every model flag of `meanfield train`: the Transformer on in-context regression, or \
        --model resnet|rff-resnet on --task teacher-regression (hand-written recursion). Prints, per layer ℓ, the largest \
        relative difference ‖g_adjoint − g_autodiff‖/‖g_autodiff‖ over the layer's tensors and the norms ‖X(s)‖, \
        ‖P(s)‖ at s = ℓ/L; writes OUT/config.json, manifest.json and adjoint.jsonl (one line per layer). \
        Exits 1 when a difference exceeds --tolerance.
        Example: meanfield adjoint-check --heads 8 --layers 6 --ffn-units 8 --out runs/adjoint
        """)

    @OptionGroup var model: Train
    @Option(help: "Largest accepted relative difference (default 1e-10).") var tolerance: Double = 1e-10

    func validate() throws {
        try model.validate()
        try checkTolerance(tolerance)
    }

    func run() throws {
        let (config, path) = try model.resolvedConfig()
        // The check runs in Double: refuse a config that cannot fit before allocating, as train does.
        var doubled = config
        doubled.precision = .float64
        try MemoryEstimate(config: doubled).check()
        let adjoint: AdjointGradients.Result<Double>, whole: (risk: Double, gradients: [Tensor<Double>]), names: [String]
        if let resNetConfig = config.resNet {
            // ResNets: the hand-written recursion (ResNetAdjoint) on the run's first batch.
            guard !config.isImageTask else {
                throw RunError("--task \(config.task): adjoint-check covers ResNets on --task teacher-regression; image inputs are not wired in yet")
            }
            let resNet = MeanFieldResNet(config: resNetConfig, seed: config.seed)
            let store: ParameterStore<Double> = resNet.initialParameters(seed: config.seed)
            var random = PhiloxRandom(seed: config.seed, stream: TeacherRegression.trainStream)
            let data: (inputs: Tensor<Double>, targets: Tensor<Double>) = TeacherRegression(inputDimension: config.inputDim, noise: config.noise, seed: config.seed)
                .sample(config.resolvedBatchSize, random: &random)
            let targets = ResNetTargets<Double>.regression(values: data.targets)
            adjoint = ResNetAdjoint.compute(model: resNet, store: store, inputs: data.inputs, targets: targets)
            whole = resNet.riskAndGradients(store, inputs: data.inputs, targets: targets)
            names = store.names
        } else {
            guard !config.isImageTask else {
                throw RunError("--task \(config.task): adjoint-check covers the regression Transformer; the ViT's patch embedding is not in the adjoint recursion yet")
            }
            let transformer = MeanFieldTransformer(config: config.transformer)
            let store: ParameterStore<Double> = transformer.initialParameters(seed: config.seed)
            var data = RegressionData<Double>(config: config)
            let batch = data.batch(step: 0)
            let targets = Targets<Double>.regression(values: batch.targets, labelRow: data.task.labelRow)
            adjoint = AdjointGradients.compute(model: transformer, store: store, tokens: batch.tokens, targets: targets)
            var reference = AutodiffEngine<Double>(config: config.transformer)
            let result = reference.riskAndGradients(store, tokens: batch.tokens, targets: targets)
            (whole, names) = ((result.risk, result.gradients), store.names)
        }

        let directory = try RunDirectory(path: path)
        try directory.writeConfig(config)
        try directory.writeManifest(RunManifest.current(seed: config.seed, scalarType: "f64"))
        func norm(_ tensor: Tensor<Double>) -> Double { tensor.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        print("layer      s   max rel. difference   ‖X(s)‖        ‖P(s)‖")
        // A non-finite difference, norm or risk is a failure, never "agree" (max() would drop a NaN).
        var worst = whole.risk.isFinite ? 0.0 : Double.infinity
        for layer in 0...config.layers {
            let prefix = layer < config.layers ? "layer\(layer)." : ""
            let differences = zip(names, zip(adjoint.gradients, whole.gradients)).compactMap { name, pair in
                (layer < config.layers ? name.hasPrefix(prefix) : !name.hasPrefix("layer")) ? AdjointGradients.relativeDifference(pair.0, pair.1) : nil
            }
            let finite = differences.allSatisfy(\.isFinite) && norm(adjoint.states[layer]).isFinite && norm(adjoint.adjoints[layer]).isFinite
            let largest = finite ? differences.max() ?? 0 : .infinity
            worst = max(worst, largest)
            let s = Double(layer) / Double(config.layers)
            print(String(format: "%5@  %5.3f   %19@   %-12.6g  %-12.6g", layer < config.layers ? "\(layer)" : "out", s,
                         differences.isEmpty ? "–" : String(format: "%.3e", largest), norm(adjoint.states[layer]), norm(adjoint.adjoints[layer])))
            // Through the run format: a non-finite value is written as "inf"/"nan", which stays valid JSON.
            try directory.appendMetrics(numbers: ["layer": Double(layer), "s": s, "max_rel_diff": largest,
                                                  "X_norm": norm(adjoint.states[layer]), "P_norm": norm(adjoint.adjoints[layer])])
        }
        try? FileManager.default.moveItem(atPath: directory.metricsPath, toPath: path + "/adjoint.jsonl")
        print(String(format: "risk %.12g; largest relative difference %.3e (tolerance %.1e); %@", whole.risk, worst, tolerance,
                     worst <= tolerance ? "agree" : "DISAGREE"))
        print("Run files: \(path) (config.json, manifest.json, adjoint.jsonl)")
        if worst > tolerance { throw ExitCode(1) }
    }
}
