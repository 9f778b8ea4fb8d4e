import Foundation
import MeanFieldCore
import MeanFieldModels
import MeanFieldProvenance

/// A training checkpoint: parameters, optimizer state and everything needed to continue the run
/// bit for bit, in one safetensors file (``SafeTensorsFile``) that NumPy and PyTorch users can read.
///
/// Tensors: every parameter under its store name (`layer0.attention.keyQuery`, …), then the
/// optimizer state (`optimizer.velocity.<name>`, `optimizer.adam_m.<name>`, `optimizer.adam_v.<name>`).
/// `__metadata__` (all strings): `format`, `config` (the resolved ``TrainConfig`` as JSON), `step`,
/// `t` (mean-field time), `optimizer`, `optimizer_updates`, `initial_R`, `rng` (the Philox
/// positions, JSON), `flow_scales` (JSON), `parametrization` (``Parametrization/jsonText``: the
/// flow-scale rule, the decay's placement, the clock and the head scaling the run trains with; a
/// checkpoint without it was written before it was recorded and is read as
/// ``Parametrization/legacy``, its config's ``TrainConfig/scalingRules``), `scalar`, `meanfield_version`, `git_commit` and
/// `source_tree_modified` (the build's, ``BuildProvenance``), and `content_sha256` (``SafeTensorsFile/contentHashKey``: SHA-256 of the tensors and the other metadata,
/// verified on every read; checkpoints written before it existed have none and load unverified).
/// A resume starts from ``newestVerified(in:metricsLog:)``.
public struct TrainingCheckpoint<Scalar: TensorScalar> {
    public static var formatName: String { "meanfield.checkpoint.v1" }

    /// The resolved config; its ``TrainConfig/parametrization`` is the one the run trains with (from
    /// the `parametrization` metadata when read).
    public var config: TrainConfig
    /// Steps (updates) taken: the parameters are θ_step.
    public var step: Int
    /// Mean-field time t = Σ_{k<step} η_k.
    public var meanFieldTime: Double
    public var parameters: ParameterStore<Scalar>
    public var optimizerState: [String: Tensor<Scalar>]
    public var optimizerKind: OptimizerKind
    public var optimizerUpdates: Int
    /// Training risk at step 0 (for the summary of a resumed run).
    public var initialRisk: Double
    /// Where each Philox stream stands (informational: every draw is a pure function of seed,
    /// stream and position, see ``RegressionData``).
    public var randomState: String

    public init(config: TrainConfig, step: Int, meanFieldTime: Double, parameters: ParameterStore<Scalar>,
                optimizerState: [String: Tensor<Scalar>], optimizerKind: OptimizerKind, optimizerUpdates: Int,
                initialRisk: Double, randomState: String) {
        self.config = config
        self.step = step
        self.meanFieldTime = meanFieldTime
        self.parameters = parameters
        self.optimizerState = optimizerState
        self.optimizerKind = optimizerKind
        self.optimizerUpdates = optimizerUpdates
        self.initialRisk = initialRisk
        self.randomState = randomState
    }

    /// The file name of the checkpoint after `step` steps.
    public static func fileName(step: Int) -> String { String(format: "step-%08d.safetensors", step) }

    /// Writes the checkpoint atomically and durably to `path` (``SafeTensorsFile/write(to:)``: fsync of
    /// the file, rename, fsync of the folder), with its content hash in the metadata: once this returns,
    /// the checkpoint counts.
    public func write(to path: String, optimizerTensors: [(name: String, tensor: Tensor<Scalar>)]) throws {
        var file = SafeTensorsFile()
        for name in parameters.names { file.add(name, parameters[name]) }
        for (name, tensor) in optimizerTensors { file.add(name, tensor) }
        let scales = parameters.names.map { "\"\($0)\":\(parameters.flowScales[$0]!)" }.joined(separator: ",")
        file.metadata = [
            "format": Self.formatName,
            "config": String(decoding: try config.jsonData(), as: UTF8.self),
            "step": String(step),
            "t": "\(meanFieldTime)",
            "optimizer": optimizerKind.rawValue,
            "optimizer_updates": String(optimizerUpdates),
            "initial_R": "\(initialRisk)",
            "rng": randomState,
            "flow_scales": "{" + scales + "}",
            "parametrization": config.parametrization.jsonText,
            "scalar": Precision(Scalar.self).scalarName,
            "meanfield_version": MeanFieldVersion.current,
            "git_commit": BuildProvenance.commit,
            "source_tree_modified": BuildProvenance.treeModified.map { String($0) } ?? "unknown",
        ]
        file.sealContentHash()
        try file.write(to: path)
    }

