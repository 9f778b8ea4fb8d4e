import MeanFieldCore

/// The generated regression task of the ResNet experiments (E7): inputs x ~ N(0, I_d) and targets
/// from a fixed random two-layer teacher,
///   y = (1/√K) Σ_k a_k tanh(⟨w_k, x⟩ + c_k) + noise,   w_k ~ N(0, (2/d) I), c_k ~ N(0, ¼), a_k ~ N(0, 1),
/// K = 16, so Var y ≈ ½ and ⟨w_k, x⟩ ~ N(0, 2). The teacher, the training set and the evaluation
/// set come from their own Philox streams of the run's seed, apart from the parameters' streams.
public struct TeacherRegression: Sendable {
    public static let teacherUnits = 16
    public static let teacherStream: UInt64 = 2_000_000
    public static let trainStream: UInt64 = 2_000_001
    public static let evalStream: UInt64 = 2_000_002

    public let inputDimension: Int
    public let noise: Double
    /// w_k (K × d, row-major), c_k, a_k.
    let weights: [Double], biases: [Double], outputs: [Double]

    public init(inputDimension: Int, noise: Double, seed: UInt64) {
        self.inputDimension = inputDimension
        self.noise = noise
        var random = PhiloxRandom(seed: seed, stream: Self.teacherStream)
        let K = Self.teacherUnits
        weights = (random.normal([K, inputDimension], standardDeviation: (2 / Double(inputDimension)).squareRoot()) as Tensor<Double>).scalars
        biases = (random.normal([K], standardDeviation: 0.5) as Tensor<Double>).scalars
        outputs = (random.normal([K]) as Tensor<Double>).scalars
    }

    /// The teacher's noiseless value at `x`.
    public func teacher(_ x: ArraySlice<Double>) -> Double {
        var total = 0.0
        for k in 0..<Self.teacherUnits {
            var z = biases[k]
            for (j, value) in x.enumerated() { z += weights[k * inputDimension + j] * value }
            total += outputs[k] * Double.tanh(z)
        }
        return total / Double(Self.teacherUnits).squareRoot()
    }

    /// `count` points: inputs `[count, d]`, targets `[count, 1]`.
    public func sample<Scalar: TensorScalar>(_ count: Int, random: inout PhiloxRandom) -> (inputs: Tensor<Scalar>, targets: Tensor<Scalar>) {
        let inputs: Tensor<Double> = random.normal([count, inputDimension])
        let noiseDraws: Tensor<Double> = random.normal([count])
        let x = inputs.scalars
        let targets = (0..<count).map { i in
            teacher(x[(i * inputDimension)..<((i + 1) * inputDimension)]) + noise * noiseDraws.scalars[i]
        }
        return (inputs.converted(to: Scalar.self), Tensor<Double>(shape: [count, 1], scalars: targets).converted(to: Scalar.self))
    }
}
