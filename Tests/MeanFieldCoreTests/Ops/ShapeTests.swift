/// Reshape, permute, transpose, slice, concatenate, split (Ops/Shape.swift). References: NumPy
/// (Fixtures/shape.json: reshape, transpose, basic slicing, np.concatenate, np.split) and index
/// identities (permuting by p then by p⁻¹ is the identity; split then concatenate is the identity).
import Testing
@testable import MeanFieldCore

@Suite("Shape ops")
struct ShapeTests {
    @Test("reshape, permute, transpose, slice, concatenate, split match NumPy exactly")
    func valuesMatchNumPy() throws {
        // Pure rearrangements: exact in Double; in Float exact up to the input's own rounding.
        try checkFixtures("shape", tolerance: FixtureTolerance(doubleRelative: 0, doubleAbsolute: 0, floatRelative: 1e-7, floatAbsolute: 0))
    }

    @Test("Permuting by p then by p⁻¹ restores the tensor", arguments: [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]])
    func permutationRoundTrip(_ axes: [Int]) {
        var random = TestRandom(seed: 5)
        let x = random.tensor([2, 3, 1, 4])
        var inverse = [Int](repeating: 0, count: 4)
        for (position, axis) in axes.enumerated() { inverse[axis] = position }
        let permuted = x.permuted(axes)
        #expect(permuted.shape == axes.map { x.shape[$0] })
        #expect(permuted.permuted(inverse) == x)
        // Element rule: permuted[i₀, i₁, i₂, i₃] = x[j] with j[axes[k]] = iₖ.
        for flat in 0..<permuted.count {
            var index = [Int](repeating: 0, count: 4), remainder = flat
            for axis in stride(from: 3, through: 0, by: -1) {
                index[axis] = remainder % permuted.shape[axis]
                remainder /= permuted.shape[axis]
            }
            var source = [Int](repeating: 0, count: 4)
            for (k, axis) in axes.enumerated() { source[axis] = index[k] }
            #expect(permuted.scalars[flat] == x[source[0], source[1], source[2], source[3]])
        }
    }

    @Test("split then concatenate is the identity")
    func splitConcatenateRoundTrip() {
        var random = TestRandom(seed: 6)
        let x = random.tensor([3, 7, 2])
        let pieces = x.split(axis: 1, sizes: [2, 0, 4, 1])
        #expect(pieces.map(\.shape) == [[3, 2, 2], [3, 0, 2], [3, 4, 2], [3, 1, 2]])
        #expect(Tensor.concatenate(pieces, axis: 1) == x)
    }

    @Test("reshape shares elements and infers −1; rank-0 and empty shapes work")
    func reshapeCornerCases() {
        let x = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.reshaped([-1]).scalars == x.scalars)
        #expect(x.reshaped([3, -1]).shape == [3, 2])
        #expect(Tensor<Float>([7]).reshaped([]).shape == [])
        #expect(Tensor<Float>(7).reshaped([1, 1]).shape == [1, 1])
        #expect(Tensor<Float>.zeros([0, 3]).reshaped([3, 0]).shape == [3, 0])
        #expect(Tensor<Float>.zeros([2, 0]).permuted([1, 0]).shape == [0, 2])
    }

    @Test("An impossible reshape stops, naming reshape and both shapes")
    func impossibleReshapeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).reshaped([4, 2])
        }
        let message = standardErrorText(result)
        #expect(message.contains("reshape") && message.contains("[2, 3]") && message.contains("[4, 2]"), "stderr: \(message)")

        let inferred = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).reshaped([4, -1])
        }
        let inferredMessage = standardErrorText(inferred)
        #expect(inferredMessage.contains("reshape") && inferredMessage.contains("[2, 3]") && inferredMessage.contains("[4, -1]"),
                "stderr: \(inferredMessage)")

        let twoInferred = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).reshaped([-1, -1])
        }
        #expect(standardErrorText(twoInferred).contains("reshape"))
    }

    @Test("A non-permutation stops, naming permute, the axes and the shape")
    func badPermutationStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3, 4]).permuted([0, 0, 1])
        }
        let message = standardErrorText(result)
        #expect(message.contains("permute") && message.contains("[0, 0, 1]") && message.contains("[2, 3, 4]"), "stderr: \(message)")
    }

    @Test("transpose of a rank-1 tensor stops, naming transpose and the shape")
    func transposeRankOneStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([5]).transposed()
        }
        let message = standardErrorText(result)
        #expect(message.contains("transpose") && message.contains("[5]"), "stderr: \(message)")
    }

    @Test("A slice out of bounds or on a missing axis stops, naming slice and the shape")
    func badSliceStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).slice(axis: 1, 2..<4)
        }
        let message = standardErrorText(result)
        #expect(message.contains("slice") && message.contains("2..<4") && message.contains("[2, 3]"), "stderr: \(message)")

        let axis = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).slice(axis: 2, 0..<1)
        }
        let axisMessage = standardErrorText(axis)
        #expect(axisMessage.contains("slice") && axisMessage.contains("axis 2") && axisMessage.contains("[2, 3]"), "stderr: \(axisMessage)")
    }

    @Test("concatenate of mismatched shapes stops, naming concatenate and both shapes")
    func concatenateMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.concatenate([Tensor<Float>.zeros([2, 3]), Tensor<Float>.zeros([3, 3])], axis: 1)
        }
        let message = standardErrorText(result)
        #expect(message.contains("concatenate") && message.contains("[2, 3]") && message.contains("[3, 3]"), "stderr: \(message)")

        let rank = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.concatenate([Tensor<Float>.zeros([2, 3]), Tensor<Float>.zeros([3])], axis: 0)
        }
        let rankMessage = standardErrorText(rank)
        #expect(rankMessage.contains("concatenate") && rankMessage.contains("[2, 3]") && rankMessage.contains("[3]"), "stderr: \(rankMessage)")
    }

    @Test("split sizes that do not add up stop, naming split, the sizes and the shape")
    func badSplitStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 5]).split(axis: 1, sizes: [2, 2])
        }
        let message = standardErrorText(result)
        #expect(message.contains("split") && message.contains("[2, 2]") && message.contains("[2, 5]"), "stderr: \(message)")
    }

    @Test("Variable.split with sizes that do not add up stops like Tensor.split")
    func badVariableSplitStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor<Double>.zeros([2, 5])).split(axis: 1, sizes: [2, 2])
        }
        let message = standardErrorText(result)
        #expect(message.contains("split") && message.contains("[2, 2]") && message.contains("[2, 5]"), "stderr: \(message)")
    }
}
