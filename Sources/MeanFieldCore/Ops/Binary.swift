/// Element-wise binary functions with NumPy broadcasting.
public enum BinaryFunction: String, Sendable {
    case add, subtract, multiply, divide
}

/// The broadcast result shape of `a` and `b` under NumPy's rule: align trailing axes; extents must
/// be equal or 1. Anything else stops with the op name and both shapes.
public func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for axis in 0..<rank {
        let extentA = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
        let extentB = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
        if extentA == extentB || extentB == 1 {
            result[axis] = extentA
        } else if extentA == 1 {
            result[axis] = extentB
        } else {
            shapeFailure(op, "shapes \(a) and \(b) cannot be broadcast (axis \(axis) of the aligned shapes: \(extentA) vs \(extentB))")
        }
    }
    return result
}

/// Row-major strides of `shape` aligned to `target` (rank-padded on the left), with stride 0 on
/// every broadcast axis.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: target.count)
    var elementStride = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        let targetAxis = axis + target.count - shape.count
        strides[targetAxis] = shape[axis] == 1 ? 0 : elementStride
        elementStride *= shape[axis]
    }
    return strides
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { applyBinary(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { applyBinary(.subtract, a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { applyBinary(.multiply, a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { applyBinary(.divide, a, b) }
    public static func + (a: Tensor, b: Scalar) -> Tensor { applyBinary(.add, a, Tensor(b)) }
    public static func - (a: Tensor, b: Scalar) -> Tensor { applyBinary(.subtract, a, Tensor(b)) }
    public static func * (a: Tensor, b: Scalar) -> Tensor { applyBinary(.multiply, a, Tensor(b)) }
    public static func / (a: Tensor, b: Scalar) -> Tensor { applyBinary(.divide, a, Tensor(b)) }
    public static func * (a: Scalar, b: Tensor) -> Tensor { applyBinary(.multiply, Tensor(a), b) }

    /// In place `self += scale · other` (same shape; the optimizer's axpy).
    public mutating func addScaled(_ other: Tensor, by scale: Scalar) {
        guard shape == other.shape else { shapeFailure("addScaled", "shapes \(shape) and \(other.shape) differ") }
        other.withUnsafeBufferPointer { source in
            withUnsafeMutableBufferPointer { target in
                for i in 0..<source.count { target[i] += scale * source[i] }
            }
        }
    }
}

/// c = a ∘ b with broadcasting. The innermost output axis is the vector loop; outer rows are split
/// across cores in fixed chunks (results independent of the thread count).
@_specialize(where T == Float)
@_specialize(where T == Double)
func applyBinary<T: TensorScalar>(_ function: BinaryFunction, _ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    switch function {
    case .add: return broadcastLoop(a, b, op: "add") { $0 + $1 }
    case .subtract: return broadcastLoop(a, b, op: "subtract") { $0 - $1 }
    case .multiply: return broadcastLoop(a, b, op: "multiply") { $0 * $1 }
    case .divide: return broadcastLoop(a, b, op: "divide") { $0 / $1 }
    }
}

@inline(__always)
func broadcastLoop<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, op: String, _ f: (T, T) -> T) -> Tensor<T> {
    let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape, op: op)
    return Tensor(shape: shape) { out in
        a.withUnsafeBufferPointer { aBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                let pa = aBuffer.baseAddress!, pb = bBuffer.baseAddress!, pc = out.baseAddress!
                let count = out.count
                if a.shape == b.shape {
                    forEachChunk(count) { range in for i in range { pc[i] = f(pa[i], pb[i]) } }
                    return
                }
                if bBuffer.count == 1 {
                    let scalar = pb[0]
                    forEachChunk(count) { range in for i in range { pc[i] = f(pa[i], scalar) } }
                    return
                }
                if aBuffer.count == 1 {
                    let scalar = pa[0]
                    forEachChunk(count) { range in for i in range { pc[i] = f(scalar, pb[i]) } }
                    return
                }
                guard count > 0 else { return }
                let rank = shape.count
                let stridesA = broadcastStrides(a.shape, to: shape)
                let stridesB = broadcastStrides(b.shape, to: shape)
                let width = shape[rank - 1]
                let innerA = stridesA[rank - 1], innerB = stridesB[rank - 1]
                let rows = count / width
                forEachChunk(rows, costPerIndex: width) { range in
                    for row in range {
                        // Offsets of this row's first element in a and b.
                        var remainder = row, offsetA = 0, offsetB = 0
                        for axis in stride(from: rank - 2, through: 0, by: -1) {
                            let index = remainder % shape[axis]
                            remainder /= shape[axis]
                            offsetA += index * stridesA[axis]
                            offsetB += index * stridesB[axis]
                        }
                        let rowA = pa + offsetA, rowB = pb + offsetB, rowC = pc + row * width
                        if innerA == 1 && innerB == 1 {
                            for j in 0..<width { rowC[j] = f(rowA[j], rowB[j]) }
                        } else if innerA == 1 {
                            let value = rowB[0]
                            for j in 0..<width { rowC[j] = f(rowA[j], value) }
                        } else if innerB == 1 {
                            let value = rowA[0]
                            for j in 0..<width { rowC[j] = f(value, rowB[j]) }
                        } else {
                            let value = f(rowA[0], rowB[0])
                            for j in 0..<width { rowC[j] = value }
                        }
                    }
                }
            }
        }
    }
}
