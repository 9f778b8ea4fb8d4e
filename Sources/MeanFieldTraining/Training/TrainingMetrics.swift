import MeanFieldCore
import MeanFieldModels

/// Quantities logged per step besides the risk (theory §1.5: the particles' empirical distribution).
public enum TrainingMetrics {
    /// Particle spread per layer: the RMS distance of a layer's particles to their mean,
    /// √((1/M) Σ_j |θ_j − θ̄|²), with θ_j the concatenation of particle j's slices of every tensor
    /// of the group (axis 0 is the particle axis). Groups: `layerℓ.attention.*` (heads) and
    /// `layerℓ.ffn.*` (units); `ffn` is empty for an attention-only model.
    public static func particleSpread<Scalar: TensorScalar>(_ store: ParameterStore<Scalar>, layers: Int) -> (attention: [Double], ffn: [Double]) {
        func spread(prefix: String) -> Double? {
            let names = store.names.filter { $0.hasPrefix(prefix) }
            guard !names.isEmpty else { return nil }
            var total = 0.0, particles = 0
            for name in names {
                let tensor = store[name]
                let count = tensor.shape[0], width = tensor.count / max(1, count)
                particles = count
                tensor.withUnsafeBufferPointer { values in
                    for position in 0..<width {
                        var mean = 0.0
                        for j in 0..<count { mean += Double(values[j * width + position]) }
                        mean /= Double(count)
                        for j in 0..<count {
                            let deviation = Double(values[j * width + position]) - mean
                            total += deviation * deviation
                        }
                    }
                }
            }
            return (total / Double(max(1, particles))).squareRoot()
        }
        var attention: [Double] = [], ffn: [Double] = []
        for layer in 0..<layers {
            if let value = spread(prefix: "layer\(layer).attention.") { attention.append(value) }
            if let value = spread(prefix: "layer\(layer).ffn.") { ffn.append(value) }
        }
        return (attention, ffn)
    }

    /// Σ|g|² over gradient tensors, in Double.
    public static func squaredNorm<Scalar: TensorScalar>(_ tensors: [Tensor<Scalar>]) -> Double {
        var total = 0.0
        for tensor in tensors {
            tensor.withUnsafeBufferPointer { values in
                for value in values { total += Double(value) * Double(value) }
            }
        }
        return total
    }
}
