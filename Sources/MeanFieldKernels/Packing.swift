// Packing of GEMM operands into the contiguous panels the micro-kernels read.

/// Packs op(B)[depthStart ..< depthStart+depth, columnStart ..< columnStart+width] into a panel of
/// `panelWidth` columns: element (p, j) goes to panel[p * panelWidth + j]; columns j ≥ width are zero.
/// op(B)(p, j) = b[p * ldb + j], or b[j * ldb + p] when `transposed`.
@inline(__always)
func packBPanel<Scalar: BinaryFloatingPoint>(
    _ b: UnsafePointer<Scalar>, ldb: Int, transposed: Bool, depthStart: Int, columnStart: Int,
    depth: Int, width: Int, panelWidth: Int, into panel: UnsafeMutablePointer<Scalar>
) {
    if !transposed {
        var source = b + depthStart * ldb + columnStart
        var destination = panel
        for _ in 0..<depth {
            for column in 0..<width { destination[column] = source[column] }
            for column in width..<panelWidth { destination[column] = 0 }
            source += ldb
            destination += panelWidth
        }
    } else if width == panelWidth {
        // Walk all columns of the panel together so that the writes are contiguous.
        let source = b + columnStart * ldb + depthStart
        var destination = panel
        for step in 0..<depth {
            for column in 0..<panelWidth { destination[column] = source[column * ldb + step] }
            destination += panelWidth
        }
    } else {
        for column in 0..<width {
            let source = b + (columnStart + column) * ldb + depthStart
            for step in 0..<depth { panel[step * panelWidth + column] = source[step] }
        }
        if width < panelWidth {
            for step in 0..<depth {
                for column in width..<panelWidth { panel[step * panelWidth + column] = 0 }
            }
        }
    }
}

/// Packs op(A)[rowStart ..< rowStart+height, depthStart ..< depthStart+depth] into a panel of
/// `panelHeight` rows: element (r, p) goes to panel[p * panelHeight + r]; rows r ≥ height are zero.
/// op(A)(r, p) = a[r * lda + p], or a[p * lda + r] when `transposed`.
@inline(__always)
func packAPanel<Scalar: BinaryFloatingPoint>(
    _ a: UnsafePointer<Scalar>, lda: Int, transposed: Bool, rowStart: Int, depthStart: Int,
    height: Int, depth: Int, panelHeight: Int, into panel: UnsafeMutablePointer<Scalar>
) {
    if !transposed {
        // Walk all rows of the panel together so that the writes are contiguous.
        if height == panelHeight {
            let source = a + rowStart * lda + depthStart
            var destination = panel
            for step in 0..<depth {
                for row in 0..<panelHeight { destination[row] = source[row * lda + step] }
                destination += panelHeight
            }
        } else {
            for row in 0..<height {
                let source = a + (rowStart + row) * lda + depthStart
                for step in 0..<depth { panel[step * panelHeight + row] = source[step] }
            }
            for step in 0..<depth {
                for row in height..<panelHeight { panel[step * panelHeight + row] = 0 }
            }
        }
    } else {
        var source = a + depthStart * lda + rowStart
        var destination = panel
        for _ in 0..<depth {
            for row in 0..<height { destination[row] = source[row] }
            for row in height..<panelHeight { destination[row] = 0 }
            source += lda
            destination += panelHeight
        }
    }
}
