import ArgumentParser
import Foundation
import MeanField
import MeanFieldCore
import MeanFieldKernels

/// `meanfield train`: trains the mean-field Transformer (theory §1) on a task, in mean-field time.
/// Every setting is a key of the library's table (``TrainKeys``): a flag `--KEY VALUE` and a key
/// of a `--config` file (TOML, JSON or YAML); flags override the file. The flags are captured as
/// they are and read by the library (``TrainInvocation``), so a bad flag and a bad file value get
/// the same one-line message, and `--help` lists the table.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a mean-field Transformer (theory §1) or ResNet (§4–5) and write a run directory.",
        usage: "meanfield train [--config <file>] [--out <dir>] [--resume <dir>] [--KEY VALUE ...]",
        discussion: """
        Writes OUT/config.json (the resolved config; a valid --config file), manifest.json (seed, versions, \
        git commit, machine), metrics.jsonl (step, t, R, Q, eval_R, grad_norm, param_norm, spread per layer), \
        checkpoints/step-NNNNNNNN.safetensors and summary.json.
        Examples:
          meanfield train --steps 300 --out runs/small
          meanfield train --config run.toml --lr 0.005 --out runs/a
          meanfield train --resume runs/a --steps 600

        SETTINGS: each is a flag --KEY VALUE and a key of a --config file (flags override the file). \
        Defaults depend on the task and model where listed.

        """ + TrainKeys.helpText(width: 78))

    @Option(parsing: .unconditional, help: "Config file: .toml, .json or .yaml with the settings' names as keys; flags override it.") var config: String?
    @Option(parsing: .unconditional, help: "Run directory (default runs/train-<date>-<time>).") var out: String?
    @Option(parsing: .unconditional, help: "Continue the run in this directory from its last checkpoint (only \(TrainKeys.changeableOnResumeText) may change).") var resume: String?
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Settings: --KEY VALUE for any key listed under SETTINGS (--pre-norm / --no-pre-norm for true/false keys).", valueName: "settings")) var settings: [String] = []

    /// Usage errors (an unknown flag, a missing value) before anything runs, reported with this command's usage.
    func validate() throws { _ = try invocation() }

    /// The invocation as the library reads it: `--config`, `--out`, `--resume` and the settings.
    func invocation() throws -> TrainInvocation {
        var invocation: TrainInvocation
        do { invocation = try TrainInvocation.parse(settings) } catch let error as TrainInvocation.UsageError {
            throw ValidationError(error.description)
        }
        invocation.config = invocation.config ?? config
        invocation.out = invocation.out ?? out
        invocation.resume = invocation.resume ?? resume
        return invocation
    }

    func run() throws {
        // Started by a sweep: end with it (Linux: SIGTERM when the sweep's process ends).
        ProcessSetup.endWithParent()
        var group: ProcessGroup?
        do {
            // SIGINT/SIGTERM: the run saved a checkpoint.
            try exitingAsSignal("train") { try train(joining: &group) }
            group?.finish()
        } catch {
            // One rank of a data-parallel job failed alone (a file, a shape): say so and end every
            // rank, so that none waits for it in a collective. A stop signal ends all ranks together.
            guard let group, group.size > 1, !(error is ExitCode) else {
                if error is ExitCode { group?.finish() }
                throw error
            }
            FileHandle.standardError.write(Data("Error: \(Self.message(for: error)) (rank \(group.rank) of \(group.size); stopping the job)\n".utf8))
            group.abort(code: Self.exitCode(for: error).rawValue)
        }
    }

    /// The MPI job the run is spread over (`--distributed data`), nil for a run in one process. A
    /// process that an MPI launcher started as one of several without `--distributed` is refused:
    /// K copies of one run would fight over its folder.
    static func processGroup(for config: TrainConfig) throws -> ProcessGroup? {
        let launched = ProcessGroup.launchedSize
        switch config.distributed {
        case .none:
            if let launched, launched > 1 {
                throw RunError("started by an MPI launcher as one of \(launched) processes without --distributed: add --distributed data "
                               + "to train one run over them (docs/distributed.md), or start a single process without mpirun")
            }
            return nil
        case .data, .particle:
            let mode = config.distributed.rawValue
            guard launched != nil else {
                throw RunError("--distributed \(mode) needs an MPI launcher: start it as mpirun -np K meanfield train --distributed \(mode) … "
                               + "(srun under Slurm), or drop --distributed to train in one process")
            }
            do { return try ProcessGroup.join() } catch let error as ProcessGroupError { throw RunError("--distributed \(mode): \(error)") }
        }
    }

    /// This rank's share of the particles for `--distributed particle` over K > 1 processes (nil
    /// otherwise); a model it cannot split is refused in one line.
    static func particleShare(for config: TrainConfig, group: ProcessGroup?) throws -> ParticleShare? {
        guard config.distributed == .particle, let group, group.size > 1 else { return nil }
        guard config.resNet == nil else {
            throw RunError("--distributed particle splits a Transformer's heads and units over the processes; --model \(config.model.rawValue) "
                           + "has none: use --distributed data (or the Transformer)")
        }
        guard config.engine == .fused else {
            throw RunError("--distributed particle runs on the fused engine; drop --engine \(config.engine.rawValue)")
        }
        return try ParticleShare(group: group, model: config.visionModel?.transformer ?? config.transformer)
    }

    private func train(joining group: inout ProcessGroup?) throws {
        ProcessSetup.reuseLargeAllocations()
        let (resolved, path) = try resolvedConfig()
        group = try Self.processGroup(for: resolved)
        // Rank 0 prints and writes; the other ranks' progress would repeat it.
        if let group, group.rank > 0 { dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO) }
        // Refuse a config that cannot fit before allocating anything (MemoryEstimate).
        try MemoryEstimate(config: resolved).check()
        try DiskSpaceCheck.check(resolved, directory: path)
        if let threads = resolved.threads { Threading.threadCount = threads }

        let resume = try invocation().resume != nil
        switch resolved.precision {
        case .float32: try train(resolved, path: path, resume: resume, group: group, as: Float.self)
        case .float64: try train(resolved, path: path, resume: resume, group: group, as: Double.self)
        }
    }

    /// Trains the run in `Scalar`, the config's precision.
    private func train<Scalar: TensorScalar>(_ resolved: TrainConfig, path: String, resume: Bool, group: ProcessGroup?, as _: Scalar.Type) throws {
        if resolved.isImageTask { return try runImageTask(resolved, path: path, resume: resume, group: group, as: Scalar.self) }
        let optimization = "\(resolved.optimizer.rawValue), η = \(resolved.lr), \(resolved.steps) steps"
            + (resolved.precision == .float32 ? "" : " in \(resolved.precision.rawValue)") + (resume ? " (resuming)" : "")
        let summary: RunSummary
        if let resNet = resolved.resNet {
            print("meanfield train: teacher regression (d = \(resolved.inputDim), \(resolved.trainSize) training points), "
                  + "ResNet \(resNet.block.rawValue) blocks, D = \(resNet.hiddenDimension), \(resNet.block == .twoLayer ? "M" : "r") = \(resNet.units), L = \(resNet.layers); "
                  + optimization)
            _ = try Self.particleShare(for: resolved, group: group)   // refuses --distributed particle
            var trainer = TrainingRun<TeacherRegressionTask<Scalar>>(config: resolved)
            trainer.processGroup = group
            summary = try trainer.run(directory: path, resume: resume)
        } else {
            let model = resolved.transformer
            print("meanfield train: in-context regression (d = \(resolved.inputDim), N = \(resolved.examples), "
                  + (resolved.trainSize == 0 ? "fresh prompts" : "\(resolved.trainSize) training prompts") + "), "
                  + "D = \(model.dimension), M = \(model.heads) \(model.attention.rawValue) heads, M′ = \(model.ffnUnits) units, L = \(model.layers); "
                  + optimization)
            let particles = try Self.particleShare(for: resolved, group: group)
            var trainer = Trainer(config: resolved, engine: AnyTransformerEngine<Scalar>(config: model, kind: resolved.engine, particles: particles))
            (trainer.processGroup, trainer.particles) = (group, particles)
            summary = try trainer.run(directory: path, resume: resume)
        }
        // The last lines of a regression run: final and initial R, t, evaluation risk, wall time.
        print(String(format: "Training risk R = %.6g (from %.4g) at mean-field time t = %.4g; evaluation risk %.6g; %.1f s.",
                     summary.final["R"] ?? .nan, summary.initial["R"] ?? .nan, summary.meanFieldTime, summary.final["eval_R"] ?? .nan, summary.wallSeconds))
        print("Run files: \(path) (config.json, manifest.json, metrics.jsonl, checkpoints/, summary.json)")
    }

    /// The run's resolved config (``TrainInvocation/resolve(defaultThreads:)``) and folder.
    func resolvedConfig() throws -> (config: TrainConfig, path: String) {
        let invocation = try invocation()
        let config = try invocation.resolve(defaultThreads: Threading.threadCount)
        return (config, invocation.resume ?? invocation.out ?? defaultRunPath("train"))
    }

    /// An image task: a Vision Transformer or a ResNet (``ImageClassificationTask``).
    func runImageTask<Scalar: TensorScalar>(_ resolved: TrainConfig, path: String, resume: Bool, group: ProcessGroup?, as _: Scalar.Type) throws {
        let model = resolved.transformer
        let splits = try ImageClassificationTask<Scalar>.loadSplits(resolved)
        let network: String
        if let vit = resolved.visionModel {
            network = "ViT p = \(vit.patch) (\(vit.tokens) tokens\(vit.classToken ? ", class token" : ", mean pooling")), "
                + "D = \(model.dimension), M = \(model.heads) \(model.attention.rawValue) heads, M′ = \(model.ffnUnits) units, L = \(model.layers)"
                + "\(model.preNorm ? ", pre-norm" : "")"
        } else {
            let resNet = resolved.resNet!
            network = "ResNet \(resNet.block.rawValue) blocks on flattened images, D = \(resNet.hiddenDimension), "
                + "\(resNet.block == .twoLayer ? "M" : "r") = \(resNet.units), L = \(resNet.layers)"
        }
        print("meanfield train: \(resolved.task) (\(splits.directory)), "
              + (resolved.subset > 0 ? "subset of \(resolved.subset)" : "all \(splits.train.count)") + " training images; "
              + network + "; \(resolved.optimizer.rawValue), η = \(resolved.lr), batch \(resolved.batchSize), \(resolved.epochs) epochs"
              + (resolved.precision == .float32 ? "" : " in \(resolved.precision.rawValue)") + (resume ? " (resuming)" : ""))
        let particles = try Self.particleShare(for: resolved, group: group)
        var trainer = TrainingRun<ImageClassificationTask<Scalar>>(config: resolved, splits: splits)
        (trainer.processGroup, trainer.particles, trainer.task.particles) = (group, particles, particles)
        let summary = try trainer.run(directory: path, resume: resume)
        let final = summary.final
        print(String(format: "Final: train loss %.4g, accuracy %.2f%%; test loss %.4g, accuracy %.2f%%; %.3f s/step, %.1f s/epoch; %.1f s in all.",
                     final["train_loss"] ?? .nan, 100 * (final["train_acc"] ?? .nan), final["test_loss"] ?? .nan, 100 * (final["test_acc"] ?? .nan),
                     summary.secondsPerStep, summary.secondsPerStep * Double(summary.stepsPerEpoch ?? 0), summary.wallSeconds))
        print("Run files: \(path) (config.json, manifest.json, metrics.jsonl, checkpoints/, confusion.json, summary.json)")
    }
}
