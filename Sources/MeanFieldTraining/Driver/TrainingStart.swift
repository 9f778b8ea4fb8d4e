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
    /// The run folder's lock, taken before anything in the folder is read or written; nil on the
    /// ranks of a data-parallel run other than rank 0, which write nothing.
    var lock: RunLock?
    /// The scaling rules the run trains with (``TrainConfig/scalingRules``): this build's for a new
    /// run, the checkpoint's for a resumed one (so that a run keeps the scales it started with).
    var scalingRules: Parametrization

    static func checkpointDirectory(_ path: String) -> String { path + "/" + RunFormat.checkpointsFolder }

    /// A new run at `path` from `store`: refuses a folder that already holds checkpoints (the ones a
    /// resume would read, the test a sweep makes before starting a run anew). The temporaries of a
    /// writer killed mid-checkpoint (`.step-….safetensors.tmp-PID`) are removed: the lock says no
    /// writer is alive, and a sweep that saw no checkpoint must be able to start the run (CI failure
    /// of stop 20: a SIGKILL during the first checkpoint left one, the rerun's fresh start refused).
    static func fresh(path: String, config: TrainConfig, store: ParameterStore<Scalar>) throws -> TrainingStart {
        let lock = try RunLock.acquire(directory: path, purpose: "meanfield train")
        let folder = checkpointDirectory(path)
        if !TrainingCheckpoint<Scalar>.all(in: folder).isEmpty {
            throw RunError("\(path) already holds a run with checkpoints; continue it with --resume \(path) or pass another --out")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where SafeTensorsFile.isTemporaryName(name) {
            unlink(folder + "/" + name)
        }
        return TrainingStart(store: store, optimizer: config.optimizerSettings.make(for: store), lock: lock, scalingRules: config.scalingRules)
    }

    /// A rank other than 0 of a fresh data-parallel run: θ₀ (the same seed gives the same θ₀ on every
    /// rank), no lock, nothing read or written.
    static func follower(config: TrainConfig, store: ParameterStore<Scalar>) -> TrainingStart {
        TrainingStart(store: store, optimizer: config.optimizerSettings.make(for: store), lock: nil, scalingRules: config.scalingRules)
    }

    /// The run at `path` from its newest checkpoint that verifies and agrees with the metrics log
    /// (``TrainingCheckpoint/newestVerified(in:metricsLog:)``; the checkpoints skipped are named in
    /// warnings on stderr), which must be this config's run (only the length and the logging may
    /// differ); the optimizer state is restored. Nothing in the folder is rewritten before this returns.
    /// `locking` false: a rank other than 0 of a data-parallel run, which reads the checkpoint rank 0 holds the lock for.
    static func resuming(path: String, config: TrainConfig, locking: Bool = true) throws -> TrainingStart {
        let lock = locking ? try RunLock.acquire(directory: path, purpose: "meanfield train --resume", creatingDirectory: false) : nil
        let folder = checkpointDirectory(path)
        guard TrainingCheckpoint<Scalar>.latest(in: folder) != nil else {
            throw RunError("--resume \(path): no checkpoint in \(folder); start the run anew without --resume")
        }
        let (checkpoint, checkpointPath, warnings) = try TrainingCheckpoint<Scalar>.newestVerified(in: folder, metricsLog: path + "/" + RunFormat.metricsFile)
        for warning in warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        try TrainConfig.checkResumable(checkpoint.config, as: config, path: checkpointPath)
        // The checkpoint's parametrization (legacy for one written before it was recorded), not this build's.
        var settings = config.optimizerSettings
        settings.parametrization = checkpoint.config.parametrization
        var optimizer = settings.make(for: checkpoint.parameters)
        try optimizer.restore(state: checkpoint.optimizerState, updates: checkpoint.optimizerUpdates)
        return TrainingStart(store: checkpoint.parameters, optimizer: optimizer, checkpoint: checkpoint, checkpointPath: checkpointPath, lock: lock,
                             scalingRules: checkpoint.config.scalingRules)
    }

    /// This start cut to a rank's share of the particles (particle-parallel training): its heads and
    /// units of θ and of the optimizer state; replicated tensors whole. The lock stays with the value.
    func cut(to share: ParticleShare, config: TrainConfig) throws -> TrainingStart {
        var result = self
        result.store = share.local(store)
        var settings = config.optimizerSettings
        settings.parametrization = checkpoint?.config.parametrization ?? settings.parametrization
        result.optimizer = settings.make(for: result.store)
        let state = Dictionary(uniqueKeysWithValues: optimizer.stateTensors.map { ($0.name, share.local($0.name, $0.tensor)) })
        try result.optimizer.restore(state: state, updates: optimizer.updates)
        return result
    }

    /// Writes the config and the manifest (the first session's, or a resumed session's of step
    /// `start`) into `directory` and creates its checkpoints folder, whose path it returns. `ranks`:
    /// the processes of a data-parallel run (recorded in the manifest), nil for one process.
    func prepare(_ directory: RunDirectory, config: TrainConfig, start: Int, scalarType: String, ranks: Int? = nil) throws -> String {
        try directory.writeConfig(config)
        var manifest = RunManifest.current(seed: config.seed, scalarType: scalarType)
        if let ranks { (manifest.distributed, manifest.ranks) = (config.distributed.rawValue, ranks) }
        try directory.writeManifest(manifest, resumedFromStep: checkpoint == nil ? nil : start)
        return try directory.checkpointsFolder()
    }
}
