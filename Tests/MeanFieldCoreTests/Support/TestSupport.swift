/// Shared helpers for the MeanFieldCore tests: an independent seeded generator for test inputs
/// (SplitMix64, so test data never depends on the Philox generator under test), input tensors
/// shaped for each op's domain, and element-wise closeness checks with readable failure messages.
import Testing
@testable import MeanFieldCore

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-known generator used only to make test inputs.
struct TestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func nextWord() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(nextWord() >> 11) * 0x1p-53
    }

    /// Uniform integer in 0..<bound.
    mutating func index(below bound: Int) -> Int { Int(nextWord() % UInt64(bound)) }

    /// A tensor of uniform values in [low, high).
    mutating func tensor(_ shape: [Int], _ low: Double = -2, _ high: Double = 2) -> Tensor<Double> {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform(low, high) })
    }

    /// Values with |x| in [low, high] and a random sign: keeps relu, abs and 1/x away from their
    /// kink or pole at 0.
    mutating func tensorAwayFromZero(_ shape: [Int], _ low: Double = 0.2, _ high: Double = 2) -> Tensor<Double> {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
            let magnitude = uniform(low, high)
            return nextWord() & 1 == 0 ? magnitude : -magnitude
        })
    }

    /// Values with no two closer than `spacing` (a shuffled grid plus a little jitter): max has a
    /// unique argmax that small perturbations cannot change.
    mutating func tensorWithoutTies(_ shape: [Int], spacing: Double = 0.1) -> Tensor<Double> {
        let count = shape.reduce(1, *)
        var grid = (0..<count).map { (Double($0) - Double(count) / 2) * spacing }
        for i in stride(from: count - 1, to: 0, by: -1) { grid.swapAt(i, index(below: i + 1)) }
        return Tensor(shape: shape, scalars: grid.map { $0 + uniform(-0.1, 0.1) * spacing })
    }
}

/// The largest |got − want| / (absolute + relative·|want|) over all elements; ≤ 1 means close.
/// Returns the index of the worst element too, for messages.
func worstRatio(_ got: [Double], _ want: [Double], relative: Double, absolute: Double) -> (ratio: Double, index: Int) {
    var worst = (ratio: 0.0, index: -1)
    for (i, (g, w)) in zip(got, want).enumerated() {
        let difference = Swift.abs(g - w)
        let ratio = difference == 0 ? 0 : difference / (absolute + relative * Swift.abs(w))
        if !(ratio <= worst.ratio) { worst = (ratio.isNaN ? .infinity : ratio, i) }
    }
    return worst
}

/// Expects `got` to have `want`'s shape and every element within absolute + relative·|want|.
func expectClose<T: TensorScalar>(
    _ got: Tensor<T>, _ want: Tensor<Double>, relative: Double, absolute: Double,
    _ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard got.shape == want.shape else {
        Issue.record("\(what()): shape \(got.shape), expected \(want.shape)", sourceLocation: sourceLocation)
        return
    }
    let gotValues = got.scalars.map { Double($0) }
    let (ratio, index) = worstRatio(gotValues, want.scalars, relative: relative, absolute: absolute)
    #expect(ratio <= 1, "\(what()) [\(T.dtypeName)]: element \(index) is \(index >= 0 ? gotValues[index] : .nan), expected \(index >= 0 ? want.scalars[index] : .nan)", sourceLocation: sourceLocation)
}

/// Bitwise equality of two tensors, shape included (NaN-safe, unlike `==` on the scalars).
func bitwiseEqual<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Bool {
    a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { ieeeBits($0) == ieeeBits($1) }
}

/// The IEEE bit pattern of a `Float` or `Double`, widened to 64 bits.
func ieeeBits<T: TensorScalar>(_ value: T) -> UInt64 {
    if let double = value as? Double { return double.bitPattern }
    if let float = value as? Float { return UInt64(float.bitPattern) }
    preconditionFailure("unexpected scalar type \(T.self)")
}

/// The text a failed exit test wrote to standard error (lossy UTF-8).
func standardErrorText(_ result: ExitTest.Result?) -> String {
    guard let result else { return "" }
    return String(decoding: result.standardErrorContent, as: UTF8.self)
}