    /// Why a checkpoint cannot be used: `damaged` (corrupt, truncated, empty, or its metadata
    /// contradicts itself, its tensors or the metrics log: an older checkpoint may do) or
    /// `incompatible` (another format version or scalar type, a log two runs wrote: no checkpoint
    /// of this folder will do). The message is one line that names the file and the problem.
    enum Defect: Error {
        case damaged(String)
        case incompatible(String)
    }

    /// Reads a checkpoint and verifies it (``verifiedRead(path:)``); every problem is one line naming
    /// the file, what is wrong and what to do.
    ///
    /// Checks, in order: the safetensors structure; the content hash (``SafeTensorsFile/contentHashKey``;
    /// a checkpoint written before the hash existed has none and is accepted without it); the metadata
    /// against itself and the file (``checkMetadata``); every parameter of the config's model present
    /// with its shape, and the optimizer's state tensors present with the same shapes.
    public static func read(path: String) throws -> TrainingCheckpoint<Scalar> {
        do {
            return try verifiedRead(path: path)
        } catch let Defect.damaged(message) {
            throw RunError(message + "; " + remedy(for: path))
        } catch let Defect.incompatible(message) {
            throw RunError(message)
        }
    }

    /// ``read(path:)`` with the failure kind kept (``Defect``) and no remedy appended.
    static func verifiedRead(path: String) throws(Defect) -> TrainingCheckpoint<Scalar> {
        var file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(path: path) } catch { throw .damaged("\(error)") }
        // Unoptimised: Swift 6.3.1's FunctionSignatureOpts crashes on this nested generic function with a
        // typed throw in release builds (assertion `!type.hasTypeParameter()` in SILArgument).
        @_optimize(none)
        func meta(_ key: String) throws(Defect) -> String {
            guard let value = file.metadata[key] else { throw .damaged("\(path): not a MeanField checkpoint (no '\(key)' in __metadata__)") }
            return value
        }
        let format = try meta("format")
        guard format == formatName else { throw .incompatible("\(path): checkpoint format '\(format)', this build reads \(formatName)") }
        // The scalar type: the `scalar` metadata (or the tensors' dtype) against the reader's, then the checkpoint's own config.
        let wanted = SafeTensorsDType.of(Scalar.self), precision = Precision(Scalar.self)
        let filePrecision = file.metadata["scalar"].flatMap(Precision.init(scalarName:))
            ?? file.entries.first.map { $0.dtype == .F32 ? Precision.float32 : .float64 }
        if let filePrecision, filePrecision != precision {
            throw .incompatible("\(path): a --precision \(filePrecision.rawValue) checkpoint (\(filePrecision.scalarName) tensors), read as --precision "
                                + "\(precision.rawValue); --precision cannot change on --resume (start a new run to change it)")
        }
        if let other = file.entries.first(where: { $0.dtype != wanted }) {
            throw .incompatible("\(path): tensor '\(other.name)' is \(other.dtype.rawValue), this run uses \(wanted.rawValue)")
        }
        var config: TrainConfig
        do { config = try TrainConfig.fromJSON(Data(try meta("config").utf8), name: path + " (config)") } catch let defect as Defect {
            throw defect
        } catch { throw .damaged("\(error)") }
        guard config.precision == precision else {
            throw .damaged("\(path): its config says --precision \(config.precision.rawValue) but its tensors are \(precision.scalarName) (corrupt checkpoint)")
        }
        // The scales the run trained with: recorded, or the legacy ones before they were recorded.
        if let text = file.metadata["parametrization"] {
            guard let recorded = Parametrization(jsonText: text) else {
                throw .incompatible("\(path): parametrization \(text) in __metadata__ is not one this build knows; use the build that wrote it")
            }
            guard recorded.headScaling == config.headScaling else {
                throw .damaged("\(path): __metadata__ says head scaling \(recorded.headScaling.rawValue) but its config says \(config.headScaling.rawValue) (corrupt checkpoint)")
            }
            config.parametrization = recorded
        } else {
            config.scalingRules = .legacy
        }
        guard let step = Int(try meta("step")), let time = Double(try meta("t")),
              let kind = OptimizerKind(rawValue: try meta("optimizer")), let updates = Int(try meta("optimizer_updates")),
              let initialRisk = Double(try meta("initial_R")) else {
            throw .damaged("\(path): unreadable step, t, optimizer or initial_R in __metadata__")
        }
        let randomState = file.metadata["rng"] ?? ""
        if let problem = checkMetadata(step: step, fileStep: stepInFileName(path), meanFieldTime: time, optimizerKind: kind,
                                       optimizerUpdates: updates, randomState: randomState, config: config) {
            throw .damaged("\(path): \(problem) (corrupt checkpoint)")
        }
        // The config comes from the file: check its model's size against the values the file holds
        // before building a template of that size (a corrupt config must not allocate a huge model).
        let declared = config.parameterCount
        let held = file.entries.reduce(0.0) { $0 + Double($1.byteCount / $1.dtype.size) }
        guard declared <= held else {
            throw .damaged("\(path): its config declares a model of \(Int(min(declared, 1e18))) parameters but the file holds \(Int(held)) values (corrupt checkpoint)")
        }
        let template: ParameterStore<Scalar> = config.initialParameters()
        var parameters = template
        var state: [String: Tensor<Scalar>] = [:]
        do {
            for name in template.names {
                // Each entry is released once its tensor is built: the values are held once.
                let tensor: Tensor<Scalar> = try file.takeTensor(name, file: path)
                guard tensor.shape == template[name].shape else {
                    throw RunError("\(path): parameter '\(name)' has shape \(tensor.shape), the config's model needs \(template[name].shape)")
                }
                parameters[name] = tensor
            }
            for name in file.names where name.hasPrefix("optimizer.") { state[name] = try file.takeTensor(name, file: path) }
        } catch { throw .damaged("\(error)") }
        // The optimizer's state tensors have their parameter's shape (a missing one is reported by
        // the optimizer's restore, which knows which it needs).
        for slot in ["velocity", "adam_m", "adam_v"] {
            for name in template.names {
                let key = "optimizer.\(slot).\(name)"
                if let tensor = state[key], tensor.shape != template[name].shape {
                    throw .damaged("\(path): optimizer state '\(key)' has shape \(tensor.shape), parameter '\(name)' has \(template[name].shape)")
                }
            }
        }
        return TrainingCheckpoint(config: config, step: step, meanFieldTime: time, parameters: parameters, optimizerState: state,
                                  optimizerKind: kind, optimizerUpdates: updates, initialRisk: initialRisk, randomState: randomState)
    }

    /// What is wrong with a checkpoint's metadata, or nil. The rules every writer keeps:
    /// - `step` ≥ 0, and equal to the step in the file name (`step-NNNNNNNN.safetensors`);
    /// - `optimizer_updates` == `step`: each step is one optimizer update, for every optimizer
    ///   (``Optimizer/updates`` counts `step(_:gradients:learningRate:)` calls, and the training loop
    ///   calls it once per step; the checkpoint of step k holds θ_k after k updates);
    /// - `optimizer` is the config's optimizer;
    /// - `t` (mean-field time Σ_{i<k} η_i) is finite and ≥ 0, and 0 at step 0;
    /// - `rng` is empty (old checkpoints) or a JSON object whose positions agree with `step`: its `seed`
    ///   is the config's; a fresh-prompt stream is `freshStreamBase + step`; an `epoch` and a batch
    ///   within it (`batch_in_epoch`, or `batch` for a checkpoint written inside an image epoch, whose
    ///   `epoch` is then the one under way) come from one whole number of steps per epoch.
    static func checkMetadata(step: Int, fileStep: Int?, meanFieldTime: Double, optimizerKind: OptimizerKind, optimizerUpdates: Int,
                              randomState: String, config: TrainConfig) -> String? {
        guard step >= 0 else { return "step \(step) in __metadata__ is negative" }
        if let fileStep, fileStep != step { return "__metadata__ says step \(step) but the file name says step \(fileStep)" }
        guard optimizerUpdates == step else {
            return "__metadata__ says step \(step) but optimizer_updates \(optimizerUpdates) (a checkpoint of step k holds k updates)"
        }
        guard optimizerKind == config.optimizer else {
            return "__metadata__ says optimizer \(optimizerKind.rawValue) but its config trains with \(config.optimizer.rawValue)"
        }
        guard meanFieldTime.isFinite, meanFieldTime >= 0, step > 0 || meanFieldTime == 0 else {
            return "mean-field time t = \(meanFieldTime) at step \(step) (t must be finite, ≥ 0, and 0 at step 0)"
        }
        guard !randomState.isEmpty else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(randomState.utf8)), let outer = object as? [String: Any] else {
            return "rng in __metadata__ is not a JSON object"
        }
        // The run driver's state (the batch-loss window of the steps since the last metrics line)
        // wraps the task's random state under "task"; older checkpoints hold the task's state alone.
        let rng = (outer["task"] as? [String: Any]) ?? outer
        if let steps = outer["batch_loss_steps"] {
            guard let count = (steps as? NSNumber)?.intValue, count >= 0, count <= step else {
                return "rng batch_loss_steps \(steps) is not a count of steps before step \(step)"
            }
        }
        // The seed is compared as written (a UInt64 may not survive a trip through Double).
        if rng["seed"] != nil {
            guard let range = randomState.range(of: "\"seed\":"), UInt64(randomState[range.upperBound...].prefix { $0.isNumber }) == config.seed else {
                return "rng seed does not match the config's seed \(config.seed)"
            }
        }
        func integer(_ value: Any?) -> Int? {
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 0x1p62 else { return nil }
            return number.intValue
        }
        /// step = fullEpochs · (steps per epoch) + batch for a whole number of steps per epoch > batch.
        func position(fullEpochs: Int?, batch: Int?, what: String) -> String? {
            guard let fullEpochs, let batch, fullEpochs >= 0, batch >= 0 else { return "rng \(what) is not a pair of non-negative integers" }
            let consistent = fullEpochs == 0 ? batch == step
                : step - batch >= fullEpochs && (step - batch) % fullEpochs == 0 && batch < (step - batch) / fullEpochs
            return consistent ? nil : "rng \(what) (\(fullEpochs) whole epochs and \(batch) batches) cannot be step \(step)"
        }
        if let next = rng["next_batch"] as? [String: Any] {
            let stream = integer(next["stream"])
            switch next["kind"] as? String {
            case "fresh":
                guard let stream, stream - Int(RegressionData<Scalar>.freshStreamBase) == step else {
                    return "rng next_batch stream \(stream.map(String.init) ?? "?") is not the fresh-prompt stream of step \(step)"
                }
            case "permutation":
                let epoch = integer(next["epoch"])
                guard let stream, let epoch, stream - Int(RegressionData<Scalar>.orderStreamBase) == epoch else {
                    return "rng next_batch stream is not the permutation stream of its epoch"
                }
                if let problem = position(fullEpochs: epoch, batch: integer(next["batch_in_epoch"]), what: "next_batch epoch/batch_in_epoch") { return problem }
            default: break
            }
        } else if rng["epoch"] != nil {
            let epoch = integer(rng["epoch"])
            if rng["batch_in_epoch"] != nil {
                if let problem = position(fullEpochs: epoch, batch: integer(rng["batch_in_epoch"]), what: "epoch/batch_in_epoch") { return problem }
            } else if rng["batch"] != nil {
                guard let batch = integer(rng["batch"]), batch > 0 else { return "rng batch of a mid-epoch checkpoint is not a positive integer" }
                if let problem = position(fullEpochs: epoch.map { $0 - 1 }, batch: batch, what: "epoch/batch") { return problem }
            } else if let problem = position(fullEpochs: epoch, batch: 0, what: "epoch") {
                return problem
            }
        }
        return nil
    }

    /// The step in a file name `step-NNNNNNNN.safetensors`, or nil for another name.
    static func stepInFileName(_ path: String) -> Int? {
        let name = Substring(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        guard name.hasPrefix("step-"), name.hasSuffix(".safetensors") else { return nil }
        let digits = name.dropFirst(5).dropLast(12)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// What to do about a damaged checkpoint at `path`: remove it and resume from the one before.
    static func remedy(for path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        guard let step = stepInFileName(path) else { return "resume from another checkpoint" }
        if let previous = all(in: folder).last(where: { $0.step < step }) {
            return "remove it to resume from \((previous.path as NSString).lastPathComponent)"
        }
        return "no earlier checkpoint in \(folder): remove it and start the run anew"
    }

    /// The newest checkpoint in `folder` that verifies (``read(path:)``) and, when `metricsLog` is
    /// given, agrees with the run's metrics log (``checkAgainstMetrics(_:checkpoint:)``): a resume
    /// starts from it. Walks the checkpoints newest → oldest; each one skipped (truncated, empty,
    /// corrupt, inconsistent, ahead of the log) gives a warning naming it, its problem and the
    /// checkpoint chosen instead. Throws (one line) when the folder holds no checkpoint, when none
    /// verifies, or at the first incompatible one (another format or scalar type: no older one
    /// would do either), or when the log itself is inconsistent.
    public static func newestVerified(in folder: String, metricsLog: String? = nil) throws -> (checkpoint: TrainingCheckpoint<Scalar>, path: String, warnings: [String]) {
        let candidates = all(in: folder)
        guard !candidates.isEmpty else { throw RunError("\(folder): no checkpoint (step-NNNNNNNN.safetensors) in the folder") }
        let log: MetricsLog?
        do { log = try metricsLog.map { try MetricsLog(path: $0) } } catch let Defect.incompatible(message) {
            throw RunError(message)
        }
        var skipped: [String] = []
        for candidate in candidates.reversed() {
            do {
                let checkpoint = try verifiedRead(path: candidate.path)
                if let log, let problem = checkpoint.metricsProblem(log, checkpoint: candidate.path) { throw Defect.damaged(problem) }
                let chosen = (candidate.path as NSString).lastPathComponent
                let warnings = skipped.map { "warning: \($0); resuming from \(chosen), the newest checkpoint that verifies" }
                return (checkpoint, candidate.path, warnings)
            } catch let Defect.damaged(message) {
                skipped.append(message)
            } catch let Defect.incompatible(message) {
                throw RunError(message)
            }
        }
        let older = candidates.count > 1 ? " (and the \(candidates.count - 1) older checkpoints do not verify either)" : ""
        throw RunError(skipped[0] + older + "; no checkpoint in \(folder) can be resumed: start the run anew in another folder")
    }

    // MARK: The metrics log

    /// The steps of a run's `metrics.jsonl`, read the way a resume reads it: whole lines only (a
    /// last line cut short by a crash does not count), lines without a `"step"` ignored.
    struct MetricsLog {
        var path: String
        /// The greatest step logged (nil: no line with a step).
        var lastStep: Int?

        init(path: String) throws(Defect) {
            self.path = path
            guard let data = FileManager.default.contents(atPath: path) else { return }
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            if data.last != UInt8(ascii: "\n") { lines.removeLast() }
            var previous: (step: Int, line: Int)?
            for (index, line) in lines.enumerated() where line.hasPrefix("{") && line.hasSuffix("}") {
                guard let step = TrainingCheckpoint.loggedStep(line) else { continue }
                // A resume keeps the lines before its step in file order: a log whose steps go back
                // holds two runs' lines, and keeping some of them would not give one run's log.
                if let previous, step < previous.step {
                    throw .incompatible("\(path): line \(index + 1) logs step \(step) after step \(previous.step) on line \(previous.line) (two runs wrote this log); it cannot be continued: start the run anew in another folder")
                }
                previous = (step, index + 1)
                lastStep = step
            }
        }
    }

    /// The `"step"` of a metrics line, or nil.
    static func loggedStep(_ line: Substring) -> Int? {
        guard let range = line.range(of: "\"step\":") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }

    /// Whether a resume from this checkpoint keeps a whole line of the metrics log: every line
    /// logged before `step` (and any line without a step). The lines it drops, step ≥ `step`, are
    /// those the replay from `step` writes again: a checkpoint never drops a line it does not supersede.
    public func keepsMetricsLine(_ line: Substring) -> Bool {
        Self.loggedStep(line).map { $0 < step } ?? true
    }

    /// Checks this checkpoint (read from `path`) against the run's metrics log at `metricsPath`
    /// before a resume rewrites the log; throws one line naming both files.
    ///
    /// The rule: a resume from step k keeps the lines with step < k (``keepsMetricsLine(_:)``) and
    /// replays from k, so (1) the log's steps must never go back (one run's log), and (2) the log must
    /// already hold the lines the run wrote before k: it must reach the last step before k at which
    /// the checkpoint's config logs (every `log-every` steps, and every `log-every-epochs` epochs when
    /// the checkpoint tells the epoch length); otherwise the lines between would be missing for good
    /// (a log that lost its tail while the checkpoint did not). A log that reaches past k is fine.
    public func checkAgainstMetrics(_ metricsPath: String, checkpoint path: String) throws {
        do {
            if let problem = metricsProblem(try MetricsLog(path: metricsPath), checkpoint: path) { throw RunError(problem) }
        } catch let Defect.incompatible(message) {
            throw RunError(message)
        }
    }

    /// Rule (2) of ``checkAgainstMetrics(_:checkpoint:)``: the problem, or nil.
    func metricsProblem(_ log: MetricsLog, checkpoint path: String) -> String? {
        guard step > 0 else { return nil }
        // The last step before `step` at which the checkpoint's config logs (step 0 always does).
        var required = 0
        if config.logEvery > 0 { required = max(required, (step - 1) / config.logEvery * config.logEvery) }
        if config.logEveryEpochs > 0, let perEpoch = stepsPerEpoch, let period = TrainBound.count.product(config.logEveryEpochs, perEpoch) {
            required = max(required, (step - 1) / period * period)
        }
        guard let last = log.lastStep else {
            return "\(path): checkpoint of step \(step), but \(log.path) holds no logged step (the log was lost); the lines before step \(step) cannot be restored"
        }
        guard last >= required else {
            return "\(path): checkpoint of step \(step) is ahead of \(log.path), which ends at step \(last) (the run had logged step \(required)); the lines between would be lost"
        }
        return nil
    }

    /// Steps per epoch, when the random state tells it (a position inside the second epoch or later).
    var stepsPerEpoch: Int? {
        guard let outer = (try? JSONSerialization.jsonObject(with: Data(randomState.utf8))) as? [String: Any] else { return nil }
        let rng = (outer["task"] as? [String: Any]) ?? (outer["next_batch"] as? [String: Any]) ?? outer
        guard let epoch = (rng["epoch"] as? NSNumber)?.intValue else { return nil }
        let batch = (rng["batch"] as? NSNumber)?.intValue ?? (rng["batch_in_epoch"] as? NSNumber)?.intValue ?? 0
        // `batch` (image tasks) counts inside the epoch under way; `batch_in_epoch` after whole epochs.
        let wholeEpochs = rng["batch"] != nil && batch > 0 ? epoch - 1 : epoch
        return wholeEpochs > 0 && (step - batch) % wholeEpochs == 0 ? (step - batch) / wholeEpochs : nil
    }

    /// Every checkpoint in `directory` (files named `step-NNNNNNNN.safetensors`), sorted by step;
    /// empty when the folder is missing. Diagnostics and reports list checkpoints through this too.
    public static func all(in directory: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in stepInFileName(name).map { (step: $0, path: directory + "/" + name) } }.sorted { $0.step < $1.step }
    }

    /// The checkpoint with the most steps in `directory`, or nil if there is none.
    public static func latest(in directory: String) -> (step: Int, path: String)? { all(in: directory).last }
}
