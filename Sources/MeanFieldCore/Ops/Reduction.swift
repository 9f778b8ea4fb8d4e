/// Reductions along axes. Each output element is accumulated in a fixed order (increasing index
/// along the reduced axis), so results never depend on the thread count.
public enum Reduction: String, Sendable {
    case sum, max, logSumExp
}

extension Tensor {
    /// Σ over `axes` (all axes when empty). Negative axes count from the end.
    public func sum(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        reduce(.sum, axes: axes, keepingDimensions: keepingDimensions, op: "sum")
    }

    /// Mean over `axes` (all axes when empty).
    public func mean(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        let summed = reduce(.sum, axes: axes, keepingDimensions: keepingDimensions, op: "mean")
        let reducedCount = count / Swift.max(summed.count, 1)
        return summed * (1 / Scalar(Swift.max(reducedCount, 1)))
    }

    /// Maximum over `axes` (all axes when empty).
    public func max(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        reduce(.max, axes: axes, keepingDimensions: keepingDimensions, op: "max")
    }

    /// log Σ exp over `axes`, computed stably as m + log Σ exp(x − m) with m the maximum.
    public func logSumExp(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        reduce(.logSumExp, axes: axes, keepingDimensions: keepingDimensions, op: "logSumExp")
    }

    /// Normalised, sorted, de-duplicated axes (all axes for an empty list).
    func resolvedAxes(_ axes: [Int], op: String) -> [Int] {
        if axes.isEmpty { return Array(0..<rank) }
        let resolved = Set(axes.map { normalizedAxis($0, rank: rank, op: op, shape: shape) })
        guard resolved.count == axes.count else { shapeFailure(op, "repeated axis in \(axes) for shape \(shape)") }
        return resolved.sorted()
    }

    func reduce(_ reduction: Reduction, axes: [Int], keepingDimensions: Bool, op: String) -> Tensor {
        let resolved = resolvedAxes(axes, op: op)
        if reduction != .sum {
            for axis in resolved where shape[axis] == 0 {
                shapeFailure(op, "cannot take \(reduction) over empty axis \(axis) of shape \(shape)")
            }
        }
        var result = self
        // Reduce the innermost axis first; max of maxes and logsumexp of logsumexps are exact.
        for axis in resolved.reversed() { result = reduceAxis(reduction, result, axis: axis) }
        if keepingDimensions { return result }
        let kept = shape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element)
        return Tensor(validatedShape: kept, scalars: result.scalars)
    }

    /// Sums `self` down to `target`, the inverse of broadcasting `target` to `self.shape` (the
    /// vector-Jacobian product of a broadcast).
    public func unbroadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        guard offset >= 0 else { shapeFailure("unbroadcast", "cannot reduce shape \(shape) to larger rank \(target)") }
        var axes = Array(0..<offset)
        for (axis, extent) in target.enumerated() where extent != shape[axis + offset] {
            guard extent == 1 else { shapeFailure("unbroadcast", "shape \(shape) does not broadcast from \(target)") }
            axes.append(axis + offset)
        }
        let summed = axes.isEmpty ? self : sum(alongAxes: axes, keepingDimensions: true)
        return Tensor(validatedShape: target, scalars: summed.scalars)
    }
}

/// Reduces one axis, keeping it with extent 1. Layout (outer, length, inner): each output element
/// (o, i) folds x[o, 0..<length, i] in index order.
@_specialize(where T == Float)
@_specialize(where T == Double)
func reduceAxis<T: TensorScalar>(_ reduction: Reduction, _ x: Tensor<T>, axis: Int) -> Tensor<T> {
    let (outer, length, inner) = axisLayout(x.shape, axis: axis)
    var shape = x.shape
    shape[axis] = 1
    return Tensor(shape: shape) { out in
        x.withUnsafeBufferPointer { input in
            let source = input.baseAddress!, target = out.baseAddress!
            forEachChunk(outer, costPerIndex: length * inner) { range in
                for o in range {
                    let block = source + o * length * inner, row = target + o * inner
                    switch reduction {
                    case .sum:
                        for i in 0..<inner { row[i] = 0 }
                        for l in 0..<length { for i in 0..<inner { row[i] += block[l * inner + i] } }
                    case .max:
                        for i in 0..<inner { row[i] = block[i] }
                        // Swift.max(x, NaN) is x: test for NaN so that it propagates, as in NumPy.
                        for l in 1..<Swift.max(length, 1) {
                            for i in 0..<inner {
                                let value = block[l * inner + i]
                                if value >= row[i] || value.isNaN { row[i] = value }
                            }
                        }
                    case .logSumExp:
                        for i in 0..<inner {
                            var maximum = -T.infinity
                            for l in 0..<length {
                                let value = block[l * inner + i]
                                if value > maximum || value.isNaN { maximum = value }  // NaN propagates
                            }
                            if !maximum.isFinite { row[i] = maximum; continue }
                            var total: T = 0
                            for l in 0..<length { total += T.exp(block[l * inner + i] - maximum) }
                            row[i] = maximum + T.log(total)
                        }
                    }
                }
            }
        }
    }
}
