import ArgumentParser
import Foundation
import MeanField
import MeanFieldKernels

/// `meanfield train`: trains the mean-field Transformer (theory §1) on a task, in mean-field time.
/// Every setting is a flag and a key of a `--config` file (TOML, JSON or YAML); flags override the
/// file. Values are checked by the library (``TrainConfig/set(_:_:source:)``), so a bad flag and a
/// bad file value get the same one-line message.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a mean-field Transformer (theory §1) or ResNet (§4–5) and write a run directory.",
        discussion: """
        Writes OUT/config.json (the resolved config; a valid --config file), manifest.json (seed, versions, \
        git commit, machine), metrics.jsonl (step, t, R, Q, eval_R, grad_norm, param_norm, spread per layer), \
        checkpoints/step-NNNNNNNN.safetensors and summary.json.
        Examples:
          meanfield train --steps 300 --out runs/small
          meanfield train --config run.toml --lr 0.005 --out runs/a
          meanfield train --resume runs/a --steps 600
        """)

    // Task.
    @Option(parsing: .unconditional, help: "Task: icl-regression (in-context linear regression, theory §1.1), teacher-regression (generated regression for --model resnet|rff-resnet), or an image task trained with a Vision Transformer (or a ResNet): fashion-mnist, mnist, cifar10, cifar100, synthetic-images (default icl-regression).") var task: String?
    @Option(parsing: .unconditional, help: "Image tasks: folder of the dataset's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist; required for CIFAR: the extracted cifar-10-batches-bin/ or cifar-100-binary/).") var data: String?
    @Option(parsing: .unconditional, help: "Image tasks: train on a fixed class-balanced subset of N images (default 0 = all).") var subset: String?
    @Option(parsing: .unconditional, help: "Image tasks: evaluate on a fixed class-balanced subset of N test images (default 0 = all).") var testSubset: String?
    @Option(parsing: .unconditional, help: "Image tasks: patch side p; H and W must be multiples (default 4: 49 tokens of 28×28).") var patch: String?
    @Flag(inversion: .prefixedNo, help: "Image tasks: prepend a learned class token and read out from it (default: mean pooling).") var classToken: Bool?
    @Flag(inversion: .prefixedNo, help: "Image tasks: augment training images (random crop after 2/4 px padding, horizontal flip) (default off).") var augment: Bool?
    @Option(parsing: .unconditional, help: "Input dimension d (default 3).") var inputDim: String?
    @Option(parsing: .unconditional, help: "In-context examples per prompt, N (default 8).") var examples: String?
    @Option(parsing: .unconditional, help: "Label noise standard deviation (default 0).") var noise: String?
    @Option(parsing: .unconditional, help: "Prompts in the fixed training set; 0 = fresh prompts each step (default 16).") var trainSize: String?
    @Option(parsing: .unconditional, help: "Prompts in the evaluation set (default 64).") var evalSize: String?

    // Model.
    @Option(parsing: .unconditional, help: "Network: transformer (theory §1; a ViT for image tasks), resnet (two-layer blocks, theory §4) or rff-resnet (random-Fourier-feature blocks, §5) (default transformer).") var model: String?
    @Option(parsing: .unconditional, help: "ResNets: particles per layer, M units (resnet) or r random features (rff-resnet) (default 32; images 64).") var units: String?
    @Option(parsing: .unconditional, help: "ResNets: dimension D of the residual stream (default 16; images 64).") var hiddenDim: String?
    @Option(parsing: .unconditional, help: "rff-resnet: feature map cos (√2 cos, Gaussian kernel) or relu (default cos).") var featureMap: String?
    @Option(parsing: .unconditional, help: "rff-resnet: std σ of the random features ω, or auto = 1/√D (default auto).") var featureScale: String?
    @Option(parsing: .unconditional, help: "teacher-regression: NTK Gram λ_min and PL constant 2λ_min/n every this many steps; 0 = never (default 200).") var ntkEvery: String?
    @Option(parsing: .unconditional, help: "Token dimension D ≥ d+1 (default d+1).") var tokenDim: String?
    @Option(parsing: .unconditional, help: "Attention heads per layer, M (default 4).") var heads: String?
    @Option(parsing: .unconditional, help: "Feed-forward units per layer, M′; 0 = attention only (default 4).") var ffnUnits: String?
    @Option(parsing: .unconditional, help: "Layers, L (default 2).") var layers: String?
    @Option(parsing: .unconditional, help: "Head width d_h of factored heads (default D).") var headDim: String?
    @Option(parsing: .unconditional, help: "Heads: merged (W_KQ, W_OV) or factored (Q, K, V, O) (default merged).") var attention: String?
    @Option(parsing: .unconditional, help: "Engine: fused (hand-written forward/backward, default) or autodiff (the reference path).") var engine: String?
    @Option(parsing: .unconditional, help: "Score map: softmax, linear or relu (default softmax).") var score: String?
    @Option(parsing: .unconditional, help: "Feed-forward activation: relu, gelu, tanh, sigmoid or silu (default relu).") var activation: String?
    @Flag(inversion: .prefixedNo, help: "Pre-norm: layer-normalise each block's input (off-theory; default off).") var preNorm: Bool?
    @Option(parsing: .unconditional, help: "Residual exponent α: steps of 1/L^α; 1 = theory §1.2, 0.5 = depth-μP (default 1).") var residualExponent: String?
    @Option(parsing: .unconditional, help: "Score temperature τ: scores are divided by τ, for every score map (default 1).") var temperature: String?
    @Option(parsing: .unconditional, help: "Std of the Gaussian initial particles, or auto = 1/√D (default auto).") var initStd: String?

    // Optimization.
    @Option(parsing: .unconditional, help: "Optimizer: euler (gradient flow), sgd (momentum) or adamw (default adamw).") var optimizer: String?
    @Option(parsing: .unconditional, help: "Learning rate η = mean-field time per step (default 0.02; image tasks 0.004).") var lr: String?
    @Option(parsing: .unconditional, help: "Schedule: constant, cosine, warmup or step (default constant; image tasks cosine).") var schedule: String?
    @Option(parsing: .unconditional, help: "Linear warmup steps, any schedule (default 0).") var warmupSteps: String?
    @Option(parsing: .unconditional, help: "Cosine floor η_min (default 0).") var minLr: String?
    @Option(parsing: .unconditional, help: "Step schedule: decay every this many steps (default 1000).") var decayEvery: String?
    @Option(parsing: .unconditional, help: "Step schedule: decay factor γ in (0, 1] (default 0.1).") var decayFactor: String?
    @Option(parsing: .unconditional, help: "Weight decay λ of Q = R + (λ/2)∫|θ|²dρ, decoupled (default 0).") var weightDecay: String?
    @Option(parsing: .unconditional, help: "Rate multiplier k of the ordinary parameters (patch/position embedding, readout; not particles): they step with k·η, the particles with η (default 1).") var ordinaryLrScale: String?
    @Option(parsing: .unconditional, help: "SGD momentum μ in [0, 1) (default 0.9).") var momentum: String?
    @Option(parsing: .unconditional, help: "AdamW β₁ (default 0.9).") var beta1: String?
    @Option(parsing: .unconditional, help: "AdamW β₂ (default 0.999).") var beta2: String?
    @Option(parsing: .unconditional, help: "AdamW ε (default 1e-8).") var epsilon: String?
    @Option(parsing: .unconditional, help: "Steps (updates) (default 100).") var steps: String?
    @Option(parsing: .unconditional, help: "Epochs over the fixed training set (instead of --steps).") var epochs: String?
    @Option(parsing: .unconditional, help: "Prompts (images) per step; 0 = full batch (default 0; image tasks 64).") var batchSize: String?
    @Option(parsing: .unconditional, help: "Random seed: parameters, data, batch order (default 0).") var seed: String?

    // Run.
    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).") var threads: String?
    @Option(parsing: .unconditional, help: "Run directory (default runs/train-<date>-<time>).") var out: String?
    @Option(parsing: .unconditional, help: "Continue the run in this directory from its last checkpoint (only --steps, --epochs, --threads, --log-every, --checkpoint-every may change).") var resume: String?
    @Option(parsing: .unconditional, help: "Config file: .toml, .json or .yaml with the flags' names as keys; flags override it.") var config: String?
    @Option(parsing: .unconditional, help: "Checkpoint every this many steps; 0 = only at the end (default 0).") var checkpointEvery: String?
    @Option(parsing: .unconditional, help: "Log a metrics line every this many steps; 0 = unused (default 10; image tasks 0).") var logEvery: String?
    @Option(parsing: .unconditional, help: "Checkpoint every this many epochs; 0 = unused (default 0; image tasks 1).") var checkpointEveryEpochs: String?
    @Option(parsing: .unconditional, help: "Log a metrics line every this many epochs; 0 = unused (default 0; image tasks 1).") var logEveryEpochs: String?

    /// The flags given on the command line, as (key, text).
    var givenFlags: [(key: String, text: String)] {
        let all: [(String, String?)] = [
            ("task", task), ("model", model), ("units", units), ("hidden-dim", hiddenDim), ("feature-map", featureMap),
            ("feature-scale", featureScale), ("ntk-every", ntkEvery), ("data", data), ("subset", subset), ("test-subset", testSubset), ("patch", patch),
            ("class-token", classToken.map { $0 ? "true" : "false" }), ("augment", augment.map { $0 ? "true" : "false" }), ("input-dim", inputDim), ("examples", examples), ("noise", noise), ("train-size", trainSize),
            ("eval-size", evalSize), ("token-dim", tokenDim), ("heads", heads), ("ffn-units", ffnUnits), ("layers", layers),
            ("head-dim", headDim), ("attention", attention), ("engine", engine), ("score", score), ("activation", activation),
            ("pre-norm", preNorm.map { $0 ? "true" : "false" }), ("residual-exponent", residualExponent),
            ("temperature", temperature), ("init-std", initStd), ("optimizer", optimizer), ("lr", lr), ("schedule", schedule),
            ("warmup-steps", warmupSteps), ("min-lr", minLr), ("decay-every", decayEvery), ("decay-factor", decayFactor),
            ("weight-decay", weightDecay), ("ordinary-lr-scale", ordinaryLrScale), ("momentum", momentum), ("beta1", beta1), ("beta2", beta2), ("epsilon", epsilon),
            ("steps", steps), ("epochs", epochs), ("batch-size", batchSize), ("seed", seed), ("threads", threads),
            ("checkpoint-every", checkpointEvery), ("log-every", logEvery),
            ("checkpoint-every-epochs", checkpointEveryEpochs), ("log-every-epochs", logEveryEpochs),
        ]
        return all.compactMap { key, text in text.map { (key, $0) } }
    }

    func run() throws {
        // Started by a sweep: end with it (Linux: SIGTERM when the sweep's process ends).
        ProcessSetup.endWithParent()
        do {
            try train()
        } catch let stop as RunInterrupted {
            // SIGINT/SIGTERM: the run saved a checkpoint; exit as the signal would (128 + its number).
            FileHandle.standardError.write(Data("meanfield train: \(stop.message)\n".utf8))
            throw ExitCode(128 + stop.signal)
        }
    }

    private func train() throws {
        ProcessSetup.reuseLargeAllocations()
        let (resolved, path) = try resolvedConfig()
        // Refuse a config that cannot fit before allocating anything (MemoryEstimate).
        try MemoryEstimate(config: resolved).check()
        try DiskSpaceCheck.check(resolved, directory: path)
        if let threads = resolved.threads { Threading.threadCount = threads }

        if resolved.isImageTask { return try runImageTask(resolved, path: path, resume: resume != nil) }
        if let resNet = resolved.resNet {
            print("meanfield train: teacher regression (d = \(resolved.inputDim), \(resolved.trainSize) training points), "
                  + "ResNet \(resNet.block.rawValue) blocks, D = \(resNet.hiddenDimension), \(resNet.block == .twoLayer ? "M" : "r") = \(resNet.units), L = \(resNet.layers); "
                  + "\(resolved.optimizer.rawValue), η = \(resolved.lr), \(resolved.steps) steps" + (resume != nil ? " (resuming)" : ""))
            var trainer = ResNetTrainer(config: resolved)
            let summary = try trainer.run(directory: path, resume: resume != nil)
            print(Self.regressionResult(summary))
            print("Run files: \(path) (config.json, manifest.json, metrics.jsonl, checkpoints/, summary.json)")
            return
        }
        let model = resolved.transformer
        print("meanfield train: in-context regression (d = \(resolved.inputDim), N = \(resolved.examples), "
              + (resolved.trainSize == 0 ? "fresh prompts" : "\(resolved.trainSize) training prompts") + "), "
              + "D = \(model.dimension), M = \(model.heads) \(model.attention.rawValue) heads, M′ = \(model.ffnUnits) units, L = \(model.layers); "
              + "\(resolved.optimizer.rawValue), η = \(resolved.lr), \(resolved.steps) steps"
              + (resume != nil ? " (resuming)" : ""))
        var trainer = Trainer(config: resolved, engine: AnyTransformerEngine<Float>(config: model, kind: resolved.engine))
        let summary = try trainer.run(directory: path, resume: resume != nil)
        print(Self.regressionResult(summary))
        print("Run files: \(path) (config.json, manifest.json, metrics.jsonl, checkpoints/, summary.json)")
    }

    /// The last line of a regression run: final and initial R, t, evaluation risk, wall time.
    static func regressionResult(_ summary: RunSummary) -> String {
        String(format: "Training risk R = %.6g (from %.4g) at mean-field time t = %.4g; evaluation risk %.6g; %.1f s.",
               summary.final["R"] ?? .nan, summary.initial["R"] ?? .nan, summary.meanFieldTime, summary.final["eval_R"] ?? .nan, summary.wallSeconds)
    }

    /// The run's resolved config and folder, as `run()` trains it: the saved config.json with
    /// --resume, else the defaults (the ViT's for an image task), then the --config file, then the
    /// flags, checked against each other. Does not touch the run folder otherwise; `meanfield sweep`
    /// calls it to check every run's flags before starting any.
    func resolvedConfig() throws -> (config: TrainConfig, path: String) {
        var settings = TrainConfig()
        let path: String
        if let resume {
            guard config == nil else { throw RunError("--config cannot be combined with --resume: a resumed run keeps the config saved in \(resume)/config.json") }
            if let out, out != resume { throw RunError("--out \(out) differs from --resume \(resume); a resumed run continues in its own directory") }
            let allowed: Set = ["steps", "epochs", "threads", "log-every", "checkpoint-every", "log-every-epochs", "checkpoint-every-epochs"]
            if let flag = givenFlags.first(where: { !allowed.contains($0.key) }) {
                throw RunError("--\(flag.key) cannot change when resuming (the run keeps its saved config); only --steps, --epochs, --threads, --log-every and --checkpoint-every can")
            }
            guard let saved = FileManager.default.contents(atPath: resume + "/config.json") else {
                throw RunError("--resume \(resume): no config.json there; pass the directory of a run started by meanfield train")
            }
            settings = try TrainConfig.fromJSON(saved, name: resume + "/config.json")
            path = resume
        } else {
            let file = try config.map(ConfigFile.load) ?? []
            // An image task starts from the default ViT (TrainConfig.imageDefaults), then the file, then the flags.
            var probe = TrainConfig()
            for (key, text) in file where key == "task" || key == "model" { try probe.set(key, text, source: ConfigFile.source(of: key, in: config ?? "")) }
            if let task { try probe.set("task", task, source: "--task") }
            if let model { try probe.set("model", model, source: "--model") }
            if probe.isImageTask {
                if let flag = givenFlags.first(where: { $0.key == "steps" }) ?? file.first(where: { $0.key == "steps" }) {
                    throw RunError("--\(flag.key) does not apply to --task \(probe.task): image runs are given in --epochs")
                }
                settings = TrainConfig.imageDefaults(task: probe.task)
            }
            if probe.model != .transformer { settings = TrainConfig.resNetDefaults(task: probe.task, model: probe.model) }
            if let config { try settings.apply(file, source: { ConfigFile.source(of: $0, in: config) }) }
            path = out ?? Demo.defaultRunPath("train")
        }
        try settings.apply(givenFlags, source: { "--\($0)" })
        return (try settings.resolved(defaultThreads: settings.threads ?? Threading.threadCount), path)
    }

    /// An image task: a Vision Transformer or a ResNet trained by ImageTrainer.
    func runImageTask(_ resolved: TrainConfig, path: String, resume: Bool) throws {
        let model = resolved.transformer
        let splits = try ImageTrainer.loadSplits(resolved)
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
              + (resume ? " (resuming)" : ""))
        var trainer = ImageTrainer(config: resolved, splits: splits)
        let summary = try trainer.run(directory: path, resume: resume)
        let final = summary.final
        print(String(format: "Final: train loss %.4g, accuracy %.2f%%; test loss %.4g, accuracy %.2f%%; %.3f s/step, %.1f s/epoch; %.1f s in all.",
                     final["train_loss"] ?? .nan, 100 * (final["train_acc"] ?? .nan), final["test_loss"] ?? .nan, 100 * (final["test_acc"] ?? .nan),
                     summary.secondsPerStep, summary.secondsPerStep * Double(summary.stepsPerEpoch ?? 0), summary.wallSeconds))
        print("Run files: \(path) (config.json, manifest.json, metrics.jsonl, checkpoints/, confusion.json, summary.json)")
    }
}
