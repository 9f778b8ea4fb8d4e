import Foundation
import MeanFieldModels

/// Before training: will the run's checkpoints fit on the disk of its folder? A run that would fill
/// the disk is refused with the numbers, instead of stopping hours later (it would still stop
/// cleanly then, keeping its last good checkpoint: checkpoints are written to a temporary file and
/// renamed, and a failed write removes the temporary file).
public enum DiskSpaceCheck {
    /// Bytes of one checkpoint of `config`: the parameters and the optimizer's state in the run's
    /// precision (4 or 8 bytes a scalar), plus
    /// the header (names, shapes, the config as JSON) — a 64 KiB allowance.
    public static func checkpointBytes(_ config: TrainConfig) -> Double {
        let parameters = config.parameterCount
        let moments: Double = switch config.optimizer { case .adamw: 2; case .sgd: 1; case .euler: 0 }
        return parameters * (1 + moments) * Double(config.precision.byteSize) + 64 * 1024
    }

    /// The checkpoints a run from step `start` writes: every `checkpoint-every` steps, every
    /// `checkpoint-every-epochs` epochs, and the last one. `stepsPerEpoch` nil: the config's own
    /// (regression), or for image tasks an estimate from the subset or the dataset's size.
    public static func checkpointCount(_ config: TrainConfig, from start: Int = 0, stepsPerEpoch: Int? = nil) -> Int {
        let perEpoch = max(1, stepsPerEpoch ?? estimatedStepsPerEpoch(config))
        let length = config.isImageTask ? TrainBound.count.product(config.epochs, perEpoch) ?? TrainBound.count.value : config.steps
        let remaining = max(0, length - start)
        let bySteps = config.checkpointEvery > 0 ? remaining / config.checkpointEvery : 0
        let epochPeriod = TrainBound.count.product(config.checkpointEveryEpochs, perEpoch)
        let byEpochs = config.checkpointEveryEpochs > 0 && config.hasEpochs ? epochPeriod.map { remaining / $0 } ?? 0 : 0
        return bySteps + byEpochs + 1
    }

    /// Steps per epoch of `config`: the regression training set's, or for an image task the subset
    /// (or the dataset's training images) over the batch size.
    static func estimatedStepsPerEpoch(_ config: TrainConfig) -> Int {
        guard config.isImageTask else { return config.stepsPerEpoch }
        let known = ["fashion-mnist": 60_000, "mnist": 60_000, "cifar-10": 50_000, "cifar-100": 50_000, "synthetic-images": 1000]
        let images = config.subset > 0 ? config.subset : known[config.task] ?? 60_000
        return max(1, images / max(1, config.batchSize == 0 ? images : config.batchSize))
    }

    /// Free bytes on the file system that holds `path` (or its nearest existing parent folder).
    public static func freeBytes(at path: String) -> Double? {
        var folder = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: folder.path) && folder.path != "/" { folder.deleteLastPathComponent() }
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: folder.path)
        return (attributes?[.systemFreeSize] as? NSNumber)?.doubleValue
    }

    /// Throws a one-line error when the run's checkpoints will not fit in the free space of `path`.
    public static func check(_ config: TrainConfig, directory path: String) throws {
        guard let free = freeBytes(at: path) else { return }
        let count = checkpointCount(config), size = checkpointBytes(config)
        let needed = Double(count) * size + 1024 * 1024  // + metrics and the run's small files
        guard needed <= free else {
            throw RunError("\(path): the run writes \(count) checkpoint\(count == 1 ? "" : "s") of about \(MemoryEstimate.format(size)) "
                           + "(\(MemoryEstimate.format(needed)) in all) but the disk has \(MemoryEstimate.format(free)) free; "
                           + "free some space, raise --checkpoint-every, or pass another --out")
        }
    }
}
