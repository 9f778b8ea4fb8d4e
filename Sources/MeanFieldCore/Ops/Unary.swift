import RealModule

/// Element-wise functions with their derivatives, written once for `Float` and `Double`.
public enum UnaryFunction: String, CaseIterable, Sendable {
    case negate, exp, log, relu, gelu, tanh, sigmoid, silu, square, sqrt, abs, reciprocal
    /// cos x: random Fourier features φ(ω·x + β) = √2 cos(ω·x + β) (theory §5).
    case cos

    /// f(x).
    @inline(__always)
    public func value<T: TensorScalar>(_ x: T) -> T {
        switch self {
        case .negate: return -x
        case .exp: return T.exp(x)
        case .log: return T.log(x)
        case .relu: return x > 0 ? x : 0
        // GELU, exact form x·Φ(x) = ½x(1 + erf(x/√2)) (as PyTorch's default `approximate='none'`).
        case .gelu: return x * (1 + T.erf(x * T(0.70710678118654752440))) / 2
        case .tanh: return T.tanh(x)
        case .sigmoid: return stableSigmoid(x)
        // SiLU (swish): x·σ(x).
        case .silu: return x * stableSigmoid(x)
        case .square: return x * x
        case .sqrt: return x.squareRoot()
        case .abs: return Swift.abs(x)
        case .reciprocal: return 1 / x
        case .cos: return T.cos(x)
        }
    }

    /// f'(x), given x and y = f(x) (whichever is cheaper to use).
    @inline(__always)
    public func derivative<T: TensorScalar>(x: T, y: T) -> T {
        switch self {
        case .negate: return -1
        case .exp: return y
        case .log: return 1 / x
        case .relu: return x > 0 ? 1 : 0
        // d/dx xΦ(x) = Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π).
        case .gelu:
            let cdf = (1 + T.erf(x * T(0.70710678118654752440))) / 2
            return cdf + x * T.exp(-x * x / 2) * T(0.39894228040143267794)
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        // d/dx xσ(x) = σ(x)(1 + x(1 − σ(x))).
        case .silu:
            let s = stableSigmoid(x)
            return s * (1 + x * (1 - s))
        case .square: return 2 * x
        case .sqrt: return 1 / (2 * y)
        case .abs: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .reciprocal: return -y * y
        case .cos: return -T.sin(x)
        }
    }
}

/// σ(x) = 1/(1 + e^{−x}), evaluated without overflow for large |x|.
@inline(__always)
func stableSigmoid<T: TensorScalar>(_ x: T) -> T {
    if x >= 0 { return 1 / (1 + T.exp(-x)) }
    let e = T.exp(x)
    return e / (1 + e)
}

extension Tensor {
    /// Applies `function` to every element.
    public func map(_ function: UnaryFunction) -> Tensor { applyUnary(function, self) }

    public func exp() -> Tensor { map(.exp) }
    public func log() -> Tensor { map(.log) }
    public func relu() -> Tensor { map(.relu) }
    public func gelu() -> Tensor { map(.gelu) }
    public func tanh() -> Tensor { map(.tanh) }
    public func sigmoid() -> Tensor { map(.sigmoid) }
    public func silu() -> Tensor { map(.silu) }
    public func squared() -> Tensor { map(.square) }
    public func squareRoot() -> Tensor { map(.sqrt) }
    public static prefix func - (x: Tensor) -> Tensor { x.map(.negate) }
}

/// y = f(x) element-wise (vectorised by the compiler where libm allows; split across cores for
/// large tensors).
@_specialize(where T == Float)
@_specialize(where T == Double)
func applyUnary<T: TensorScalar>(_ function: UnaryFunction, _ x: Tensor<T>) -> Tensor<T> {
    Tensor(shape: x.shape) { out in
        x.withUnsafeBufferPointer { input in
            let source = input.baseAddress!, target = out.baseAddress!
            forEachChunk(input.count) { range in
                switch function {
                case .negate: for i in range { target[i] = -source[i] }
                case .relu: for i in range { target[i] = source[i] > 0 ? source[i] : 0 }
                case .square: for i in range { target[i] = source[i] * source[i] }
                default: for i in range { target[i] = function.value(source[i]) }
                }
            }
        }
    }
}

/// dx = f'(x) ⊙ dy, the vector-Jacobian product of an element-wise function.
@_specialize(where T == Float)
@_specialize(where T == Double)
func unaryBackward<T: TensorScalar>(_ function: UnaryFunction, x: Tensor<T>, y: Tensor<T>, upstream: Tensor<T>) -> Tensor<T> {
    Tensor(shape: x.shape) { out in
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                upstream.withUnsafeBufferPointer { dys in
                    let target = out.baseAddress!
                    forEachChunk(xs.count) { range in
                        for i in range { target[i] = function.derivative(x: xs[i], y: ys[i]) * dys[i] }
                    }
                }
            }
        }
    }
}
