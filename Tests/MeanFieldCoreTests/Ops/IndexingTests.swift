/// Gather, one-hot, mean squared error and cross-entropy (Ops/Indexing.swift). References: NumPy
/// (Fixtures/indexing.json: np.take, np.eye rows, mean of squares, −mean of log-softmax at the
/// labels) and closed forms (uniform logits give cross-entropy log C).
import Testing
@testable import MeanFieldCore

@Suite("Indexing and losses")
struct IndexingTests {
    @Test("gather, oneHot, meanSquaredError, crossEntropy match NumPy")
    func valuesMatchNumPy() throws {
        try checkFixtures("indexing", tolerance: FixtureTolerance(doubleRelative: 1e-14, doubleAbsolute: 1e-15))
    }

    @Test("Cross-entropy of equal logits is log(classes)")
    func uniformCrossEntropy() {
        let logits = Tensor<Double>(shape: [3, 7], repeating: 0.25)
        #expect(Swift.abs(logits.crossEntropy(labels: [0, 6, 3]).scalar - Double.log(7)) <= 1e-15)
    }

    @Test("scatterAdding is the adjoint of gathering: ⟨gather(x), y⟩ = ⟨x, scatter(y)⟩")
    func scatterIsAdjointOfGather() {
        var random = TestRandom(seed: 9)
        let x = random.tensor([3, 4, 2]), indices = [3, 0, 3, 3, 1]
        let gathered = x.gathering(indices, alongAxis: 1)
        let y = random.tensor(gathered.shape)
        let scattered = y.scatterAdding(indices, alongAxis: 1, into: x.shape)
        let left = zip(gathered.scalars, y.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        let right = zip(x.scalars, scattered.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(Swift.abs(left - right) <= 1e-13)
    }

    @Test("A gather index out of range stops, naming gather, the index and the shape")
    func gatherOutOfRangeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).gathering([0, 3], alongAxis: 1)
        }
        let message = standardErrorText(result)
        #expect(message.contains("gather") && message.contains("index 3") && message.contains("[2, 3]"), "stderr: \(message)")
    }

    @Test("A one-hot label out of range stops, naming oneHot and the label")
    func oneHotOutOfRangeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.oneHot([1, 4], classes: 4)
        }
        let message = standardErrorText(result)
        #expect(message.contains("oneHot") && message.contains("label 4"), "stderr: \(message)")
    }

    @Test("meanSquaredError of different shapes stops, naming both shapes")
    func meanSquaredErrorMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).meanSquaredError(Tensor<Float>.zeros([3, 2]))
        }
        let message = standardErrorText(result)
        #expect(message.contains("meanSquaredError") && message.contains("[2, 3]") && message.contains("[3, 2]"), "stderr: \(message)")

        // Broadcasting would make this silently wrong; the Variable op must refuse it too.
        let variable = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor<Double>.zeros([4, 1])).meanSquaredError(Variable(Tensor<Double>.zeros([4])))
        }
        let variableMessage = standardErrorText(variable)
        #expect(variableMessage.contains("meanSquaredError") && variableMessage.contains("[4, 1]") && variableMessage.contains("[4]"),
                "stderr: \(variableMessage)")
    }

    @Test("crossEntropy with the wrong label count or a label out of range stops")
    func crossEntropyBadLabelsStop() async {
        let count = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([3, 4]).crossEntropy(labels: [0, 1])
        }
        let countMessage = standardErrorText(count)
        #expect(countMessage.contains("crossEntropy") && countMessage.contains("[3, 4]") && countMessage.contains("2 labels"),
                "stderr: \(countMessage)")

        let range = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 4]).crossEntropy(labels: [0, 4])
        }
        let rangeMessage = standardErrorText(range)
        #expect(rangeMessage.contains("crossEntropy") && rangeMessage.contains("label 4"), "stderr: \(rangeMessage)")
    }
}
