import Foundation
import MeanFieldCore

/// The outcome of an image-classification run (saved as `summary.json`).
public struct ImageTrainSummary: Codable, Sendable {
    /// "completed", "diverged" (a NaN/Inf stopped it) or "halted" (stopped on request, tests).
    public var status: String
    public var epochs: Int
    public var steps: Int
    public var meanFieldTime: Double
    public var trainImages: Int
    public var testImages: Int
    public var finalTrainLoss: Double
    public var finalTrainAccuracy: Double
    public var finalTestLoss: Double
    public var finalTestAccuracy: Double
    /// Mean wall time of one training step (forward + backward + update) over this session's steps.
    public var secondsPerStep: Double
    /// Mean wall time of the training part of an epoch (without the evaluations).
    public var secondsPerEpoch: Double
    public var resumedFromEpoch: Int?
    public var lastCheckpoint: String?
    public var message: String?
    public var wallSeconds: Double
    /// Peak resident memory of the process (bytes), to compare with ``MemoryEstimate``.
    public var peakMemoryBytes: Double?
}

/// The training loop of `meanfield train --task fashion-mnist|cifar-10|cifar-100|mnist|synthetic-images`:
/// a ``VisionTransformer`` (theory §1.5 C3) or a mean-field ResNet (theory §4–5, flattened images) trained for a number of epochs over a (class-balanced
/// subset of the) training set with any ``Optimizer`` and schedule, in mean-field time t = Σ η_k.
///
/// Each epoch e = 1 … E shuffles the training set (seed, e), runs its batches (the last partial one
/// dropped), then evaluates loss and accuracy on the whole training and test sets (no augmentation)
/// and logs one line of `metrics.jsonl`: epoch, step, t, lr, train_loss, train_acc, test_loss,
/// test_acc, Q, grad_norm (last step's), batch_loss (the epoch's mean minibatch loss), param_norm,
/// epoch_seconds. Epoch 0 is the initial model. Checkpoints (`checkpoints/step-N.safetensors`,
/// atomic) hold θ after an epoch and the optimizer state; `--resume` continues from the last one,
/// re-logging its epoch when the log lacks it (a checkpoint written mid-epoch by SIGINT/SIGTERM resumes from its batch). A NaN/Inf risk or gradient stops the run (summary status "diverged").
/// At the end: `confusion.json` (test set) and a printed confusion matrix.
public struct ImageTrainer {
    public typealias Scalar = Float
    public let config: TrainConfig
    public let splits: DatasetSplits
    public var engine: EngineKind
    public var showProgress = true
    /// Print the per-epoch line and the confusion matrix on standard output.
    public var printReport = true
    /// Stop after this epoch as if the process were killed (tests).
    public var haltAfterEpoch: Int?

    /// `splits`: the full training and test sets; the trainer takes `--subset`/`--test-subset` of them.
    public init(config: TrainConfig, splits: DatasetSplits) {
        self.config = config
        self.splits = splits
        self.engine = config.engine
    }

    /// The training and test sets of `config` (read from disk, or generated for synthetic-images).
    public static func loadSplits(_ config: TrainConfig) throws -> DatasetSplits {
        if config.task == "synthetic-images" { return SyntheticImages.splits(seed: config.seed) }
        guard let name = config.datasetName else { throw RunError("--task \(config.task) is not an image task") }
        return try DatasetLoader.load(name, dataDirectory: config.data)
    }

