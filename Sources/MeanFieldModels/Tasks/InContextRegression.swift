import MeanFieldCore

/// In-context linear regression (theory §1.1): each prompt has N examples x_i ~ N(0, I_d),
/// y_i = w·x_i + ε_i with w ~ N(0, I_d) drawn per prompt and ε_i ~ N(0, noise²), and a query x_q.
/// The token matrix has columns (x_i, y_i) and a last column (x_q, 0); D = d + 1 plus optional zero
/// padding. The target is y_q = w·x_q + ε_q.
public struct InContextRegression: Sendable {
    /// Input dimension d.
    public var inputDimension: Int
    /// Number of in-context examples N.
    public var examples: Int
    /// Label noise standard deviation.
    public var noise: Double
    /// Token dimension D ≥ d + 1 (extra rows are zero).
    public var tokenDimension: Int

    public init(inputDimension: Int, examples: Int, noise: Double = 0, tokenDimension: Int? = nil) {
        self.inputDimension = inputDimension
        self.examples = examples
        self.noise = noise
        self.tokenDimension = tokenDimension ?? inputDimension + 1
        precondition(self.tokenDimension >= inputDimension + 1, "InContextRegression: token dimension must be ≥ d + 1")
    }

    /// Row of the label coordinate (d, zero-based), read out by the regression head.
    public var labelRow: Int { inputDimension }

    /// A batch of `count` prompts: tokens `[count, D, N+1]` and targets `[count]`, drawn from the
    /// Philox stream `random` (x's, then w's, then noise, each one tensor-sized draw).
    public func sample<Scalar: TensorScalar>(_ count: Int, random: inout PhiloxRandom, as _: Scalar.Type = Scalar.self) -> (tokens: Tensor<Scalar>, targets: Tensor<Scalar>) {
        let d = inputDimension, n = examples + 1, D = tokenDimension
        let inputs: Tensor<Scalar> = random.normal([count, n, d])
        let weights: Tensor<Scalar> = random.normal([count, d])
        let noiseDraw: Tensor<Scalar> = random.normal([count, n], standardDeviation: Scalar(noise))
        var tokens = [Scalar](repeating: 0, count: count * D * n)
        var targets = [Scalar](repeating: 0, count: count)
        for b in 0..<count {
            for i in 0..<n {
                var label: Scalar = noiseDraw.scalars[b * n + i]
                for k in 0..<d {
                    let x = inputs.scalars[(b * n + i) * d + k]
                    label += weights.scalars[b * d + k] * x
                    tokens[(b * D + k) * n + i] = x
                }
                if i < examples { tokens[(b * D + d) * n + i] = label } else { targets[b] = label }
            }
        }
        return (Tensor(shape: [count, D, n], scalars: tokens), Tensor(shape: [count], scalars: targets))
    }
}
