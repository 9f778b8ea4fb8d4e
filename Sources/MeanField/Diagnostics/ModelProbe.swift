import MeanFieldCore

/// Evaluates a regression run's model on its own evaluation prompts in `Double` (the autodiff
/// reference path, no gradients): predictions F(x) and the residual stream after every layer.
/// The prompts are those of ``RegressionData`` (a pure function of the seed), so two runs that
/// share `seed`, `input-dim`, `examples`, `noise`, `token-dim` and `eval-size` see the same x.
public struct ModelProbe {
    /// The run's config.
    public let config: TrainConfig
    /// Evaluation tokens `[B, D, N+1]` and targets `[B]`.
    public let tokens: Tensor<Double>
    public let targets: Tensor<Double>

    /// The probe of a regression config; throws for image tasks (their function distance is not
    /// implemented: the coupled-width study is run on in-context regression, theory §6 E2).
    public init(config: TrainConfig) throws {
        guard !config.isImageTask else {
            throw RunError("diagnostics: function-space distances are computed for --task icl-regression runs, not \(config.task)")
        }
        self.config = config
        let data = RegressionData<Double>(config: config)
        tokens = data.eval.tokens
        targets = data.eval.targets
    }

    /// Residual stream H^{(0)} … H^{(L)} on the evaluation prompts (theory §1.2).
    public func states(_ store: ParameterStore<Double>) -> [Tensor<Double>] {
        let model = MeanFieldTransformer(config: config.transformer)
        var parameters: [String: Variable<Double>] = [:]
        for name in store.names { parameters[name] = Variable(store[name], requiresGradient: false) }
        return model.forwardStates(Variable(tokens, requiresGradient: false), parameters: parameters).map(\.value)
    }

    /// Predictions ŷ = [H^{(L)}]_{d, N} (theory §1.3) for every evaluation prompt.
    public func predictions(_ store: ParameterStore<Double>) -> [Double] {
        let output = states(store).last!
        let (batch, dimension, count) = (output.shape[0], output.shape[1], output.shape[2])
        let row = config.inputDim
        return (0..<batch).map { output.scalars[($0 * dimension + row) * count + count - 1] }
    }

    /// Squared function-space distance E_x |F(x) − G(x)|² over the evaluation prompts.
    public static func squaredDistance(_ f: [Double], _ g: [Double]) -> Double {
        precondition(f.count == g.count && !f.isEmpty, "ModelProbe.squaredDistance: \(f.count) vs \(g.count) predictions")
        return zip(f, g).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(f.count)
    }

    /// Root mean square of a tensor's entries.
    public static func rms(_ tensor: Tensor<Double>) -> Double {
        (tensor.scalars.reduce(0) { $0 + $1 * $1 } / Double(max(1, tensor.count))).squareRoot()
    }
}
