/// Shape manipulation: reshape, permute/transpose, slice, concatenate, split. Results are
/// contiguous copies (reshape shares storage).
extension Tensor {
    /// The same elements viewed with `newShape`; one extent may be −1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        guard inferred.count <= 1, !newShape.contains(where: { $0 < -1 }) else {
            shapeFailure("reshape", "invalid target shape \(newShape) for shape \(shape)")
        }
        if let axis = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else {
                shapeFailure("reshape", "cannot infer −1 in \(newShape) for shape \(shape) (\(count) elements)")
            }
            resolved[axis] = count / known
        }
        guard resolved.reduce(1, *) == count else {
            shapeFailure("reshape", "cannot reshape shape \(shape) (\(count) elements) to \(newShape)")
        }
        return Tensor(validatedShape: resolved, scalars: scalars)
    }

    /// Axes reordered: result axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        guard axes.count == rank, Set(axes) == Set(0..<rank) else {
            shapeFailure("permute", "axes \(axes) are not a permutation of 0..<\(rank) for shape \(shape)")
        }
        return permuteCopy(self, axes: axes)
    }

    /// Swaps the last two axes (a matrix transpose, batched over leading axes).
    public func transposed() -> Tensor {
        guard rank >= 2 else { shapeFailure("transpose", "needs rank ≥ 2, got shape \(shape)") }
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuteCopy(self, axes: axes)
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = normalizedAxis(axis, rank: rank, op: "slice", shape: shape)
        guard range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            shapeFailure("slice", "range \(range) out of bounds for axis \(axis) of shape \(shape)")
        }
        let (outer, length, inner) = axisLayout(shape, axis: axis)
        var newShape = shape
        newShape[axis] = range.count
        var result = [Scalar]()
        result.reserveCapacity(outer * range.count * inner)
        for o in 0..<outer {
            let start = (o * length + range.lowerBound) * inner
            result.append(contentsOf: scalars[start..<(start + range.count * inner)])
        }
        return Tensor(validatedShape: newShape, scalars: result)
    }

    /// Joins `tensors` along `axis`; all other extents must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else { shapeFailure("concatenate", "no tensors given") }
        let axis = normalizedAxis(axis, rank: first.rank, op: "concatenate", shape: first.shape)
        for tensor in tensors {
            var a = tensor.shape, b = first.shape
            guard a.count == b.count else {
                shapeFailure("concatenate", "shapes \(first.shape) and \(tensor.shape) differ in rank")
            }
            a[axis] = 0; b[axis] = 0
            guard a == b else {
                shapeFailure("concatenate", "shapes \(first.shape) and \(tensor.shape) differ off axis \(axis)")
            }
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        var newShape = first.shape
        newShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        var result = [Scalar]()
        result.reserveCapacity(newShape.reduce(1, *))
        for o in 0..<outer {
            for tensor in tensors {
                let block = tensor.shape[axis] * inner
                result.append(contentsOf: tensor.scalars[(o * block)..<((o + 1) * block)])
            }
        }
        return Tensor(validatedShape: newShape, scalars: result)
    }

    /// Splits along `axis` into pieces of the given `sizes` (which must add up to the extent).
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        let axis = normalizedAxis(axis, rank: rank, op: "split", shape: shape)
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[axis] else {
            shapeFailure("split", "sizes \(sizes) do not add up to extent \(shape[axis]) of axis \(axis) in shape \(shape)")
        }
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: axis, start..<(start + size))
        }
    }
}

/// out[i_0, …, i_{r−1}] = x[j] with input axis axes[k] indexed by i_k.
@_specialize(where T == Float)
@_specialize(where T == Double)
func permuteCopy<T: TensorScalar>(_ x: Tensor<T>, axes: [Int]) -> Tensor<T> {
    let rank = x.rank
    let newShape = axes.map { x.shape[$0] }
    if axes == Array(0..<rank) { return Tensor(validatedShape: newShape, scalars: x.scalars) }
    var inputStrides = [Int](repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) { inputStrides[axis] = inputStrides[axis + 1] * x.shape[axis + 1] }
    let strides = axes.map { inputStrides[$0] }
    let count = x.count
    return Tensor(shape: newShape) { out in
        guard count > 0 else { return }
        x.withUnsafeBufferPointer { input in
            let source = input.baseAddress!, target = out.baseAddress!
            let width = newShape[rank - 1], innerStride = strides[rank - 1]
            let rows = count / width
            forEachChunk(rows, costPerIndex: width) { range in
                for row in range {
                    var remainder = row, offset = 0
                    for axis in stride(from: rank - 2, through: 0, by: -1) {
                        offset += (remainder % newShape[axis]) * strides[axis]
                        remainder /= newShape[axis]
                    }
                    let destination = target + row * width
                    for j in 0..<width { destination[j] = source[offset + j * innerStride] }
                }
            }
        }
    }
}
