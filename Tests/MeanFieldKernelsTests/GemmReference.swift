// Test helpers: random matrices with padded row strides, and a naive triple-loop GEMM in Double.
import MeanFieldKernels

/// One GEMM problem: shapes, transposes, padded strides and the scalars.
struct GemmCase: CustomStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var transposeA = false, transposeB = false
    var alpha = 1.0, beta = 0.0
    /// Extra elements at the end of each stored row (lda = width + padding, etc.).
    var padding = 0
    /// Fill C with NaN before the call (only meaningful with beta == 0).
    var nanInC = false

    var description: String {
        "\(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) alpha=\(alpha) beta=\(beta) pad=\(padding)\(nanInC ? " NaN-C" : "")"
    }
    var storedARows: Int { transposeA ? k : m }
    var lda: Int { (transposeA ? m : k) + padding }
    var storedBRows: Int { transposeB ? n : k }
    var ldb: Int { (transposeB ? k : n) + padding }
    var ldc: Int { n + padding }

    /// The same problem with every transpose combination.
    func allTransposes() -> [GemmCase] {
        [(false, false), (true, false), (false, true), (true, true)].map { pair in
            var copy = self
            (copy.transposeA, copy.transposeB) = pair
            return copy
        }
    }
}

/// A deterministic pseudo-random sequence in [-1, 1) (xorshift), so failures reproduce.
struct TestRandom {
    var state: UInt64
    mutating func next() -> Double {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
}

/// Inputs of a case as arrays in `Scalar`, plus the expected result and an error bound in Double.
struct GemmFixture<Scalar: BinaryFloatingPoint & Sendable>: Sendable {
    let problem: GemmCase
    var a: [Scalar], b: [Scalar], c: [Scalar]
    var expected: [Double]
    var tolerance: [Double]

    init(_ problem: GemmCase, seed: UInt64 = 42) {
        self.problem = problem
        var random = TestRandom(state: seed &* 2654435761 &+ 1)
        a = (0..<(max(1, problem.storedARows * problem.lda))).map { _ in Scalar(random.next()) }
        b = (0..<(max(1, problem.storedBRows * problem.ldb))).map { _ in Scalar(random.next()) }
        c = (0..<(max(1, problem.m * problem.ldc))).map { _ in problem.nanInC ? Scalar.nan : Scalar(random.next()) }
        expected = [Double](repeating: 0, count: c.count)
        tolerance = [Double](repeating: 0, count: c.count)
        let epsilon = Double(Scalar.ulpOfOne)
        // Tests build without optimization: read through unsafe pointers to keep this loop tolerable.
        let aDouble = a.map(Double.init), bDouble = b.map(Double.init)
        let (aRowStride, aDepthStride) = problem.transposeA ? (1, problem.lda) : (problem.lda, 1)
        let (bDepthStride, bColumnStride) = problem.transposeB ? (1, problem.ldb) : (problem.ldb, 1)
        let products = aDouble.withUnsafeBufferPointer { aPointer in
            bDouble.withUnsafeBufferPointer { bPointer in
                (0..<(problem.m * problem.n)).map { index -> (Double, Double) in
                    let i = index / max(1, problem.n), j = index % max(1, problem.n)
                    var sum = 0.0, magnitude = 0.0
                    var aIndex = i * aRowStride, bIndex = j * bColumnStride
                    for _ in 0..<problem.k {
                        let product = aPointer[aIndex] * bPointer[bIndex]
                        sum += product
                        magnitude += abs(product)
                        aIndex += aDepthStride
                        bIndex += bDepthStride
                    }
                    return (sum, magnitude)
                }
            }
        }
        for i in 0..<problem.m {
            for j in 0..<problem.n {
                let (sum, magnitude) = products[i * problem.n + j]
                let index = i * problem.ldc + j
                let old = problem.beta == 0 ? 0 : Double(c[index])
                expected[index] = problem.alpha * sum + problem.beta * old
                tolerance[index] = 2 * epsilon * (Double(problem.k + 2) * abs(problem.alpha) * magnitude
                    + abs(problem.beta * old)) + Double(Scalar.leastNormalMagnitude)
            }
        }
    }

    /// The largest |result - expected| / tolerance over C's m×n elements (≤ 1 passes); padding
    /// elements of C must be untouched.
    func worstErrorRatio(_ result: [Scalar]) -> Double {
        var worst = 0.0
        for i in 0..<problem.m {
            for j in 0..<problem.ldc {
                let index = i * problem.ldc + j
                if j >= problem.n {
                    if !(result[index] == c[index] || (result[index].isNaN && c[index].isNaN)) { return .infinity }
                    continue
                }
                let value = Double(result[index])
                if !value.isFinite { return .infinity }
                worst = max(worst, abs(value - expected[index]) / tolerance[index])
            }
        }
        return worst
    }
}

/// Runs `problem` through `call` (which receives the pointers and strides) and returns C.
func runGemm<Scalar>(
    _ fixture: GemmFixture<Scalar>,
    _ call: (UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>) -> Void
) -> [Scalar] {
    var c = fixture.c
    fixture.a.withUnsafeBufferPointer { a in
        fixture.b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in call(a.baseAddress!, b.baseAddress!, c.baseAddress!) }
        }
    }
    return c
}

/// Fixtures of `gemmCases`, computed once per scalar type and shared by all tests.
let floatFixtures: [GemmFixture<Float>] = gemmCases.map { GemmFixture($0) }
let doubleFixtures: [GemmFixture<Double>] = gemmCases.map { GemmFixture($0) }

/// The cases every backend and CPU level is checked on.
let gemmCases: [GemmCase] = {
    var cases: [GemmCase] = []
    let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (7, 7, 7), (33, 33, 33), (1, 33, 7), (33, 1, 257), (7, 257, 33), (65, 65, 16),
        (300, 70, 300), (13, 600, 5), (70, 40, 530), (9, 4100, 3), (49, 16, 49), (65, 16, 300),
    ]
    for (m, n, k) in shapes {
        cases += GemmCase(m: m, n: n, k: k).allTransposes()
    }
    cases += [GemmCase(m: 257, n: 257, k: 257), GemmCase(m: 257, n: 257, k: 257, transposeA: true, transposeB: true)]
    cases += GemmCase(m: 33, n: 35, k: 37, alpha: 0.5, beta: -1.5, padding: 3).allTransposes()
    cases += GemmCase(m: 49, n: 16, k: 49, alpha: 0.5, beta: -1.5, padding: 3).allTransposes()
    cases += GemmCase(m: 19, n: 300, k: 21, alpha: -2, beta: 1, padding: 5).allTransposes()
    cases += GemmCase(m: 40, n: 9, k: 300, alpha: 1.25, beta: 0, padding: 1, nanInC: true).allTransposes()
    cases.append(GemmCase(m: 8, n: 8, k: 8, alpha: 0, beta: 2))
    cases.append(GemmCase(m: 8, n: 8, k: 8, alpha: 0, beta: 0, nanInC: true))
    cases.append(GemmCase(m: 5, n: 6, k: 0, alpha: 1, beta: 0.5))
    cases.append(GemmCase(m: 0, n: 6, k: 3))
    cases.append(GemmCase(m: 6, n: 0, k: 3))
    return cases
}()
