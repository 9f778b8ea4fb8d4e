import Foundation
import MeanFieldModels

/// Before training: will the run's checkpoints fit on the disk of its folder? A run that would fill
/// the disk is refused with the numbers, instead of stopping hours later (it would still stop
/// cleanly then, keeping its last good checkpoint: checkpoints are written to a temporary file and
/// renamed, and a failed write removes the temporary file).
public enum DiskSpaceCheck {
    /// Bytes of one checkpoint of `config`: the parameters and the optimizer's state in Float, plus
    /// the header (names, shapes, the config as JSON) — a 64 KiB allowance.
    public static func checkpointBytes(_ config: TrainConfig) -> Double {
        let parameters = config.parameterCount
        let moments: Double = switch config.optimizer { case .adamw: 2; case .sgd: 1; case .euler: 0 }
        return parameters * (1 + moments) * 4 + 64 * 1024
    }

    /// The checkpoints a run from `start` writes: every `checkpoint-every` steps (epochs for image
    /// tasks) and the last one.
    public static func checkpointCount(_ config: TrainConfig, from start: Int = 0) -> Int {
        let length = config.isImageTask ? config.epochs : config.steps
        let remaining = max(0, length - start)
        return (config.checkpointEvery > 0 ? remaining / config.checkpointEvery : 0) + 1
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
