/// The autodiff mechanism (Autodiff/Variable.swift): graph walking, gradient accumulation, constants,
/// and the gradient check itself. References are closed forms (d(x²+x)/dx = 2x+1, …) and a
/// deliberately wrong pullback that the finite-difference check must reject.
import Testing
@testable import MeanFieldCore

@Suite("Autodiff mechanism")
struct VariableTests {
    @Test("A variable used along several paths accumulates every path's gradient")
    func diamondAccumulates() {
        let x = Variable(Tensor<Double>([1, -2, 3]))
        let a = x * x, b = x.exp()
        let loss = (a + b + x).sum()               // d/dx = 2x + eˣ + 1
        let gradient = gradients(of: loss, withRespectTo: [x])[0]
        let expected = x.value.scalars.map { 2 * $0 + Double.exp($0) + 1 }
        expectClose(gradient, Tensor(expected), relative: 1e-15, absolute: 0, "diamond")
    }

    @Test("The loss itself has gradient 1; an unrelated variable and a constant get zeros")
    func unusedAndConstant() {
        let x = Variable(Tensor<Double>([2]))
        let unused = Variable(Tensor<Double>.ones([2, 2]))
        let constant = Variable.constant(Tensor<Double>([5]))
        let loss = (x * constant).sum()
        #expect(!constant.requiresGradient && loss.requiresGradient)
        let result = gradients(of: loss, withRespectTo: [x, unused, constant, loss])
        #expect(result[0].scalars == [5])
        #expect(result[1] == Tensor.zeros([2, 2]))
        #expect(result[2] == Tensor.zeros([1]))
        #expect(result[3].scalars == [1])
    }

    @Test("A graph built only from constants records no pullbacks")
    func constantsOnly() {
        let a = Variable.constant(Tensor<Double>([1, 2])), b = Variable.constant(Tensor<Double>([3, 4]))
        let product = a * b
        #expect(!product.requiresGradient && product.pullback == nil)
        #expect(product.value.scalars == [3, 8])
    }

    @Test("A chain of 20 000 ops is walked without recursion")
    func deepChain() {
        let x = Variable(Tensor<Double>(1))
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        let gradient = gradients(of: y, withRespectTo: [x])[0]
        expectClose(gradient, Tensor(Double.pow(1.0001, 20_000)), relative: 1e-11, absolute: 0, "deep chain")
    }

    @Test("A shared subexpression is differentiated once and reused")
    func sharedSubexpression() {
        let x = Variable(Tensor<Double>([0.5, 1.5]))
        let shared = x.tanh()
        let loss = (shared * shared + shared).sum()  // d/dx = (2 tanh x + 1)(1 − tanh² x)
        let gradient = gradients(of: loss, withRespectTo: [x])[0]
        let expected = x.value.scalars.map { value -> Double in
            let t = Double.tanh(value)
            return (2 * t + 1) * (1 - t * t)
        }
        expectClose(gradient, Tensor(expected), relative: 1e-14, absolute: 0, "shared subexpression")
    }

    @Test("The gradient check rejects a wrong pullback")
    func gradientCheckCanFail() {
        // y = 3x with a pullback that claims dy/dx = 2.9.
        func wrongTriple(_ x: Variable<Double>) -> Variable<Double> {
            Variable(x.value * 3, parents: [x]) { g in [g * 2.9] }
        }
        let (error, _) = maxGradientError([Tensor([1, 2, 3])]) { wrongTriple($0[0]) }
        #expect(error > 1e-2)
        let (rightError, _) = maxGradientError([Tensor([1, 2, 3])]) { $0[0] * 3 }
        #expect(rightError <= 1e-12)
    }

    @Test("gradients of a loss with more than one element stops, naming the op and shape")
    func nonScalarLossStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Variable(Tensor<Double>([1, 2]))
            _ = gradients(of: x * 2, withRespectTo: [x])
        }
        let message = standardErrorText(result)
        #expect(message.contains("gradients") && message.contains("[2]"), "stderr: \(message)")
    }
}