    public mutating func run(directory path: String, resume: Bool = false) throws -> ImageTrainSummary {
        let started = Date()
        guard var model: any ImageClassifier<Scalar> = config.imageClassifier(engine: engine),
              var evaluator: any ImageClassifier<Scalar> = config.imageClassifier(engine: engine) else {
            throw RunError("--task \(config.task) is not an image task")
        }
        let shape = config.imageShape
        guard splits.train.imageShape == [shape.channels, shape.height, shape.width], splits.train.classCount == shape.classes else {
            throw RunError("\(splits.directory): images are \(splits.train.imageShape) in \(splits.train.classCount) classes; --task \(config.task) expects [\(shape.channels), \(shape.height), \(shape.width)] in \(shape.classes)")
        }
        let train = config.subset > 0 ? try splits.train.classBalancedSubset(size: config.subset, seed: config.seed) : splits.train
        let test = config.testSubset > 0 ? try splits.test.classBalancedSubset(size: config.testSubset, seed: config.seed) : splits.test
        let batchSize = config.batchSize == 0 ? train.count : config.batchSize
        guard batchSize <= train.count else {
            throw RunError("--batch-size \(batchSize) is larger than the \(train.count) training images; use at most \(train.count)")
        }
        let normalization = ChannelNormalization.fitted(to: train)
        let augmentation = config.augment ? Augmentation(cropPadding: shape.height >= 32 ? 4 : 2, horizontalFlip: true) : .none
        let loader = BatchLoader(dataset: train, batchSize: batchSize, shuffle: true, dropLast: true,
                                 normalization: normalization, augmentation: augmentation, seed: config.seed)
        let stepsPerEpoch = loader.batchCount
        let totalSteps = config.epochs * stepsPerEpoch
        var schedule = config.learningRateSchedule
        schedule.totalSteps = totalSteps

        let checkpointDirectory = path + "/checkpoints"
        let gitCommit = MeanFieldVersion.gitCommit()
        var store: ParameterStore<Scalar>
        var optimizer: any Optimizer<Scalar>
        var startEpoch = 0, meanFieldTime = 0.0, initialLoss = Double.nan
        // Batches of epoch startEpoch + 1 already trained (a checkpoint written by SIGINT/SIGTERM mid-epoch).
        var resumeBatch = 0, batchLossSum = 0.0, keepCheckpointEpochLine = false
        var lastCheckpoint: String?
        let begin = resume ? try TrainingStart<Scalar>.resuming(path: path, config: config)
            : try TrainingStart<Scalar>.fresh(path: path, config: config, store: model.initialParameters(seed: config.seed))
        store = begin.store
        optimizer = begin.optimizer
        var keptEpochs = 0
        if let checkpoint = begin.checkpoint, let checkpointPath = begin.checkpointPath {
            startEpoch = checkpoint.step / stepsPerEpoch
            resumeBatch = checkpoint.step % stepsPerEpoch
            if resumeBatch > 0 { batchLossSum = try Self.partialBatchLossSum(checkpoint.randomState, path: checkpointPath) }
            guard startEpoch <= config.epochs else {
                throw RunError("--resume \(path): the run is already at epoch \(startEpoch); give --epochs > \(startEpoch) to continue it")
            }
            (meanFieldTime, initialLoss, lastCheckpoint) = (checkpoint.meanFieldTime, checkpoint.initialRisk, checkpointPath)
            // Keep the lines of the epochs before the checkpoint, and of its own epoch when that line was
            // written before the stop (always for a mid-epoch checkpoint; at an epoch's end when the
            // log has it, whole): it is not evaluated again, so the log equals an uninterrupted run's.
            let existing = String(decoding: FileManager.default.contents(atPath: path + "/metrics.jsonl") ?? Data(), as: UTF8.self)
            let lineOfCheckpointEpoch = existing.split(separator: "\n").contains { $0.hasSuffix("}") && Self.loggedEpoch($0) == startEpoch }
            keepCheckpointEpochLine = resumeBatch > 0 || (lineOfCheckpointEpoch && startEpoch < config.epochs)
            keptEpochs = keepCheckpointEpochLine ? startEpoch + 1 : startEpoch
        }
        let directory = resume ? try RunDirectory(path: path, keepingMetrics: { [keptEpochs] line in Self.loggedEpoch(line).map { $0 < keptEpochs } ?? false })
            : try RunDirectory(path: path)
        try begin.prepare(directory, path: path, config: config, resumeManifest: String(format: "manifest-resume-epoch-%04d.json", startEpoch), scalarType: "f32")

        let penalty = GradientFlow(learningRate: 0, weightDecay: config.weightDecay)
        let trainEvaluation = BatchLoader(dataset: train, batchSize: batchSize, shuffle: false, normalization: normalization, seed: config.seed)
        let testEvaluation = BatchLoader(dataset: test, batchSize: batchSize, shuffle: false, normalization: normalization, seed: config.seed)
        func evaluate(_ loader: BatchLoader, confusion: inout ConfusionMatrix) -> (loss: Double, accuracy: Double) {
            var total = 0.0, correct = 0
            for batch in loader.batches(epoch: 0) {
                let (risk, logits) = evaluator.evaluate(store, images: batch.images, labels: batch.labels)
                total += risk * Double(batch.count)
                let classes = logits.shape[1]
                logits.withUnsafeBufferPointer { values in
                    for (row, label) in batch.labels.enumerated() {
                        var best = 0
                        for c in 1..<classes where values[row * classes + c] > values[row * classes + best] { best = c }
                        if best == label { correct += 1 }
                        confusion.counts[label][best] += 1
                    }
                }
            }
            return (total / Double(loader.dataset.count), Double(correct) / Double(loader.dataset.count))
        }
        var testConfusion = ConfusionMatrix(classNames: test.classNames, set: "test")
        var lastTrain = (loss: Double.nan, accuracy: Double.nan), lastTest = lastTrain
        var stepSeconds = 0.0, sessionSteps = 0, trainingSeconds = 0.0, sessionEpochs = 0
        var lastGradientNorm = Double.nan
        let progress = showProgress ? ProgressLine(total: totalSteps, start: startEpoch * stepsPerEpoch + resumeBatch) : nil

        func summary(_ status: String, epoch: Int, message: String?) -> ImageTrainSummary {
            ImageTrainSummary(status: status, epochs: epoch, steps: epoch * stepsPerEpoch, meanFieldTime: meanFieldTime,
                              trainImages: train.count, testImages: test.count, finalTrainLoss: lastTrain.loss,
                              finalTrainAccuracy: lastTrain.accuracy, finalTestLoss: lastTest.loss, finalTestAccuracy: lastTest.accuracy,
                              secondsPerStep: stepSeconds / Double(max(1, sessionSteps)),
                              secondsPerEpoch: trainingSeconds / Double(max(1, sessionEpochs)),
                              resumedFromEpoch: resume ? startEpoch : nil, lastCheckpoint: lastCheckpoint, message: message,
                              wallSeconds: Date().timeIntervalSince(started), peakMemoryBytes: ProcessSetup.peakMemoryBytes())
        }

        /// Writes θ after `completedBatches` batches of `epoch` with the optimizer state, atomically.
        func saveCheckpoint(epoch: Int, completedBatches: Int) throws {
            let step = (epoch - 1) * stepsPerEpoch + completedBatches
            let state = completedBatches == stepsPerEpoch ? "{\"epoch\":\(epoch)}"
                : String(format: "{\"epoch\":%d,\"batch\":%d,\"batch_loss_sum\":%.17g}", epoch, completedBatches, batchLossSum)
            let file = checkpointDirectory + "/" + TrainingCheckpoint<Scalar>.fileName(step: step)
            try TrainingCheckpoint(config: config, step: step, meanFieldTime: meanFieldTime, parameters: store,
                                   optimizerState: [:], optimizerKind: config.optimizer, optimizerUpdates: optimizer.updates,
                                   initialRisk: initialLoss, randomState: state)
                .write(to: file, optimizerTensors: optimizer.stateTensors, gitCommit: gitCommit)
            lastCheckpoint = file
        }
        /// SIGINT/SIGTERM: the checkpoint is written; record the stop and end the run.
        func interrupted(by signal: Int32, epoch: Int, batches: Int) throws -> Never {
            progress?.finish()
            let message = "stopped by \(StopRequest.name(of: signal)) in epoch \(epoch) after batch \(batches) of \(stepsPerEpoch); "
                + "checkpoint \(lastCheckpoint ?? ""); continue with: meanfield train --resume \(path)"
            try Self.writeSummary(directory, summary("interrupted", epoch: batches == stepsPerEpoch ? epoch : epoch - 1, message: message))
            throw RunInterrupted(signal: signal, message: message)
        }

        let stop = StopRequest()
        for epoch in startEpoch...config.epochs {
            var epochSeconds = 0.0
            if epoch > startEpoch {
                // Train one epoch: θ after epoch − 1 → θ after epoch (from batch `first` when resumed mid-epoch).
                let epochStart = Date()
                let first = epoch == startEpoch + 1 ? resumeBatch : 0
                if first == 0 { batchLossSum = 0 }
                for (offset, batch) in loader.prefetchingBatches(epoch: epoch, from: first).enumerated() {
                    let number = first + offset
                    let step = (epoch - 1) * stepsPerEpoch + number
                    let stepStart = Date()
                    let (risk, gradients) = model.riskAndGradients(store, images: batch.images, labels: batch.labels)
                    let gradientNorm = TrainingMetrics.squaredNorm(gradients).squareRoot()
                    if let bad = Divergence.problem(loss: risk, lossName: "training loss", initialLoss: initialLoss, objective: nil,
                                                    gradients: gradients, store: store) {
                        progress?.finish()
                        let kept = lastCheckpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was written"
                        let message = "epoch \(epoch), step \(step): \(bad) (diverged); \(kept); " + Divergence.hint(learningRate: config.lr, weightDecay: config.weightDecay)
                        try Self.writeSummary(directory, summary("diverged", epoch: epoch - 1, message: message))
                        throw RunError(message)
                    }
                    let rate = schedule.rate(atUpdate: step)
                    optimizer.step(&store, gradients: gradients, learningRate: rate)
                    meanFieldTime += rate
                    stepSeconds += Date().timeIntervalSince(stepStart)
                    sessionSteps += 1
                    lastGradientNorm = gradientNorm
                    batchLossSum += risk
                    progress?.update(completed: step + 1, fields: String(format: "epoch %d  loss=%.4g", epoch, risk))
                    if number + 1 < stepsPerEpoch, let signal = stop.signal {
                        try saveCheckpoint(epoch: epoch, completedBatches: number + 1)
                        try interrupted(by: signal, epoch: epoch, batches: number + 1)
                    }
                }
                epochSeconds = Date().timeIntervalSince(epochStart)
                trainingSeconds += epochSeconds
                sessionEpochs += 1
            }
            let isLast = epoch == config.epochs
            let alreadyLogged = epoch == startEpoch && keepCheckpointEpochLine
            if !alreadyLogged && (epoch % config.logEvery == 0 || isLast || epoch == startEpoch) {
                var trainConfusion = ConfusionMatrix(classNames: train.classNames, set: "train")
                testConfusion = ConfusionMatrix(classNames: test.classNames, set: "test")
                lastTrain = evaluate(trainEvaluation, confusion: &trainConfusion)
                lastTest = evaluate(testEvaluation, confusion: &testConfusion)
                if epoch == 0 { initialLoss = lastTrain.loss }
                var numbers: [String: Double] = [
                    "epoch": Double(epoch), "step": Double(epoch * stepsPerEpoch), "t": meanFieldTime,
                    "lr": schedule.rate(atUpdate: epoch * stepsPerEpoch), "train_loss": lastTrain.loss, "train_acc": lastTrain.accuracy,
                    "test_loss": lastTest.loss, "test_acc": lastTest.accuracy, "Q": penalty.objective(risk: lastTrain.loss, store: store),
                    "param_norm": store.squaredNorm.squareRoot(),
                ]
                if epoch > startEpoch {
                    numbers["grad_norm"] = lastGradientNorm
                    numbers["batch_loss"] = batchLossSum / Double(stepsPerEpoch)
                    numbers["epoch_seconds"] = epochSeconds
                }
                try directory.appendMetricsLine(TrainingMetrics.jsonLine(numbers, lists: [:]))
                if printReport {
                    progress?.finish()
                    print(String(format: "epoch %3d  t=%.4g  train loss %.4g acc %.2f%%  test loss %.4g acc %.2f%%%@", epoch, meanFieldTime,
                                 lastTrain.loss, 100 * lastTrain.accuracy, lastTest.loss, 100 * lastTest.accuracy,
                                 epoch > startEpoch ? String(format: "  (%.1f s)", epochSeconds) : ""))
                }
            }
            let checkpointDue = config.checkpointEvery > 0 && epoch % config.checkpointEvery == 0
            if (checkpointDue || isLast) && epoch > startEpoch {
                try saveCheckpoint(epoch: epoch, completedBatches: stepsPerEpoch)
            }
            if epoch == haltAfterEpoch {
                progress?.finish()
                return summary("halted", epoch: epoch, message: "halted after epoch \(epoch)")
            }
            if epoch > startEpoch, !isLast, let signal = stop.signal {
                if !(checkpointDue || isLast) { try saveCheckpoint(epoch: epoch, completedBatches: stepsPerEpoch) }
                try interrupted(by: signal, epoch: epoch, batches: stepsPerEpoch)
            }
        }
        progress?.finish()
        try directory.writeJSON("confusion.json", testConfusion)
        if printReport {
            print("Confusion matrix (\(test.name) test set, \(test.count) images; rows: true class, columns: predicted):")
            print(testConfusion.table)
        }
        let result = summary("completed", epoch: config.epochs, message: nil)
        try Self.writeSummary(directory, result)
        return result
    }

    /// summary.json; NaN/Inf values are written as the strings "nan", "inf", "-inf".
    static func writeSummary(_ directory: RunDirectory, _ summary: ImageTrainSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try directory.writeAtomically("summary.json", encoder.encode(summary))
    }

    /// The running sum of minibatch losses saved in a mid-epoch checkpoint's random state.
    static func partialBatchLossSum(_ state: String, path: String) throws -> Double {
        // Parsed with Double(_:) (exact for the %.17g it was written with; JSONSerialization may round).
        guard let range = state.range(of: "\"batch_loss_sum\":"),
              let sum = Double(state[range.upperBound...].prefix { !",}".contains($0) }) else {
            throw RunError("\(path): a mid-epoch checkpoint without its batch_loss_sum (metadata rng = \(state)); resume from an earlier checkpoint by moving this one away")
        }
        return sum
    }

    /// The `"epoch"` of a metrics line, or nil.
    static func loggedEpoch(_ line: Substring) -> Int? {
        guard let range = line.range(of: "\"epoch\":") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
