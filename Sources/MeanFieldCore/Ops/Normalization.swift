/// Softmax, log-softmax and layer norm: ops along one axis, with their hand-written backward
/// passes (used by ``Variable``).
extension Tensor {
    /// softmax(x)_i = exp(x_i − max x) / Σ_j exp(x_j − max x) along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        let axis = normalizedAxis(axis, rank: rank, op: "softmax", shape: shape)
        return alongAxis(self, axis: axis, logarithm: false)
    }

    /// log softmax(x)_i = x_i − logΣexp(x) along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let axis = normalizedAxis(axis, rank: rank, op: "logSoftmax", shape: shape)
        return alongAxis(self, axis: axis, logarithm: true)
    }

    /// Layer normalisation over the last axis, without affine parameters:
    /// y = (x − μ) / √(σ² + ε), μ and σ² the mean and (biased) variance of each row.
    public func layerNormalized(epsilon: Scalar = 1e-5) -> Tensor {
        guard rank >= 1, shape[rank - 1] > 0 else { shapeFailure("layerNorm", "needs a non-empty last axis, got shape \(shape)") }
        return layerNormForward(self, epsilon: epsilon).output
    }
}

/// (log-)softmax along `axis`, layout (outer, length, inner).
@_specialize(where T == Float)
@_specialize(where T == Double)
func alongAxis<T: TensorScalar>(_ x: Tensor<T>, axis: Int, logarithm: Bool) -> Tensor<T> {
    let (outer, length, inner) = axisLayout(x.shape, axis: axis)
    return Tensor(shape: x.shape) { out in
        x.withUnsafeBufferPointer { input in
            let source = input.baseAddress!, target = out.baseAddress!
            forEachChunk(outer * inner, costPerIndex: length * 4) { range in
                for index in range {
                    let o = index / inner, i = index % inner
                    let base = o * length * inner + i
                    var maximum = -T.infinity
                    for l in 0..<length { maximum = Swift.max(maximum, source[base + l * inner]) }
                    if !maximum.isFinite { maximum = 0 }
                    var total: T = 0
                    for l in 0..<length {
                        let e = T.exp(source[base + l * inner] - maximum)
                        target[base + l * inner] = e
                        total += e
                    }
                    if logarithm {
                        let logTotal = T.log(total) + maximum
                        for l in 0..<length { target[base + l * inner] = source[base + l * inner] - logTotal }
                    } else {
                        let scale = 1 / total
                        for l in 0..<length { target[base + l * inner] *= scale }
                    }
                }
            }
        }
    }
}

/// Vector-Jacobian product of softmax (y = softmax x): dx = y ⊙ (dy − Σ_axis dy ⊙ y).
/// Of log-softmax (y = log softmax x): dx = dy − exp(y) ⊙ Σ_axis dy.
@_specialize(where T == Float)
@_specialize(where T == Double)
func alongAxisBackward<T: TensorScalar>(output y: Tensor<T>, upstream dy: Tensor<T>, axis: Int, logarithm: Bool) -> Tensor<T> {
    let (outer, length, inner) = axisLayout(y.shape, axis: axis)
    return Tensor(shape: y.shape) { out in
        y.withUnsafeBufferPointer { ys in
            dy.withUnsafeBufferPointer { dys in
                let target = out.baseAddress!
                forEachChunk(outer * inner, costPerIndex: length * 3) { range in
                    for index in range {
                        let o = index / inner, i = index % inner
                        let base = o * length * inner + i
                        var total: T = 0
                        if logarithm {
                            for l in 0..<length { total += dys[base + l * inner] }
                            for l in 0..<length {
                                let p = base + l * inner
                                target[p] = dys[p] - T.exp(ys[p]) * total
                            }
                        } else {
                            for l in 0..<length { total += dys[base + l * inner] * ys[base + l * inner] }
                            for l in 0..<length {
                                let p = base + l * inner
                                target[p] = ys[p] * (dys[p] - total)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Forward layer norm over the last axis; also returns 1/σ per row for the backward pass.
@_specialize(where T == Float)
@_specialize(where T == Double)
func layerNormForward<T: TensorScalar>(_ x: Tensor<T>, epsilon: T) -> (output: Tensor<T>, inverseStd: [T]) {
    let width = x.shape[x.rank - 1], rows = x.count / width
    var inverseStd = [T](repeating: 0, count: rows)
    let output = Tensor<T>(shape: x.shape) { out in
        x.withUnsafeBufferPointer { input in
            inverseStd.withUnsafeMutableBufferPointer { inv in
                let source = input.baseAddress!, target = out.baseAddress!, invStd = inv.baseAddress!
                forEachChunk(rows, costPerIndex: width * 3) { range in
                    for row in range {
                        let xs = source + row * width, ys = target + row * width
                        var mean: T = 0
                        for j in 0..<width { mean += xs[j] }
                        mean /= T(width)
                        var variance: T = 0
                        for j in 0..<width { variance += (xs[j] - mean) * (xs[j] - mean) }
                        variance /= T(width)
                        let scale = 1 / (variance + epsilon).squareRoot()
                        invStd[row] = scale
                        for j in 0..<width { ys[j] = (xs[j] - mean) * scale }
                    }
                }
            }
        }
    }
    return (output, inverseStd)
}

/// Layer-norm VJP: dx = (1/σ)·(dy − mean(dy) − y·mean(dy ⊙ y)) per row.
@_specialize(where T == Float)
@_specialize(where T == Double)
func layerNormBackward<T: TensorScalar>(output y: Tensor<T>, inverseStd: [T], upstream dy: Tensor<T>) -> Tensor<T> {
    let width = y.shape[y.rank - 1], rows = y.count / width
    return Tensor(shape: y.shape) { out in
        y.withUnsafeBufferPointer { ys in
            dy.withUnsafeBufferPointer { dys in
                let target = out.baseAddress!
                forEachChunk(rows, costPerIndex: width * 3) { range in
                    for row in range {
                        let base = row * width
                        var meanUpstream: T = 0, meanProduct: T = 0
                        for j in 0..<width {
                            meanUpstream += dys[base + j]
                            meanProduct += dys[base + j] * ys[base + j]
                        }
                        meanUpstream /= T(width)
                        meanProduct /= T(width)
                        let scale = inverseStd[row]
                        for j in 0..<width {
                            target[base + j] = scale * (dys[base + j] - meanUpstream - ys[base + j] * meanProduct)
                        }
                    }
                }
            }
        }
    }
}
