/// Element-wise functions (Ops/Unary.swift). References: NumPy/SciPy (Fixtures/unary.json: erf for
/// GELU, expit for sigmoid/SiLU) for values; closed forms for limits and for the derivatives
/// (derivatives are also checked by finite differences in VariableOpsTests).
import Testing
@testable import MeanFieldCore

@Suite("Unary ops")
struct UnaryTests {
    @Test("Every UnaryFunction matches NumPy in Double and Float, including large |x|")
    func valuesMatchNumPy() throws {
        // libm's exp, log, tanh, erf are within a few ulps of SciPy's.
        try checkFixtures("unary", tolerance: FixtureTolerance(doubleRelative: 1e-14, doubleAbsolute: 1e-300))
    }

    @Test("The fixture covers every UnaryFunction")
    func fixtureCoversEveryFunction() throws {
        let covered = Set(try FixtureFile.load("unary").cases.compactMap(\.function))
        #expect(covered == Set(UnaryFunction.allCases.map(\.rawValue)))
    }

    @Test("Named methods apply the function they name")
    func namedMethods() {
        let x = Tensor<Double>([0.3, 1.7])
        #expect(x.exp() == x.map(.exp) && x.log() == x.map(.log) && x.relu() == x.map(.relu))
        #expect(x.gelu() == x.map(.gelu) && x.tanh() == x.map(.tanh) && x.sigmoid() == x.map(.sigmoid))
        #expect(x.silu() == x.map(.silu) && x.squared() == x.map(.square) && x.squareRoot() == x.map(.sqrt))
        #expect(-x == x.map(.negate))
    }

    @Test("Sigmoid and SiLU saturate without overflow or NaN in Float")
    func saturation() {
        let x = Tensor<Float>([-1000, -100, 100, 1000])
        #expect(x.sigmoid().scalars == [0, Float.exp(-100) / (1 + Float.exp(-100)), 1, 1])
        #expect(x.silu().scalars.allSatisfy { !$0.isNaN })
        #expect(x.silu()[3] == 1000 && x.silu()[0] == -0.0)
        #expect(x.tanh().scalars == [-1, -1, 1, 1])
    }

    @Test("derivative(x:y:) matches closed forms", arguments: UnaryFunction.allCases)
    func derivatives(_ function: UnaryFunction) {
        let x = 0.7, y = function.value(x)
        let phi = Double.exp(-x * x / 2) / Double.sqrt(2 * Double.pi), cdf = (1 + Double.erf(x / Double.sqrt(2))) / 2
        let sigma = 1 / (1 + Double.exp(-x))
        let expected: Double = switch function {
        case .negate: -1
        case .exp: Double.exp(x)
        case .log: 1 / x
        case .relu: 1
        case .gelu: cdf + x * phi
        case .tanh: 1 / (Double.cosh(x) * Double.cosh(x))
        case .sigmoid: Double.exp(-x) / ((1 + Double.exp(-x)) * (1 + Double.exp(-x)))
        case .silu: sigma + x * sigma * (1 - sigma)
        case .square: 2 * x
        case .sqrt: 0.5 / Double.sqrt(x)
        case .abs: 1
        case .reciprocal: -1 / (x * x)
        case .cos: -Double.sin(x)
        }
        #expect(Swift.abs(function.derivative(x: x, y: y) - expected) <= 1e-15 * Swift.max(1, Swift.abs(expected)), "\(function)")
    }

    @Test("relu and abs on negative inputs")
    func negativeSide() {
        let x = Tensor<Float>([-2, -0.5])
        #expect(x.relu().scalars == [0, 0])
        #expect(x.map(.abs).scalars == [2, 0.5])
        #expect(UnaryFunction.relu.derivative(x: Float(-2), y: 0) == 0 && UnaryFunction.abs.derivative(x: Float(-2), y: 2) == -1)
    }

    @Test("Rank-0 and empty tensors keep their shapes")
    func shapesKept() {
        #expect(Tensor<Double>(2).exp().shape == [])
        #expect(Tensor<Double>.zeros([2, 0]).tanh().shape == [2, 0])
    }
}
