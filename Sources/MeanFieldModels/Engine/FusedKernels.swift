// Pointer-level kernels of the fused engine: GEMM forwarding, layer norm, score maps (fused
// softmax forward and backward), feed-forward activations, column sums. The only file of the
// engine besides the workspace that reads and writes raw memory.
//
// Every loop here either writes disjoint outputs per index (so any partition gives the same bits)
// or reduces in a fixed order that does not depend on how the work is split: results are bitwise
// independent of the thread count.
import MeanFieldCore
import MeanFieldKernels

/// Kernels of ``FusedTransformerEngine`` (row-major buffers; shapes in the comments).
enum FusedKernels {
    /// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C (MeanFieldKernels GEMM, thread-count independent).
    @inline(__always)
    static func gemm<T: TensorScalar>(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                                      _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
                                      _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int) {
        T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
               b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Runs `body(range)` over `0..<count` split into fixed chunks of at least `grain` indices, on
    /// the thread pool. Callers only write per-index outputs, so the split never changes results.
    @inline(__always)
    static func forChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(64, count / max(1, grain)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        Threading.parallelFor(chunks) { chunk in
            body((chunk * count / chunks)..<((chunk + 1) * count / chunks))
        }
    }

    // MARK: Layer norm (per row over D, no affine part; ε = 1e-5 as the reference)

    /// y = (x − μ)/√(σ² + ε) per row of x `[rows, width]`; stores 1/√(σ² + ε) per row.
    static func layerNormForward<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                  inverseStd: UnsafeMutablePointer<T>, rows: Int, width: Int) {
        forChunks(rows, grain: 256) { range in
            let start = range.lowerBound, offset = start * width
            if T.self == Float.self {
                Elementwise.layerNormForward(float(x + offset), float(y + offset), inverseStd: float(inverseStd + start),
                                             rows: range.count, width: width)
            } else if T.self == Double.self {
                Elementwise.layerNormForward(double(x + offset), double(y + offset), inverseStd: double(inverseStd + start),
                                             rows: range.count, width: width)
            } else {
                unsupportedScalar(T.self)
            }
        }
    }

    /// dx = residual + (1/σ)·(dy − mean(dy) − y·mean(dy ⊙ y)) per row (the layer-norm VJP added to
    /// the residual gradient). `dx` may alias `residual`.
    static func layerNormBackward<T: TensorScalar>(output y: UnsafePointer<T>, inverseStd: UnsafePointer<T>,
                                                   upstream dy: UnsafePointer<T>, residual: UnsafePointer<T>,
                                                   into dx: UnsafeMutablePointer<T>, rows: Int, width: Int) {
        forChunks(rows, grain: 256) { range in
            let start = range.lowerBound, o = start * width
            if T.self == Float.self {
                Elementwise.layerNormBackward(y: float(y + o), inverseStd: float(inverseStd + start), dy: float(dy + o),
                                              residual: float(residual + o), dx: float(dx + o), rows: range.count, width: width)
            } else if T.self == Double.self {
                Elementwise.layerNormBackward(y: double(y + o), inverseStd: double(inverseStd + start), dy: double(dy + o),
                                              residual: double(residual + o), dx: double(dx + o), rows: range.count, width: width)
            } else {
                unsupportedScalar(T.self)
            }
        }
    }

    /// TensorScalar's conformers are Float and Double; the per-ISA kernels exist for those two only.
    static func unsupportedScalar<T>(_: T.Type) -> Never {
        fatalError("FusedKernels: scalar type \(T.self) is not supported (Float and Double are)")
    }

