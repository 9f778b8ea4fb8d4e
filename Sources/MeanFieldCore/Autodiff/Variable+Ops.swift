/// Every differentiable op: forward on the wrapped tensors, and its pullback (VJP) next to it.
extension Variable {
    // MARK: Element-wise arithmetic (broadcasting). VJP: the upstream gradient times the local
    // derivative, summed back over broadcast axes (`unbroadcast`).

    public static func + (a: Variable, b: Variable) -> Variable {
        Variable(a.value + b.value, parents: [a, b]) { g in [g.unbroadcast(to: a.shape), g.unbroadcast(to: b.shape)] }
    }
    public static func - (a: Variable, b: Variable) -> Variable {
        Variable(a.value - b.value, parents: [a, b]) { g in [g.unbroadcast(to: a.shape), (-g).unbroadcast(to: b.shape)] }
    }
    public static func * (a: Variable, b: Variable) -> Variable {
        Variable(a.value * b.value, parents: [a, b]) { g in
            [(g * b.value).unbroadcast(to: a.shape), (g * a.value).unbroadcast(to: b.shape)]
        }
    }
    /// d(a/b) = g/b, −g·a/b².
    public static func / (a: Variable, b: Variable) -> Variable {
        let quotient = a.value / b.value
        return Variable(quotient, parents: [a, b]) { g in
            let gOverB = g / b.value
            return [gOverB.unbroadcast(to: a.shape), (-(gOverB * quotient)).unbroadcast(to: b.shape)]
        }
    }
    public static func + (a: Variable, b: Scalar) -> Variable { Variable(a.value + b, parents: [a]) { g in [g] } }
    public static func - (a: Variable, b: Scalar) -> Variable { Variable(a.value - b, parents: [a]) { g in [g] } }
    public static func * (a: Variable, b: Scalar) -> Variable { Variable(a.value * b, parents: [a]) { g in [g * b] } }
    public static func * (a: Scalar, b: Variable) -> Variable { b * a }
    public static func / (a: Variable, b: Scalar) -> Variable { a * (1 / b) }
    public static prefix func - (a: Variable) -> Variable { a.map(.negate) }

    // MARK: Element-wise functions. VJP: f'(x) ⊙ g.

    public func map(_ function: UnaryFunction) -> Variable {
        let output = value.map(function)
        return Variable(output, parents: [self]) { g in [unaryBackward(function, x: self.value, y: output, upstream: g)] }
    }
    public func exp() -> Variable { map(.exp) }
    public func log() -> Variable { map(.log) }
    public func relu() -> Variable { map(.relu) }
    public func gelu() -> Variable { map(.gelu) }
    public func tanh() -> Variable { map(.tanh) }
    public func sigmoid() -> Variable { map(.sigmoid) }
    public func silu() -> Variable { map(.silu) }
    public func squared() -> Variable { map(.square) }
    public func squareRoot() -> Variable { map(.sqrt) }

    // MARK: Reductions.

