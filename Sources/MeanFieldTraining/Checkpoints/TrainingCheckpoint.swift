import Foundation
import MeanFieldCore
import MeanFieldModels

/// A training checkpoint: parameters, optimizer state and everything needed to continue the run
/// bit for bit, in one safetensors file (``SafeTensorsFile``) that NumPy and PyTorch users can read.
///
/// Tensors: every parameter under its store name (`layer0.attention.keyQuery`, …), then the
/// optimizer state (`optimizer.velocity.<name>`, `optimizer.adam_m.<name>`, `optimizer.adam_v.<name>`).
/// `__metadata__` (all strings): `format`, `config` (the resolved ``TrainConfig`` as JSON), `step`,
/// `t` (mean-field time), `optimizer`, `optimizer_updates`, `initial_R`, `rng` (the Philox
/// positions, JSON), `flow_scales` (JSON), `scalar`, `meanfield_version`, `git_commit`.
public struct TrainingCheckpoint<Scalar: TensorScalar> {
    public static var formatName: String { "meanfield.checkpoint.v1" }

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

    /// Writes the checkpoint atomically to `path`.
    public func write(to path: String, optimizerTensors: [(name: String, tensor: Tensor<Scalar>)], gitCommit: String) throws {
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
            "scalar": String(describing: Scalar.self) == "Float" ? "f32" : "f64",
            "meanfield_version": MeanFieldVersion.current,
            "git_commit": gitCommit,
        ]
        try file.write(to: path)
    }

    /// Reads a checkpoint and checks it against the model of its own config: every parameter
    /// present with the right shape. `template` supplies names, shapes and flow scales.
    public static func read(path: String) throws -> TrainingCheckpoint<Scalar> {
        let file = try SafeTensorsFile.read(path: path)
        func meta(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw RunError("\(path): not a MeanField checkpoint (no '\(key)' in __metadata__)") }
            return value
        }
        guard try meta("format") == formatName else { throw RunError("\(path): checkpoint format '\(try meta("format"))', this build reads \(formatName)") }
        let config = try TrainConfig.fromJSON(Data(try meta("config").utf8), name: path + " (config)")
        guard let step = Int(try meta("step")), let time = Double(try meta("t")),
              let kind = OptimizerKind(rawValue: try meta("optimizer")), let updates = Int(try meta("optimizer_updates")),
              let initialRisk = Double(try meta("initial_R")) else {
            throw RunError("\(path): unreadable step, t, optimizer or initial_R in __metadata__")
        }
        // The config comes from the file: check its model's size against the values the file holds
        // before building a template of that size (a corrupt config must not allocate a huge model).
        let declared = config.parameterCount
        let held = file.entries.reduce(0.0) { $0 + Double($1.bytes.count / $1.dtype.size) }
        guard declared <= held else {
            throw RunError("\(path): its config declares a model of \(Int(min(declared, 1e18))) parameters but the file holds \(Int(held)) values (corrupt checkpoint); resume from another checkpoint")
        }
        let template: ParameterStore<Scalar> = config.initialParameters()
        var parameters = template
        for name in template.names {
            let tensor: Tensor<Scalar> = try file.tensor(name, file: path)
            guard tensor.shape == template[name].shape else {
                throw RunError("\(path): parameter '\(name)' has shape \(tensor.shape), the config's model needs \(template[name].shape)")
            }
            parameters[name] = tensor
        }
        var state: [String: Tensor<Scalar>] = [:]
        for name in file.names where name.hasPrefix("optimizer.") { state[name] = try file.tensor(name, file: path) }
        return TrainingCheckpoint(config: config, step: step, meanFieldTime: time, parameters: parameters, optimizerState: state,
                                  optimizerKind: kind, optimizerUpdates: updates, initialRisk: initialRisk,
                                  randomState: file.metadata["rng"] ?? "")
    }

    /// Every checkpoint in `directory` (files named `step-NNNNNNNN.safetensors`), sorted by step;
    /// empty when the folder is missing. Diagnostics and reports list checkpoints through this too.
    public static func all(in directory: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (step: Int, path: String)? in
            guard name.hasPrefix("step-"), name.hasSuffix(".safetensors"), let step = Int(name.dropFirst(5).dropLast(12)) else { return nil }
            return (step, directory + "/" + name)
        }.sorted { $0.step < $1.step }
    }

    /// The checkpoint with the most steps in `directory`, or nil if there is none.
    public static func latest(in directory: String) -> (step: Int, path: String)? { all(in: directory).last }
}
