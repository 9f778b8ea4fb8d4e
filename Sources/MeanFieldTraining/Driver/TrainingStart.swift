import Foundation
import MeanFieldCore
import MeanFieldModels

/// How a training run begins — fresh parameters in a new run folder, or the latest checkpoint of
/// the run being resumed — for ``TrainingRun``.
struct TrainingStart<Scalar: TensorScalar> {
    var store: ParameterStore<Scalar>
    var optimizer: any Optimizer<Scalar>
    /// The checkpoint resumed from, and its file (nil for a new run).
    var checkpoint: TrainingCheckpoint<Scalar>?
    var checkpointPath: String?

    static func checkpointDirectory(_ path: String) -> String { path + "/checkpoints" }

    /// A new run at `path` from `store`: refuses a folder that already holds checkpoints.
    static func fresh(path: String, config: TrainConfig, store: ParameterStore<Scalar>) throws -> TrainingStart {
        let folder = checkpointDirectory(path)
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: folder), !existing.isEmpty {
            throw RunError("\(path) already holds a run with checkpoints; continue it with --resume \(path) or pass another --out")
        }
        return TrainingStart(store: store, optimizer: config.optimizerSettings.make(for: store))
    }

    /// The run at `path` from its latest checkpoint, which must be this config's run (only the
    /// length and the logging may differ); the optimizer state is restored.
    static func resuming(path: String, config: TrainConfig) throws -> TrainingStart {
        let folder = checkpointDirectory(path)
        guard let latest = TrainingCheckpoint<Scalar>.latest(in: folder) else {
            throw RunError("--resume \(path): no checkpoint in \(folder); start the run anew without --resume")
        }
        let checkpoint = try TrainingCheckpoint<Scalar>.read(path: latest.path)
        try Self.checkResumable(checkpoint.config, as: config, path: latest.path)
        var optimizer = config.optimizerSettings.make(for: checkpoint.parameters)
        try optimizer.restore(state: checkpoint.optimizerState, updates: checkpoint.optimizerUpdates)
        return TrainingStart(store: checkpoint.parameters, optimizer: optimizer, checkpoint: checkpoint, checkpointPath: latest.path)
    }

    /// Writes config.json and the manifest (`manifest.json`, or `resumeManifest` for a resumed run)
    /// into `directory`, and creates its checkpoints folder.
    func prepare(_ directory: RunDirectory, path: String, config: TrainConfig, resumeManifest: String, scalarType: String) throws {
        try directory.writeAtomically("config.json", config.jsonData())
        try directory.writeJSON(checkpoint == nil ? "manifest.json" : resumeManifest, RunManifest.current(seed: config.seed, scalarType: scalarType))
        let folder = Self.checkpointDirectory(path)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create \(folder): \(error.localizedDescription); pass a writable --out")
        }
    }

    /// A resumed run must be the same run: only the length and the logging may change.
    static func checkResumable(_ saved: TrainConfig, as current: TrainConfig, path: String) throws {
        var a = saved, b = current
        a.steps = 0; b.steps = 0; a.epochs = 0; b.epochs = 0; a.threads = nil; b.threads = nil
        a.logEvery = 1; b.logEvery = 1; a.checkpointEvery = 0; b.checkpointEvery = 0
        a.logEveryEpochs = 0; b.logEveryEpochs = 0; a.checkpointEveryEpochs = 0; b.checkpointEveryEpochs = 0
        guard a == b else {
            let differing = TrainConfig.keys.filter { key in
                (try? JSONSerialization.jsonObject(with: a.jsonData()) as? [String: Any])?[key].map { "\($0)" }
                    != (try? JSONSerialization.jsonObject(with: b.jsonData()) as? [String: Any])?[key].map { "\($0)" }
            }
            throw RunError("\(path) was written by a run with another config (\(differing.joined(separator: ", "))); --resume accepts only --steps, --epochs, --threads and the --log-every/--checkpoint-every flags")
        }
    }
}
