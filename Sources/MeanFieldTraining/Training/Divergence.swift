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

    /// The remedy, with the run's η and λ.
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
