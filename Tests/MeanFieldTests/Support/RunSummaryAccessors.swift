import MeanField

/// The summary numbers the tests read, by the names of the metrics they are (docs/run-format.md).
extension RunSummary {
    var initialTrainRisk: Double { initial["R"] ?? .nan }
    var finalTrainRisk: Double { final["R"] ?? .nan }
    var finalEvalRisk: Double { final["eval_R"] ?? .nan }
    var finalObjective: Double { final["Q"] ?? .nan }
    var finalTrainLoss: Double { final["train_loss"] ?? .nan }
    var finalTrainAccuracy: Double { final["train_acc"] ?? .nan }
    var finalTestLoss: Double { final["test_loss"] ?? .nan }
    var finalTestAccuracy: Double { final["test_acc"] ?? .nan }
}