    /// The same pointer as `Float` / `Double` (callers check `T.self` first).
    @inline(__always)
    static func float<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
    @inline(__always)
    static func float<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }
    @inline(__always)
    static func double<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Double> { UnsafeRawPointer(p).assumingMemoryBound(to: Double.self) }
    @inline(__always)
    static func double<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Double> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
    }

    /// Token-major `[n, heads·width]` ↔ head-major `[heads, n, width]` copies of one sequence.
    static func headMajor<T: TensorScalar>(_ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>, tokens n: Int, heads: Int,
                                           width: Int, toHeadMajor: Bool) {
        if T.self == Float.self {
            Elementwise.headMajor(float(source), float(target), tokens: n, heads: heads, width: width, toHeadMajor: toHeadMajor)
        } else if T.self == Double.self {
            Elementwise.headMajor(double(source), double(target), tokens: n, heads: heads, width: width, toHeadMajor: toHeadMajor)
        } else {
            unsupportedScalar(T.self)
        }
    }

    /// c = a + b element-wise (`c` may alias either).
    static func add<T: TensorScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into c: UnsafeMutablePointer<T>, count: Int) {
        forChunks(count, grain: 1 << 14) { range in
            for i in range { c[i] = a[i] + b[i] }
        }
    }

    /// target[i] += Σ_k partials[k][i], the partials added in their order (per-group weight
    /// gradients of tiled blocks, RowTiles: the same bits on any thread count).
    static func addInOrder<T: TensorScalar>(_ partials: [UnsafeMutablePointer<T>], into target: UnsafeMutablePointer<T>, count: Int) {
        guard !partials.isEmpty else { return }
        forChunks(count, grain: 1 << 12) { range in
            for partial in partials {
                for i in range { target[i] += partial[i] }
            }
        }
    }

    /// Copies `count` elements.
    static func copy<T: TensorScalar>(_ source: UnsafePointer<T>, into target: UnsafeMutablePointer<T>, count: Int) {
        target.update(from: source, count: count)
    }

    // MARK: Score maps (theory §1.2), in place on scaled scores `[rows, n keys]` (one row per query and head)

    /// Attention weights from scaled scores, row-wise (one row = one query, softmax over keys).
    @inline(__always)
    static func scoreMapForward<T: TensorScalar>(_ map: ScoreMap, _ rows: UnsafeMutablePointer<T>, rowCount: Int, tokens n: Int) {
        switch map {
        case .linear:
            return
        case .relu:
            let inverse = 1 / T(n)
            for i in 0..<(rowCount * n) {
                let x = rows[i]
                rows[i] = x > 0 ? x * inverse : 0
            }
        case .softmax:
            if T.self == Float.self { return Elementwise.softmaxRows(float(rows), rowCount: rowCount, tokens: n) }
            if T.self == Double.self { return Elementwise.softmaxRows(double(rows), rowCount: rowCount, tokens: n) }
            for q in 0..<rowCount {
                let row = rows + q * n
                var maximum = -T.infinity
                for i in 0..<n { maximum = Swift.max(maximum, row[i]) }
                if !maximum.isFinite { maximum = 0 }
                // Exponentials in their own loop (it vectorizes; a running sum would keep it scalar).
                for i in 0..<n { row[i] = exponential(row[i] - maximum) }
                let scale = 1 / orderedSum(row, count: n)
                for i in 0..<n { row[i] *= scale }
            }
        }
    }

    /// Gradient with respect to the unscaled scores T (weights = map(scale·T)), in place on
    /// `gradient` (which holds ∂R/∂weights), given the weights.
    @inline(__always)
    static func scoreMapBackward<T: TensorScalar>(_ map: ScoreMap, weights: UnsafePointer<T>, gradient: UnsafeMutablePointer<T>,
                                                  rowCount: Int, tokens n: Int, scale: T) {
        switch map {
        case .linear:
            for i in 0..<(rowCount * n) { gradient[i] *= scale }
        case .relu:
            let factor = scale / T(n)
            for i in 0..<(rowCount * n) {
                let g = gradient[i], x = weights[i]
                gradient[i] = x > 0 ? g * factor : 0
            }
        case .softmax:
            // dS = W ⊙ (dW − Σ_keys dW ⊙ W), per query row.
            if T.self == Float.self {
                return Elementwise.softmaxBackward(weights: float(weights), gradient: float(gradient), rowCount: rowCount, tokens: n,
                                                   scale: unsafeBitCast(scale, to: Float.self))
            }
            if T.self == Double.self {
                return Elementwise.softmaxBackward(weights: double(weights), gradient: double(gradient), rowCount: rowCount, tokens: n,
                                                   scale: unsafeBitCast(scale, to: Double.self))
            }
            for q in 0..<rowCount {
                let w = weights + q * n, g = gradient + q * n
                var total: T = 0
                for i in 0..<n { total += g[i] * w[i] }
                for i in 0..<n { g[i] = scale * w[i] * (g[i] - total) }
            }
        }
    }

    /// Σ values[0..<count] with four interleaved partial sums combined in a fixed order (faster
    /// than one running sum; the same bits on any thread).
    @inline(__always)
    static func orderedSum<T: TensorScalar>(_ values: UnsafePointer<T>, count: Int) -> T {
        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
        var i = 0
        while i + 4 <= count {
            s0 += values[i]; s1 += values[i + 1]; s2 += values[i + 2]; s3 += values[i + 3]
            i += 4
        }
        while i < count { s0 += values[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// e^x: a branch-free polynomial for `Float` (vectorizes; ≤ 2 ulp on the softmax range x ≤ 0),
    /// the library function for `Double` (gradient checks want full precision).
    @inline(__always)
    static func exponential<T: TensorScalar>(_ x: T) -> T {
        if T.self == Float.self {
            return unsafeBitCast(floatExp(unsafeBitCast(x, to: Float.self)), to: T.self)
        }
        return T.exp(x)
    }

    /// e^x = 2^k·p(r), k = round(x/ln 2), r = x − k·ln 2 (Cody–Waite split), p the degree-7 Taylor
    /// polynomial (|r| ≤ ln2/2: truncation ≤ 5e-9 relative). x is clamped to [−87, 88].
    @inline(__always)
    static func floatExp(_ input: Float) -> Float {
        let x = Swift.min(Swift.max(input, -87), 88)
        let shifter: Float = 12_582_912  // 1.5·2^23: adding it rounds to an integer in the low bits
        let shifted = x * 1.442_695_04 + shifter
        let k = shifted - shifter
        let r = (x - k * 0.693_145_751_953_125) - k * 1.428_606_765_330_187_045e-06
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponentBits = (shifted.bitPattern &- shifter.bitPattern) &<< 23
        return Float(bitPattern: p.bitPattern &+ exponentBits)
    }

    // MARK: Feed-forward activations (theory §1.2): the same formulas as MeanFieldCore's UnaryFunction

    /// act = σ(pre + c) row-wise, with pre overwritten by pre + c. `pre`, `act`: `[rows, units]`, the
    /// same buffer for ReLU (``FusedShape/keepsPreActivations``): act = max(pre + c, 0) in place.
    static func activationForward<T: TensorScalar>(_ activation: Activation, pre: UnsafeMutablePointer<T>, bias: UnsafePointer<T>,
                                                   act: UnsafeMutablePointer<T>, rows: Int, units: Int) {
        precondition(activation != .relu || pre == act, "ReLU's activations are computed in place")
        forChunks(rows, grain: max(1, 4096 / max(units, 1))) { range in
            if activation == .relu && (T.self == Float.self || T.self == Double.self) {
                let offset = range.lowerBound * units
                if T.self == Float.self {
                    Elementwise.biasRelu(float(act + offset), bias: float(bias), rows: range.count, units: units)
                } else {
                    Elementwise.biasRelu(double(act + offset), bias: double(bias), rows: range.count, units: units)
                }
                return
            }
            for row in range {
                let p = pre + row * units, a = act + row * units
                for u in 0..<units { p[u] += bias[u] }
                switch activation {
                case .relu:
                    for u in 0..<units {
                        let x = p[u]
                        a[u] = x > 0 ? x : 0
                    }
                case .gelu: for u in 0..<units { a[u] = p[u] * (1 + T.erf(p[u] * T(0.70710678118654752440))) / 2 }
                case .tanh: for u in 0..<units { a[u] = T.tanh(p[u]) }
                case .sigmoid: for u in 0..<units { a[u] = sigmoid(p[u]) }
                case .silu: for u in 0..<units { a[u] = p[u] * sigmoid(p[u]) }
                }
            }
        }
    }

    /// gradient ← gradient ⊙ σ'(pre) (σ' from pre and act = σ(pre); ReLU's mask from act, which is pre's buffer).
    static func activationBackward<T: TensorScalar>(_ activation: Activation, pre: UnsafePointer<T>, act: UnsafePointer<T>,
                                                    gradient: UnsafeMutablePointer<T>, count: Int) {
        forChunks(count, grain: 1 << 13) { range in
            switch activation {
            case .relu:
                let start = range.lowerBound
                if T.self == Float.self {
                    Elementwise.reluMask(float(gradient + start), float(pre + start), count: range.count)
                } else if T.self == Double.self {
                    Elementwise.reluMask(double(gradient + start), double(pre + start), count: range.count)
                } else {
                    unsupportedScalar(T.self)
                }
            case .gelu:
                for i in range {
                    let x = pre[i]
                    let cdf = (1 + T.erf(x * T(0.70710678118654752440))) / 2
                    gradient[i] *= cdf + x * T.exp(-x * x / 2) * T(0.39894228040143267794)
                }
            case .tanh: for i in range { gradient[i] *= 1 - act[i] * act[i] }
            case .sigmoid: for i in range { gradient[i] *= act[i] * (1 - act[i]) }
            case .silu:
                for i in range {
                    let s = sigmoid(pre[i])
                    gradient[i] *= s * (1 + pre[i] * (1 - s))
                }
            }
        }
    }

    /// σ(x) = 1/(1 + e^{−x}) without overflow.
    @inline(__always)
    static func sigmoid<T: TensorScalar>(_ x: T) -> T {
        if x >= 0 { return 1 / (1 + T.exp(-x)) }
        let e = T.exp(x)
        return e / (1 + e)
    }

    /// sums[u] = Σ_rows matrix[row, u], rows added in order (the split is over columns only).
    static func columnSums<T: TensorScalar>(_ matrix: UnsafePointer<T>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<T>) {
        let blocks = max(1, min(16, columns / 16))
        Threading.parallelFor(blocks) { block in
            let start = block * columns / blocks, end = (block + 1) * columns / blocks
            if T.self == Float.self {
                return Elementwise.columnSums(float(matrix + start), rows: rows, stride: columns, count: end - start, into: float(sums + start))
            }
            if T.self == Double.self {
                return Elementwise.columnSums(double(matrix + start), rows: rows, stride: columns, count: end - start, into: double(sums + start))
            }
            for u in start..<end { sums[u] = 0 }
            for row in 0..<rows {
                let line = matrix + row * columns
                for u in start..<end { sums[u] += line[u] }
            }
        }
    }
}
