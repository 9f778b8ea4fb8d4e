import MeanFieldKernels

/// Matrix products. Leading (batch) axes broadcast NumPy-style; the last two axes are the matrices.
extension Tensor {
    /// `op(self) · op(other)` where op transposes the last two axes when asked.
    /// Shapes: self `[…, m, k]` (or `[…, k, m]` transposed), other `[…, k, n]` (or `[…, n, k]`).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        batchedMatmul(self, other, transposeA: transposeSelf, transposeB: transposeOther)
    }
}

/// Batched GEMM: one `Scalar.gemm` per batch element. Small matrices in large batches are spread
/// across cores one matrix per task (each GEMM then runs on one thread); large ones let the GEMM
/// kernel split the work. Either way each output element is computed by one kernel call, so results
/// do not depend on the thread count.
@_specialize(where T == Float)
@_specialize(where T == Double)
func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> Tensor<T> {
    guard a.rank >= 2, b.rank >= 2 else {
        shapeFailure("matmul", "needs rank ≥ 2 operands, got shapes \(a.shape) and \(b.shape)")
    }
    let rowsA = a.shape[a.rank - 2], colsA = a.shape[a.rank - 1]
    let rowsB = b.shape[b.rank - 2], colsB = b.shape[b.rank - 1]
    let (m, k) = transposeA ? (colsA, rowsA) : (rowsA, colsA)
    let (kB, n) = transposeB ? (colsB, rowsB) : (rowsB, colsB)
    guard k == kB else {
        shapeFailure("matmul", "inner dimensions differ: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") give k = \(k) vs \(kB)")
    }
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    let batchShape = batchA == batchB ? batchA : broadcastShape(batchA, batchB, op: "matmul (batch axes of shapes \(a.shape) and \(b.shape))")
    let batchCount = batchShape.reduce(1, *)
    let stridesA = broadcastStrides(batchA, to: batchShape), stridesB = broadcastStrides(batchB, to: batchShape)
    let matrixA = rowsA * colsA, matrixB = rowsB * colsB, matrixC = m * n
    return Tensor(shape: batchShape + [m, n]) { out in
        guard matrixC > 0 else { return }
        a.withUnsafeBufferPointer { aBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                let pa = aBuffer.baseAddress!, pb = bBuffer.baseAddress!, pc = out.baseAddress!
                func multiply(_ batch: Int) {
                    var remainder = batch, offsetA = 0, offsetB = 0
                    for axis in stride(from: batchShape.count - 1, through: 0, by: -1) {
                        let index = remainder % batchShape[axis]
                        remainder /= batchShape[axis]
                        offsetA += index * stridesA[axis]
                        offsetB += index * stridesB[axis]
                    }
                    if k == 0 {
                        (pc + batch * matrixC).initialize(repeating: 0, count: matrixC)
                        return
                    }
                    T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           alpha: 1, a: pa + offsetA * matrixA, lda: colsA, b: pb + offsetB * matrixB, ldb: colsB,
                           beta: 0, c: pc + batch * matrixC, ldc: n)
                }
                let flops = m * n * k
                if batchCount > 1 && flops < 1 << 20 {
                    forEachChunk(batchCount, costPerIndex: Swift.max(1, flops / 4)) { range in
                        for batch in range { multiply(batch) }
                    }
                } else {
                    for batch in 0..<batchCount { multiply(batch) }
                }
            }
        }
    }
}
