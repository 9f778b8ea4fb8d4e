/// The tensor type (Tensor/Tensor.swift): construction, row-major indexing, conversion, equality,
/// and its bad-input stops. References: the row-major index formula written out by hand.
import Testing
@testable import MeanFieldCore

@Suite("Tensor")
struct TensorTests {
    @Test("Elements are stored row-major: t[i, j, k] = scalars[(i·J + j)·K + k]")
    func rowMajorIndexing() {
        let t = Tensor<Double>(shape: [2, 3, 4], scalars: (0..<24).map(Double.init))
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(t[i, j, k] == Double((i * 3 + j) * 4 + k)) } } }
        var u = t
        u[1, 2, 3] = -1
        #expect(u.scalars[23] == -1 && t.scalars[23] == 23)  // value semantics: t is untouched
    }

    @Test("Initialisers give the documented shapes and elements")
    func initialisers() {
        #expect(Tensor<Float>(2.5).shape == [] && Tensor<Float>(2.5).scalar == 2.5 && Tensor<Float>(2.5)[] == 2.5)
        #expect(Tensor<Float>([1, 2, 3]).shape == [3])
        #expect(Tensor<Double>.zeros([2, 2]).scalars == [0, 0, 0, 0] && Tensor<Double>.ones([3]).scalars == [1, 1, 1])
        #expect(Tensor<Double>(shape: [2, 0, 3], repeating: 7).count == 0)
        let filled = Tensor<Double>(shape: [2, 2]) { buffer in for i in 0..<buffer.count { buffer[i] = Double(i) } }
        #expect(filled.scalars == [0, 1, 2, 3] && filled.rank == 2 && filled.count == 4)
    }

    @Test("Conversion Double → Float → Double rounds to the nearest Float")
    func conversion() {
        let x = Tensor<Double>(shape: [3], scalars: [0.1, -1e-40, 3])
        let f = x.converted(to: Float.self)
        #expect(f.shape == [3] && f.scalars == [Float(0.1), Float(-1e-40), 3])
        #expect(f.converted(to: Double.self).scalars == [Double(Float(0.1)), Double(Float(-1e-40)), 3])
    }

    @Test("Equality compares shapes and elements")
    func equality() {
        let a = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(a == Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        #expect(a != a.reshaped([4]))
        #expect(a != Tensor(shape: [2, 2], scalars: [1, 2, 3, 5]))
    }

    @Test("The description shows dtype, shape and the first elements")
    func description() {
        #expect(Tensor<Float>([1, 2]).description == "Tensor<f32>[2][1.0, 2.0]")
        #expect(Tensor<Double>.zeros([3, 3]).description.hasPrefix("Tensor<f64>[3, 3][0.0, 0.0"))
        #expect(Tensor<Double>.zeros([3, 3]).description.hasSuffix(", …]"))
    }

    @Test("Scalars that do not fit the shape stop, naming the shape and both counts")
    func countMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3])
        }
        let message = standardErrorText(result)
        #expect(message.contains("Tensor(shape:scalars:)") && message.contains("[2, 3]") && message.contains("6") && message.contains("got 3"),
                "stderr: \(message)")
    }

    @Test("A negative extent stops, naming the shape")
    func negativeExtentStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, -1])
        }
        let message = standardErrorText(result)
        #expect(message.contains("[2, -1]"), "stderr: \(message)")
    }

    @Test("A subscript of the wrong rank or out of range stops, naming index and shape")
    func badSubscriptStops() async {
        let rank = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3])[1]
        }
        let rankMessage = standardErrorText(rank)
        #expect(rankMessage.contains("subscript") && rankMessage.contains("[1]") && rankMessage.contains("[2, 3]"), "stderr: \(rankMessage)")

        let range = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3])[0, 3]
        }
        let rangeMessage = standardErrorText(range)
        #expect(rangeMessage.contains("subscript") && rangeMessage.contains("[0, 3]") && rangeMessage.contains("[2, 3]"), "stderr: \(rangeMessage)")
    }

    @Test("scalar of a tensor with several elements stops, naming the shape")
    func scalarOfManyStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2]).scalar
        }
        let message = standardErrorText(result)
        #expect(message.contains("scalar") && message.contains("[2]"), "stderr: \(message)")
    }
}