    /// VJP of a sum: the upstream gradient broadcast back over the summed axes.
    public func sum(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Variable {
        let kept = value.sum(alongAxes: axes, keepingDimensions: true)
        let output = keepingDimensions ? kept : value.sum(alongAxes: axes, keepingDimensions: false)
        return Variable(output, parents: [self]) { g in
            [Tensor.zeros(self.shape) + g.reshaped(kept.shape)]
        }
    }

    public func mean(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Variable {
        let summed = sum(alongAxes: axes, keepingDimensions: keepingDimensions)
        return summed * (Scalar(summed.value.count) / Scalar(Swift.max(value.count, 1)))
    }

    /// VJP of a max: the gradient goes to the maximal entries, split evenly among ties.
    public func max(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Variable {
        let kept = value.max(alongAxes: axes, keepingDimensions: true)
        let output = Tensor(validatedShape: keepingDimensions ? kept.shape : value.max(alongAxes: axes).shape, scalars: kept.scalars)
        return Variable(output, parents: [self]) { g in
            let mask = Tensor(shape: self.shape, scalars: zip(self.value.scalars, (Tensor.zeros(self.shape) + kept).scalars).map { $0 == $1 ? Scalar(1) : Scalar(0) })
            let ties = mask.sum(alongAxes: axes, keepingDimensions: true)
            return [mask * (g.reshaped(kept.shape) / ties)]
        }
    }

    /// VJP of log Σ exp: g · softmax over the reduced axes.
    public func logSumExp(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Variable {
        let kept = value.logSumExp(alongAxes: axes, keepingDimensions: true)
        let output = keepingDimensions ? kept : kept.reshaped(value.logSumExp(alongAxes: axes).shape)
        return Variable(output, parents: [self]) { g in
            [(self.value - kept).exp() * g.reshaped(kept.shape)]
        }
    }

    // MARK: Matrix products. For C = op(A)·op(B): dA = g·op(B)ᵀ (transposed back if A was),
    // dB = op(A)ᵀ·g (likewise), then summed over broadcast batch axes.

    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        let a = self, b = other
        let output = a.value.matmul(b.value, transposeSelf: transposeSelf, transposeOther: transposeOther)
        return Variable(output, parents: [a, b]) { g in
            let gradientA: Tensor<Scalar>, gradientB: Tensor<Scalar>
            switch (transposeSelf, transposeOther) {
            case (false, false):
                gradientA = g.matmul(b.value, transposeOther: true)
                gradientB = a.value.matmul(g, transposeSelf: true)
            case (false, true):
                gradientA = g.matmul(b.value)
                gradientB = g.matmul(a.value, transposeSelf: true)
            case (true, false):
                gradientA = b.value.matmul(g, transposeOther: true)
                gradientB = a.value.matmul(g)
            case (true, true):
                gradientA = b.value.matmul(g, transposeSelf: true, transposeOther: true)
                gradientB = g.matmul(a.value, transposeSelf: true, transposeOther: true)
            }
            return [gradientA.unbroadcast(to: a.shape), gradientB.unbroadcast(to: b.shape)]
        }
    }

    // MARK: Shape ops. VJPs: the inverse rearrangement.

    public func reshaped(_ newShape: [Int]) -> Variable {
        Variable(value.reshaped(newShape), parents: [self]) { g in [g.reshaped(self.shape)] }
    }

    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (position, axis) in axes.enumerated() { inverse[axis] = position }
        return Variable(value.permuted(axes), parents: [self]) { g in [g.permuted(inverse)] }
    }

    public func transposed() -> Variable {
        Variable(value.transposed(), parents: [self]) { g in [g.transposed()] }
    }

    /// VJP of a slice: the upstream gradient placed back into zeros.
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let resolved = normalizedAxis(axis, rank: value.rank, op: "slice", shape: shape)
        return Variable(value.slice(axis: resolved, range), parents: [self]) { g in
            var before = self.shape, after = self.shape
            before[resolved] = range.lowerBound
            after[resolved] = self.shape[resolved] - range.upperBound
            return [Tensor.concatenate([Tensor.zeros(before), g, Tensor.zeros(after)], axis: resolved)]
        }
    }

    /// VJP of a concatenation: the upstream gradient split back into the pieces.
    public static func concatenate(_ variables: [Variable], axis: Int) -> Variable {
        let output = Tensor.concatenate(variables.map(\.value), axis: axis)
        let resolved = normalizedAxis(axis, rank: output.rank, op: "concatenate", shape: output.shape)
        return Variable(output, parents: variables) { g in g.split(axis: resolved, sizes: variables.map { $0.shape[resolved] }) }
    }

    public func split(axis: Int, sizes: [Int]) -> [Variable] {
        let resolved = normalizedAxis(axis, rank: value.rank, op: "split", shape: shape)
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[resolved] else {
            shapeFailure("split", "sizes \(sizes) do not add up to extent \(shape[resolved]) of axis \(resolved) in shape \(shape)")
        }
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: resolved, start..<(start + size))
        }
    }

    /// VJP of a gather: scatter-add into zeros.
    public func gathering(_ indices: [Int], alongAxis axis: Int) -> Variable {
        let resolved = normalizedAxis(axis, rank: value.rank, op: "gather", shape: shape)
        return Variable(value.gathering(indices, alongAxis: resolved), parents: [self]) { g in
            [g.scatterAdding(indices, alongAxis: resolved, into: self.shape)]
        }
    }

    // MARK: Normalisations and losses.

    public func softmax(axis: Int = -1) -> Variable {
        let resolved = normalizedAxis(axis, rank: value.rank, op: "softmax", shape: shape)
        let output = value.softmax(axis: resolved)
        return Variable(output, parents: [self]) { g in [alongAxisBackward(output: output, upstream: g, axis: resolved, logarithm: false)] }
    }

    public func logSoftmax(axis: Int = -1) -> Variable {
        let resolved = normalizedAxis(axis, rank: value.rank, op: "logSoftmax", shape: shape)
        let output = value.logSoftmax(axis: resolved)
        return Variable(output, parents: [self]) { g in [alongAxisBackward(output: output, upstream: g, axis: resolved, logarithm: true)] }
    }

    /// Layer norm over the last axis (no affine part; multiply and add parameters for that).
    public func layerNormalized(epsilon: Scalar = 1e-5) -> Variable {
        _ = value.layerNormalized(epsilon: epsilon)  // validates the shape
        let (output, inverseStd) = layerNormForward(value, epsilon: epsilon)
        return Variable(output, parents: [self]) { g in [layerNormBackward(output: output, inverseStd: inverseStd, upstream: g)] }
    }

    /// mean((self − target)²) over all elements.
    public func meanSquaredError(_ target: Variable) -> Variable {
        guard shape == target.shape else { shapeFailure("meanSquaredError", "prediction shape \(shape) vs target shape \(target.shape)") }
        return (self - target).squared().mean()
    }

    /// Cross-entropy of logits `[batch, classes]` with integer labels, batch mean.
    /// VJP: (softmax(x) − onehot(labels)) / B.
    public func crossEntropy(labels: [Int]) -> Variable {
        let loss = value.crossEntropy(labels: labels)
        return Variable(loss, parents: [self]) { g in
            let probabilities = self.value.softmax(axis: 1)
            let target = Tensor<Scalar>.oneHot(labels, classes: self.shape[1])
            return [(probabilities - target) * (g.scalar / Scalar(labels.count))]
        }
    }
}
