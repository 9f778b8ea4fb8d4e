/// Gather, one-hot and the losses built on them.
extension Tensor {
    /// Selects `indices` along `axis` (like `torch.index_select`): the result has extent
    /// `indices.count` on that axis.
    public func gathering(_ indices: [Int], alongAxis axis: Int) -> Tensor {
        let axis = normalizedAxis(axis, rank: rank, op: "gather", shape: shape)
        let (outer, length, inner) = axisLayout(shape, axis: axis)
        for index in indices where index < 0 || index >= length {
            shapeFailure("gather", "index \(index) out of range 0..<\(length) on axis \(axis) of shape \(shape)")
        }
        var newShape = shape
        newShape[axis] = indices.count
        var result = [Scalar]()
        result.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices {
                let start = (o * length + index) * inner
                result.append(contentsOf: scalars[start..<(start + inner)])
            }
        }
        return Tensor(validatedShape: newShape, scalars: result)
    }

    /// VJP of ``gathering(_:alongAxis:)``: scatter-adds `self` (the upstream gradient) back into a
    /// zero tensor of `sourceShape`.
    func scatterAdding(_ indices: [Int], alongAxis axis: Int, into sourceShape: [Int]) -> Tensor {
        let (outer, length, inner) = axisLayout(sourceShape, axis: axis)
        var result = [Scalar](repeating: 0, count: sourceShape.reduce(1, *))
        for o in 0..<outer {
            for (position, index) in indices.enumerated() {
                let source = (o * indices.count + position) * inner, target = (o * length + index) * inner
                for i in 0..<inner { result[target + i] += scalars[source + i] }
            }
        }
        return Tensor(validatedShape: sourceShape, scalars: result)
    }

    /// `[labels.count, classes]` with a 1 at each label's column.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var result = Tensor.zeros([labels.count, classes])
        for (row, label) in labels.enumerated() {
            guard label >= 0 && label < classes else {
                shapeFailure("oneHot", "label \(label) out of range 0..<\(classes)")
            }
            result.scalars[row * classes + label] = 1
        }
        return result
    }

    /// Mean squared error mean((self − target)²) over all elements.
    public func meanSquaredError(_ target: Tensor) -> Tensor {
        guard shape == target.shape else { shapeFailure("meanSquaredError", "prediction shape \(shape) vs target shape \(target.shape)") }
        return (self - target).squared().mean()
    }

    /// Cross-entropy of logits `[batch, classes]` against integer labels, averaged over the batch:
    /// −(1/B) Σ_b log softmax(x_b)[label_b].
    public func crossEntropy(labels: [Int]) -> Tensor {
        guard rank == 2, shape[0] == labels.count else {
            shapeFailure("crossEntropy", "logits shape \(shape) vs \(labels.count) labels (want [batch, classes])")
        }
        let logProbabilities = logSoftmax(axis: 1)
        var total: Scalar = 0
        for (row, label) in labels.enumerated() {
            guard label >= 0 && label < shape[1] else { shapeFailure("crossEntropy", "label \(label) out of range 0..<\(shape[1])") }
            total -= logProbabilities.scalars[row * shape[1] + label]
        }
        return Tensor(total / Scalar(Swift.max(labels.count, 1)))
    }
}
