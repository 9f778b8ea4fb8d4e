import Foundation
import MeanFieldCore
import MeanFieldModels

/// How a training run begins — fresh parameters in a new run folder, or the latest checkpoint of
/// the run being resumed — for ``TrainingRun``.
///
/// It holds the run folder's ``RunLock`` (one writer per folder): the driver keeps this value alive
/// until its run ends, and the lock is released when the value goes.
struct TrainingStart<Scalar: TensorScalar> {
    var store: ParameterStore<Scalar>
    var optimizer: any Optimizer<Scalar>
    /// The checkpoint resumed from, and its file (nil for a new run).
    var checkpoint: TrainingCheckpoint<Scalar>?
    var checkpointPath: String?
    /// The run folder's lock, taken before anything in the folder is read or written.
    var lock: RunLock

    static func checkpointDirectory(_ path: String) -> String { path + "/" + RunFormat.checkpointsFolder }

    /// A new run at `path` from `store`: refuses a folder that already holds checkpoints.
    static func fresh(path: String, config: TrainConfig, store: ParameterStore<Scalar>) throws -> TrainingStart {
        let lock = try RunLock.acquire(directory: path, purpose: "meanfield train")
        let folder = checkpointDirectory(path)
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: folder), !existing.isEmpty {
            throw RunError("\(path) already holds a run with checkpoints; continue it with --resume \(path) or pass another --out")
        }
        return TrainingStart(store: store, optimizer: config.optimizerSettings.make(for: store), lock: lock)
    }

    /// The run at `path` from its newest checkpoint that verifies and agrees with the metrics log
    /// (``TrainingCheckpoint/newestVerified(in:metricsLog:)``; the checkpoints skipped are named in
    /// warnings on stderr), which must be this config's run (only the length and the logging may
    /// differ); the optimizer state is restored. Nothing in the folder is rewritten before this returns.
    static func resuming(path: String, config: TrainConfig) throws -> TrainingStart {
        let lock = try RunLock.acquire(directory: path, purpose: "meanfield train --resume", creatingDirectory: false)
        let folder = checkpointDirectory(path)
        guard TrainingCheckpoint<Scalar>.latest(in: folder) != nil else {
            throw RunError("--resume \(path): no checkpoint in \(folder); start the run anew without --resume")
        }
        let (checkpoint, checkpointPath, warnings) = try TrainingCheckpoint<Scalar>.newestVerified(in: folder, metricsLog: path + "/" + RunFormat.metricsFile)
        for warning in warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        try TrainConfig.checkResumable(checkpoint.config, as: config, path: checkpointPath)
        var optimizer = config.optimizerSettings.make(for: checkpoint.parameters)
        try optimizer.restore(state: checkpoint.optimizerState, updates: checkpoint.optimizerUpdates)
        return TrainingStart(store: checkpoint.parameters, optimizer: optimizer, checkpoint: checkpoint, checkpointPath: checkpointPath, lock: lock)
    }

    /// Writes the config and the manifest (the first session's, or a resumed session's of step
    /// `start`) into `directory` and creates its checkpoints folder, whose path it returns.
    func prepare(_ directory: RunDirectory, config: TrainConfig, start: Int, scalarType: String) throws -> String {
        try directory.writeConfig(config)
        try directory.writeManifest(RunManifest.current(seed: config.seed, scalarType: scalarType), resumedFromStep: checkpoint == nil ? nil : start)
        return try directory.checkpointsFolder()
    }
}
