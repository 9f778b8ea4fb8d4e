// Readouts and risks (theory §1.3) on the final token-major stream H `[R = B·n, D]`, with the
// gradient ∂R/∂H written into the backward pass's seed buffer.
import MeanFieldCore

enum FusedReadout {
    /// Regression: ŷ_b = H[b·n + n − 1, labelRow], R = ½·mean_b (ŷ_b − y_b)². Returns R and ŷ; when
    /// `gradient` is given, writes ∂R/∂H into it (zero except the read-out entries). With `centring`
    /// (f₀ `[B]`, 1/γ₀) the prediction is the centred (ŷ − f₀)/γ₀ (theory §1.6).
    static func regression<T: TensorScalar>(_ w: FusedWorkspace<T>, values: Tensor<T>, labelRow: Int,
                                            centring: (offset: Tensor<T>, scale: T)? = nil,
                                            gradient: UnsafeMutablePointer<T>?) -> (risk: Double, outputs: Tensor<T>) {
        let shape = w.shape, B = shape.batch, n = shape.tokens, D = shape.dimension
        precondition(values.shape == [B], "FusedTransformerEngine: regression targets must be [\(B)], got \(values.shape)")
        precondition(labelRow >= 0 && labelRow < D, "FusedTransformerEngine: label row \(labelRow) out of range 0..<\(D)")
        let H = w.streams[shape.blockCount].pointer
        var total: T = 0
        if let gradient { gradient.update(repeating: 0, count: shape.rows * D) }
        if let centring {
            precondition(centring.offset.shape == [B], "FusedTransformerEngine: centred regression needs f₀ of shape [\(B)], got \(centring.offset.shape)")
        }
        let offsets = centring?.offset.scalars
        let predictions = Tensor<T>(shape: [B]) { out in
            values.withUnsafeBufferPointer { targets in
                for b in 0..<B {
                    let entry = (b * n + n - 1) * D + labelRow
                    if let centring, let offsets {
                        out[b] = (H[entry] - offsets[b]) * centring.scale
                        let residual = out[b] - targets[b]
                        total += residual * residual
                        gradient?[entry] = residual * centring.scale / T(B)
                    } else {
                        out[b] = H[entry]
                        let residual = H[entry] - targets[b]
                        total += residual * residual
                        gradient?[entry] = residual / T(B)
                    }
                }
            }
        }
        return (Double(total / T(B) * T(0.5)), predictions)
    }

    /// Classification: logits = mean_i H_{b,i}·Wᵀ + bias (class token: H_{b,0}·Wᵀ + bias), R = mean cross-entropy. Returns R and the
    /// logits `[B, C]`; when `gradient` is given, writes ∂R/∂H and the readout's gradients. With `centring`
    /// (f₀ `[B, C]`, 1/γ₀) the logits are the centred (logits − f₀)/γ₀ (theory §1.6).
    static func classification<T: TensorScalar>(_ w: FusedWorkspace<T>, labels: [Int],
                                                centring: (offset: Tensor<T>, scale: T)? = nil,
                                                gradient: UnsafeMutablePointer<T>?) -> (risk: Double, outputs: Tensor<T>) {
        let shape = w.shape, B = shape.batch, n = shape.tokens, D = shape.dimension, C = shape.config.classes
        precondition(labels.count == B, "FusedTransformerEngine: \(labels.count) labels for a batch of \(B)")
        let H = w.streams[shape.blockCount].pointer, pooled = w.pooled.pointer, logits = w.logits.pointer
        let W = w.readoutWeight.pointer, bias = w.readoutBias.pointer
        let classToken = shape.config.readout == .classToken
        for b in 0..<B where classToken {
            (pooled + b * D).update(from: H + b * n * D, count: D)     // the class token, row 0 of sequence b
        }
        for b in 0..<B where !classToken {
            let row = pooled + b * D
            for p in 0..<D { row[p] = 0 }
            for i in 0..<n {
                let token = H + (b * n + i) * D
                for p in 0..<D { row[p] += token[p] }
            }
            for p in 0..<D { row[p] /= T(n) }
        }
        FusedKernels.gemm(false, true, B, C, D, 1, pooled, D, W, D, 0, logits, C)
        if let centring {
            precondition(centring.offset.shape == [B, C], "FusedTransformerEngine: centred logits need f₀ of shape [\(B), \(C)], got \(centring.offset.shape)")
        }
        let offsets = centring?.offset.scalars
        var total: T = 0
        for b in 0..<B {
            let line = logits + b * C
            for c in 0..<C { line[c] += bias[c] }
            if let centring, let offsets { for c in 0..<C { line[c] = (line[c] - offsets[b * C + c]) * centring.scale } }
            let label = labels[b]
            precondition(label >= 0 && label < C, "FusedTransformerEngine: label \(label) out of range 0..<\(C)")
            var maximum = -T.infinity
            for c in 0..<C { maximum = max(maximum, line[c]) }
            var sum: T = 0
            for c in 0..<C { sum += T.exp(line[c] - maximum) }
            total += T.log(sum) + maximum - line[label]
        }
        let outputs = Tensor<T>(shape: [B, C]) { out in
            for index in 0..<(B * C) { out[index] = logits[index] }
        }
        if let gradient {
            // dlogits = (softmax − onehot)/B, computed in place over the logits buffer (÷ γ₀ when centred).
            for b in 0..<B {
                let line = logits + b * C
                var maximum = -T.infinity
                for c in 0..<C { maximum = max(maximum, line[c]) }
                var sum: T = 0
                for c in 0..<C {
                    line[c] = T.exp(line[c] - maximum)
                    sum += line[c]
                }
                for c in 0..<C { line[c] = (line[c] / sum - (c == labels[b] ? 1 : 0)) / T(B) }
                // Centred logits: ∂R/∂logits = ∂R/∂(centred logits) / γ₀.
                if let centring { for c in 0..<C { line[c] *= centring.scale } }
            }
            // dW = dlogitsᵀ·pooled, dbias = Σ_b dlogits (batch in order), dpooled = dlogits·W.
            FusedKernels.gemm(true, false, C, D, B, 1, logits, C, pooled, D, 0, w.readoutWeightGradient.pointer, D)
            let dBias = w.readoutBiasGradient.pointer
            for c in 0..<C { dBias[c] = 0 }
            for b in 0..<B { for c in 0..<C { dBias[c] += logits[b * C + c] } }
            // ∂R/∂H[b·n + i] = dpooled_b / n: compute dpooled into the first token row, then copy.
            // Class token: ∂R/∂H[b·n] = dpooled_b, zero for the other tokens.
            for b in 0..<B {
                let first = gradient + b * n * D
                FusedKernels.gemm(false, false, 1, D, C, classToken ? 1 : 1 / T(n), logits + b * C, C, W, D, 0, first, D)
                if classToken {
                    (first + D).update(repeating: 0, count: (n - 1) * D)
                } else {
                    for i in 1..<max(n, 1) { (first + i * D).update(from: first, count: D) }
                }
            }
        }
        return (Double(total / T(B)), outputs)
    }
}
