// The one training loop (TrainingRun): cadence flags count steps on every task, epoch variants
// count epochs, every run can checkpoint its initial state, and a resume in the middle of a
// logging window logs the same batch_loss an uninterrupted run does.
import Foundation
import MeanField
import Testing

private func folder(_ name: String) -> String { NSTemporaryDirectory() + "meanfield-run-\(name)-\(UUID().uuidString)" }

private func config(_ task: String, _ pairs: [(String, String)]) throws -> TrainConfig {
    var config = TrainConfig.defaults(task: task, model: .transformer)
    try config.apply(pairs.map { (key: $0.0, text: $0.1) }, source: { "--\($0)" })
    return try config.resolved(defaultThreads: 1)
}

private func loggedSteps(_ path: String) throws -> [Int] {
    try RunFolder.readMetrics(in: path).compactMap { $0["step"].map { Int($0) } }
}

/// 100 synthetic images in batches of 20: 5 steps per epoch.
private let images = [("subset", "100"), ("test-subset", "40"), ("epochs", "3")]

@Test func imageRunsCountLogEveryInStepsAndTheEpochVariantsInEpochs() throws {
    let splits = try ImageTrainer.loadSplits(try config("synthetic-images", images))
    for (pairs, expected) in [([("log-every", "4"), ("log-every-epochs", "0")], [0, 4, 8, 12, 15]),
                              ([("log-every", "0"), ("log-every-epochs", "2")], [0, 10, 15]),
                              ([("log-every", "0"), ("log-every-epochs", "0")], [0, 15])] {
        var run = ImageTrainer(config: try config("synthetic-images", images + pairs + [("checkpoint-every-epochs", "0")]), splits: splits)
        (run.showProgress, run.printReport) = (false, false)
        let path = folder("image-cadence")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let summary = try run.run(directory: path)
        #expect(summary.stepsPerEpoch == 5 && summary.completedSteps == 15)
        #expect(try loggedSteps(path) == expected, "\(pairs)")
        // batch_loss of a line is the mean of the batch losses since the line before.
        let lines = try RunFolder.readMetrics(in: path)
        #expect(lines.first?["batch_loss"] == nil && lines.dropFirst().allSatisfy { $0["batch_loss"]?.isFinite == true })
    }
}

@Test func everyTaskCheckpointsItsInitialState() throws {
    let splits = try ImageTrainer.loadSplits(try config("synthetic-images", images))
    let imagePath = folder("image-initial")
    defer { try? FileManager.default.removeItem(atPath: imagePath) }
    var image = ImageTrainer(config: try config("synthetic-images", images + [("checkpoint-every-epochs", "1")]), splits: splits)
    (image.showProgress, image.printReport) = (false, false)
    _ = try image.run(directory: imagePath)
    #expect(RunFolder.checkpoints(in: imagePath).map(\.step) == [0, 5, 10, 15])
    let initial = try TrainingCheckpoint<Float>.read(path: RunFolder.checkpoints(in: imagePath)[0].path)
    let model = try #require(image.config.imageClassifier(engine: image.config.engine) as (any ImageClassifier<Float>)?)
    #expect(initial.parameters == model.initialParameters(seed: image.config.seed))
    #expect(initial.meanFieldTime == 0 && initial.optimizerUpdates == 0)

    let regressionPath = folder("regression-initial")
    defer { try? FileManager.default.removeItem(atPath: regressionPath) }
    let regressionConfig = try config("icl-regression", [("steps", "6"), ("checkpoint-every", "3")])
    var regression = Trainer(config: regressionConfig, engine: AutodiffEngine<Float>(config: regressionConfig.transformer))
    regression.showProgress = false
    _ = try regression.run(directory: regressionPath)
    #expect(RunFolder.checkpoints(in: regressionPath).map(\.step) == [0, 3, 6])
    let first = try TrainingCheckpoint<Float>.read(path: RunFolder.checkpoints(in: regressionPath)[0].path)
    #expect(first.parameters == regressionConfig.initialParameters() as ParameterStore<Float>)
}

@Test func aResumeInsideALoggingWindowLogsTheUninterruptedBatchLoss() throws {
    // Log every 4 steps, checkpoint every 3: the checkpoint of step 6 lies inside the window 4…8.
    let settings = try config("icl-regression", [("steps", "12"), ("log-every", "4"), ("checkpoint-every", "3"),
                                                 ("train-size", "32"), ("batch-size", "8")])
    func run(_ path: String, resume: Bool = false, haltAfter: Int? = nil) throws {
        var run = Trainer(config: settings, engine: AutodiffEngine<Float>(config: settings.transformer))
        run.showProgress = false
        run.haltAfterStep = haltAfter
        _ = try run.run(directory: path, resume: resume)
    }
    let whole = folder("window-whole"), parts = folder("window-parts")
    defer { for path in [whole, parts] { try? FileManager.default.removeItem(atPath: path) } }
    try run(whole)
    try run(parts, haltAfter: 7)
    try run(parts, resume: true)
    let text = { (path: String) in try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8) }
    #expect(try text(parts) == text(whole))
    #expect(try loggedSteps(whole) == [0, 4, 8, 12])
    #expect(try RunFolder.readMetrics(in: whole).dropFirst().allSatisfy { $0["batch_loss"] != nil })
}
