// Fixtures/regression-prompts.safetensors: in-context regression prompts as the runs draw them
// (RegressionData: the fixed training set, the evaluation set, mini-batches of a permutation and
// fresh prompts) and teacher-regression points (TeacherRegression), in float32 and float64. This test checks that this build still draws them bit for
// bit; python/tests/test_tasks.py checks that meanfield.tasks regenerates the same bits. Rewrite the
// file (after a deliberate change of the streams) with
//   MEANFIELD_WRITE_FIXTURES=1 swift test --skip-build --filter RegressionPromptFixture
import Foundation
import MeanField
import MeanFieldCore
import Testing

private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/regression-prompts.safetensors").path

/// A data config, the steps whose batches the fixture holds, and its name.
private struct PromptCase: Sendable {
    let name: String
    let seed: UInt64, inputDim: Int, examples: Int, noise: Double, tokenDim: Int?
    let trainSize: Int, batchSize: Int, evalSize: Int
    let steps: [Int]

    var config: TrainConfig {
        var config = TrainConfig()
        (config.seed, config.inputDim, config.examples, config.noise, config.tokenDim) = (seed, inputDim, examples, noise, tokenDim)
        (config.trainSize, config.batchSize, config.evalSize) = (trainSize, batchSize, evalSize)
        return config
    }

    /// The config's keys as config.json spells them (the fixture's metadata, read by the Python test).
    var keys: [String: Any] {
        var keys: [String: Any] = ["seed": seed, "input_dim": inputDim, "examples": examples, "noise": noise,
                                   "train_size": trainSize, "batch_size": batchSize, "eval_size": evalSize]
        if let tokenDim { keys["token_dim"] = tokenDim }
        return keys
    }
}

private let promptCases = [
    // Permutation batches: 10 prompts, batches of 3 → 3 steps per epoch; steps 4 and 7 are in epochs 1 and 2.
    PromptCase(name: "permutation", seed: 3, inputDim: 3, examples: 5, noise: 0.1, tokenDim: 5,
               trainSize: 10, batchSize: 3, evalSize: 4, steps: [0, 4, 7]),
    PromptCase(name: "fresh", seed: 11, inputDim: 2, examples: 4, noise: 0, tokenDim: nil,
               trainSize: 0, batchSize: 3, evalSize: 3, steps: [0, 5]),
    PromptCase(name: "full_batch", seed: 0, inputDim: 3, examples: 8, noise: 0, tokenDim: nil,
               trainSize: 6, batchSize: 0, evalSize: 5, steps: [0]),
]

/// Every tensor of one case in one precision, named `<case>.<f32|f64>.<set>.<tokens|targets>`.
private func prompts<Scalar: TensorScalar>(_ promptCase: PromptCase, as _: Scalar.Type) -> [(String, Tensor<Scalar>)] {
    var data = RegressionData<Scalar>(config: promptCase.config)
    let prefix = "\(promptCase.name).\(Scalar.dtypeName)"
    var sets: [(String, (tokens: Tensor<Scalar>, targets: Tensor<Scalar>))] = [("eval", data.eval)]
    if let train = data.train { sets.append(("train", train)) }
    for step in promptCase.steps { sets.append(("batch\(step)", data.batch(step: step))) }
    return sets.flatMap { [("\(prefix).\($0.0).tokens", $0.1.tokens), ("\(prefix).\($0.0).targets", $0.1.targets)] }
}

/// Teacher-regression points (d = 3, noise 0.1, seed 5): 6 training and 4 evaluation points,
/// named `teacher.<f32|f64>.<train|eval>.<inputs|targets>`.
private func teacherPoints<Scalar: TensorScalar>(as _: Scalar.Type) -> [(String, Tensor<Scalar>)] {
    let teacher = TeacherRegression(inputDimension: 3, noise: 0.1, seed: 5)
    var trainRandom = PhiloxRandom(seed: 5, stream: TeacherRegression.trainStream)
    var evalRandom = PhiloxRandom(seed: 5, stream: TeacherRegression.evalStream)
    let sets: [(String, (inputs: Tensor<Scalar>, targets: Tensor<Scalar>))] =
        [("train", teacher.sample(6, random: &trainRandom)), ("eval", teacher.sample(4, random: &evalRandom))]
    return sets.flatMap { [("teacher.\(Scalar.dtypeName).\($0.0).inputs", $0.1.inputs), ("teacher.\(Scalar.dtypeName).\($0.0).targets", $0.1.targets)] }
}

/// The teacher case in the fixture's metadata (read by the Python test).
private var teacherKeys: [String: Any] { ["config": ["task": "teacher-regression", "seed": 5, "input_dim": 3, "noise": 0.1,
                                                     "train_size": 6, "eval_size": 4]] }

@Test func regressionPromptsMatchTheCommittedFixtureBitForBit() throws {
    if ProcessInfo.processInfo.environment["MEANFIELD_WRITE_FIXTURES"] == "1" {
        var file = SafeTensorsFile()
        for promptCase in promptCases {
            for (name, tensor) in prompts(promptCase, as: Float.self) { file.add(name, tensor) }
            for (name, tensor) in prompts(promptCase, as: Double.self) { file.add(name, tensor) }
        }
        var cases: [String: Any] = [:]
        for promptCase in promptCases { cases[promptCase.name] = ["config": promptCase.keys, "steps": promptCase.steps] }
        for (name, tensor) in teacherPoints(as: Float.self) { file.add(name, tensor) }
        for (name, tensor) in teacherPoints(as: Double.self) { file.add(name, tensor) }
        cases["teacher"] = teacherKeys
        let text = String(decoding: try JSONSerialization.data(withJSONObject: cases, options: [.sortedKeys]), as: UTF8.self)
        file.metadata = ["cases": text, "written_by": "Tests/MeanFieldTests/PythonTwin/RegressionPromptFixtureTests.swift"]
        try file.write(to: fixture)
    }
    let file = try SafeTensorsFile.read(path: fixture)
    var checked = 0
    for promptCase in promptCases {
        for (name, tensor) in prompts(promptCase, as: Float.self) {
            #expect(try file.tensor(name, as: Float.self, file: fixture) == tensor, "\(name) differs from the fixture")
            checked += 1
        }
        for (name, tensor) in prompts(promptCase, as: Double.self) {
            #expect(try file.tensor(name, as: Double.self, file: fixture) == tensor, "\(name) differs from the fixture")
            checked += 1
        }
    }
    for (name, tensor) in teacherPoints(as: Float.self) {
        #expect(try file.tensor(name, as: Float.self, file: fixture) == tensor, "\(name) differs from the fixture")
        checked += 1
    }
    for (name, tensor) in teacherPoints(as: Double.self) {
        #expect(try file.tensor(name, as: Double.self, file: fixture) == tensor, "\(name) differs from the fixture")
        checked += 1
    }
    #expect(checked == file.names.count, "the fixture has \(file.names.count) tensors, the cases \(checked)")
}
