import MeanFieldCore
import MeanFieldModels

/// Detects and explains a diverging flow: a NaN/Inf in the loss, the objective, a gradient or a
/// parameter, or a loss that grew past ``growthFactor`` times its initial value. The message names
/// the step, the layer and the quantity, and gives the remedy (theory §6, failure signatures: "the
/// flow diverges → step η beyond the Euler stability bound, or λ too small to control growth").
public enum Divergence {
    /// A loss this many times its initial value stops the run (the flow is unstable long before a
    /// NaN appears; no converging run in this project's experiments came within 10× of its start).
    public static let growthFactor = 1e4

    /// The problem with this step's numbers, or nil when they are fine.
    public static func problem<Scalar: TensorScalar>(loss: Double, lossName: String, initialLoss: Double, objective: Double?,
                                                     gradients: [Tensor<Scalar>], store: ParameterStore<Scalar>) -> String? {
        if let name = firstNonFinite(store.names.map { store[$0] }, names: store.names) {
            return "parameter \(describe(name)) is not finite"
        }
        if !loss.isFinite { return "\(lossName) is \(loss)" + (firstNonFinite(gradients, names: store.names).map { "; first non-finite gradient: \(describe($0))" } ?? "") }
        if let objective, !objective.isFinite { return "objective Q is \(objective)" }
        if let name = firstNonFinite(gradients, names: store.names) { return "gradient of \(describe(name)) is not finite" }
        if initialLoss.isFinite && initialLoss > 0 && loss > growthFactor * initialLoss {
            return String(format: "%@ grew to %.4g, more than %.0g× its initial value %.4g; largest gradient: %@", lossName, loss, growthFactor,
                          initialLoss, describe(largest(gradients, names: store.names)))
        }
        return nil
    }

    /// What to say after the problem: which checkpoint is good, and the likely cause read from the
    /// run's data, with its flag. `step` is where the numbers went bad, `firstStep` the first step of
    /// this session (0, or the step of the checkpoint `resumedFrom`), `lastCheckpoint` the newest one.
    /// - at the first step of a resumed run (no update yet): the checkpoint file itself, not called good;
    /// - at step 0 (no update yet): the initialization (init scale, temperature, label noise), not η;
    /// - β₂ that rounds to 1 in float32, or a weight decay with ηλ > 2: that flag;
    /// - else (growth after updates): the step size, with the stability bound (``hint(learningRate:weightDecay:)``).
    public static func advice(config: TrainConfig, step: Int, firstStep: Int, resumedFrom: String?, lastCheckpoint: String?) -> String {
        if step == firstStep, let resumedFrom {
            return "the values are those read from \(resumedFrom), before any update: that checkpoint holds a diverged or damaged state "
                + "and is not a good one; resume from an earlier checkpoint of the run (move the later ones away) or start the run again"
        }
        if step == firstStep {
            var knobs = ["lower --init-std (now \(config.initStd.map { "\($0)" } ?? "auto"))"]
            if config.model == .transformer { knobs.append("raise --temperature (now \(config.temperature))") }
            if !config.isImageTask { knobs.append("lower --noise (now \(config.noise))") }
            return "non-finite at initialization, before any update (the step size plays no part): the initial model or its data overflow; "
                + knobs.joined(separator: ", ")
        }
        let kept = lastCheckpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was written (use --checkpoint-every)"
        if config.optimizer == .adamw && config.precision == .float32 && Float(config.beta2) == 1 {
            return kept + "; --beta2 \(config.beta2) rounds to 1 in float32, so AdamW's second moment never leaves 0 and each step is η·m/ε "
                + "(ε = \(config.epsilon)): pass --beta2 ≤ 0.9999 (1 − β₂ must exceed float32's 6e-8) or --precision float64"
        }
        let rate = config.lr * max(1, config.ordinaryLrScale)
        if rate * config.weightDecay > 2 {
            return kept + String(format: "; --weight-decay %g is too large for --lr %g: each step multiplies the weights by 1 − ηλ = %.3g, "
                                 + "which grows them once ηλ > 2; pass --weight-decay below 2/η = %.3g", config.weightDecay, rate, 1 - rate * config.weightDecay,
                                 2 / rate)
        }
        return kept + "; " + hint(learningRate: config.lr, weightDecay: config.weightDecay)
    }

    /// The remedy of a growth after updates, with the run's η and λ.
    public static func hint(learningRate: Double, weightDecay: Double) -> String {
        "lower --lr (now \(learningRate)): an explicit (Euler) step is stable only while η stays below about 2 / the largest "
            + "curvature of the loss, which grows with the weights; or raise --weight-decay (now \(weightDecay)) to keep them bounded"
    }

    /// "layer 3 attention.keyQuery" for "layer3.attention.keyQuery"; other names unchanged, quoted.
    static func describe(_ name: String) -> String {
        guard name.hasPrefix("layer"), let dot = name.firstIndex(of: "."), let layer = Int(name[name.index(name.startIndex, offsetBy: 5)..<dot]) else {
            return "'\(name)'"
        }
        return "'\(name[name.index(after: dot)...])' of layer \(layer)"
    }

    static func firstNonFinite<Scalar: TensorScalar>(_ tensors: [Tensor<Scalar>], names: [String]) -> String? {
        for (name, tensor) in zip(names, tensors) where tensor.scalars.contains(where: { !$0.isFinite }) { return name }
        return nil
    }

    static func largest<Scalar: TensorScalar>(_ tensors: [Tensor<Scalar>], names: [String]) -> String {
        var best = (name: names.first ?? "?", norm: -1.0)
        for (name, tensor) in zip(names, tensors) {
            let norm = tensor.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }
            if norm > best.norm { best = (name, norm) }
        }
        return best.name
    }
}
