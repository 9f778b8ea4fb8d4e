// Image training (ImageTrainer, VisionTransformer): a 200-image subset trains to 100% training
// accuracy (generated blobs always; the real Fashion-MNIST when installed); resume; config checks.
import Foundation
import MeanField
import Testing

private func temporaryRunDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "meanfield-image-\(name)-\(UUID().uuidString)"
    return path
}

private func imageConfig(_ task: String, _ pairs: [(String, String)]) throws -> TrainConfig {
    var config = TrainConfig.imageDefaults(task: task)
    try config.apply(pairs.map { (key: $0.0, text: $0.1) }, source: { "--\($0)" })
    config.threads = 2
    return try config.resolved(defaultThreads: 2)
}

@Test func syntheticSubsetTrainsToFullTrainingAccuracy() throws {
    let config = try imageConfig("synthetic-images", [("subset", "200"), ("epochs", "20"), ("log-every-epochs", "5"), ("checkpoint-every-epochs", "0")])
    var trainer = ImageTrainer(config: config, splits: try ImageTrainer.loadSplits(config))
    trainer.showProgress = false
    trainer.printReport = false
    let path = temporaryRunDirectory("synthetic")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let summary = try trainer.run(directory: path)
    #expect(summary.status == "completed")
    #expect(summary.stepsPerEpoch == 10)   // 200 images in batches of 20
    #expect(summary.finalTrainAccuracy == 1, "train accuracy \(summary.finalTrainAccuracy), loss \(summary.finalTrainLoss)")
    let metrics = try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
    #expect(metrics.count == 5)   // epochs 0, 5, 10, 15, 20
    for key in ["\"epoch\":", "\"t\":", "\"train_loss\":", "\"train_acc\":", "\"test_loss\":", "\"test_acc\":", "\"Q\":"] {
        #expect(metrics.last!.contains(key))
    }
    #expect(metrics.last!.contains("\"grad_norm\":"))
    let confusion = try JSONDecoder().decode(ConfusionMatrix.self, from: Data(contentsOf: URL(fileURLWithPath: path + "/confusion.json")))
    #expect(confusion.counts.joined().reduce(0, +) == 200)
    #expect(abs(confusion.accuracy - summary.finalTestAccuracy) < 1e-12)
}

@Test func fashionMNISTSubsetTrainsToFullTrainingAccuracy() throws {
    guard let splits = try? DatasetLoader.load(.fashionMNIST) else {
        print("skipped: Fashion-MNIST is not installed (apt install dataset-fashion-mnist); the synthetic test covers the loop")
        return
    }
    let config = try imageConfig("fashion-mnist", [("subset", "200"), ("test-subset", "200"), ("patch", "7"), ("token-dim", "16"),
                                                   ("heads", "4"), ("head-dim", "8"), ("ffn-units", "32"), ("layers", "2"),
                                                   ("batch-size", "10"), ("lr", "0.01"), ("schedule", "constant"), ("epochs", "40"), ("log-every-epochs", "40"),
                                                   ("residual-exponent", "1"), ("ordinary-lr-scale", "1"),
                                                   ("checkpoint-every-epochs", "0")])
    var trainer = ImageTrainer(config: config, splits: splits)
    trainer.showProgress = false
    trainer.printReport = false
    let path = temporaryRunDirectory("fashion")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let summary = try trainer.run(directory: path)
    #expect(summary.finalTrainAccuracy == 1, "train accuracy \(summary.finalTrainAccuracy), loss \(summary.finalTrainLoss)")
}

@Test func resumedImageRunEndsWhereAnUninterruptedOneDoes() throws {
    let config = try imageConfig("synthetic-images", [("subset", "100"), ("epochs", "4"), ("checkpoint-every-epochs", "1")])
    let splits = try ImageTrainer.loadSplits(config)
    func trainer() -> ImageTrainer {
        var trainer = ImageTrainer(config: config, splits: splits)
        trainer.showProgress = false
        trainer.printReport = false
        return trainer
    }
    let whole = temporaryRunDirectory("whole"), parts = temporaryRunDirectory("parts")
    defer { try? FileManager.default.removeItem(atPath: whole); try? FileManager.default.removeItem(atPath: parts) }
    var first = trainer()
    let expected = try first.run(directory: whole)
    var interrupted = trainer()
    interrupted.haltAfterStep = 2 * 5   // 100 images in batches of 20: 5 steps per epoch
    _ = try interrupted.run(directory: parts)
    var resumed = trainer()
    let actual = try resumed.run(directory: parts, resume: true)
    #expect(actual.resumedFromStep == 10)
    #expect(actual.finalTrainLoss == expected.finalTrainLoss)
    #expect(actual.meanFieldTime == expected.meanFieldTime)
    let a = try TrainingCheckpoint<Float>.read(path: TrainingCheckpoint<Float>.latest(in: whole + "/checkpoints")!.path)
    let b = try TrainingCheckpoint<Float>.read(path: TrainingCheckpoint<Float>.latest(in: parts + "/checkpoints")!.path)
    #expect(a.parameters == b.parameters)
    #expect(a.parameters.names.first == "embedding.patch.weight")
}

@Test func imageKeysAreCheckedAgainstTheTask() throws {
    var regression = TrainConfig()
    try regression.set("subset", "100", source: "--subset")
    #expect(throws: RunError.self) { try regression.resolved(defaultThreads: 1) }
    #expect(throws: RunError.self) { try imageConfig("fashion-mnist", [("patch", "5")]) }
    #expect(throws: RunError.self) { try imageConfig("fashion-mnist", [("examples", "4")]) }
    var task = TrainConfig()
    try task.set("task", "cifar10", source: "--task")
    #expect(task.task == "cifar-10")
    #expect(throws: RunError.self) { try task.set("task", "imagenet", source: "--task") }
    let vit = try #require(try imageConfig("fashion-mnist", []).visionModel)
    // 7×7 patches of a 28×28 image (the recipe): 16 tokens.
    #expect(vit.tokens == 16 && vit.dimension == 64 && vit.transformer.heads == 8 && vit.transformer.layers == 6)
}
