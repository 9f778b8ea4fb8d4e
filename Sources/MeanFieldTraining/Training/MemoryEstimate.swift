import Foundation
import MeanFieldModels

/// What a training run will hold in memory, estimated from its config before anything is allocated,
/// so that a config that cannot fit is refused with the numbers instead of dying in the middle.
///
/// Counted (in the run's scalar type: 4 bytes, 8 with `--precision float64`): the parameters, their gradients and the optimizer's
/// state (AdamW 2 moments, SGD 1 velocity, Euler none) and the fused engine's workspaces
/// (``FusedShape/workspaceScalars``); the data: the
/// regression prompts, or the image bytes plus their normalized copies per batch. Arithmetic is in
/// `Double`, so an absurd config gives a huge estimate, never an overflow trap.
public struct MemoryEstimate: Sendable, CustomStringConvertible {
    public var parameterBytes: Double
    public var optimizerBytes: Double
    public var activationBytes: Double
    public var dataBytes: Double
    /// A fixed allowance for the process itself (binary, runtime, thread stacks): measured ≈ 30 MB.
    public static let processBytes = 64.0 * 1024 * 1024

    public var totalBytes: Double { parameterBytes + optimizerBytes + activationBytes + dataBytes + Self.processBytes }

    public var description: String {
        "\(Self.format(totalBytes)) (parameters and gradients \(Self.format(parameterBytes)), optimizer state \(Self.format(optimizerBytes)), "
            + "activations \(Self.format(activationBytes)), data \(Self.format(dataBytes)))"
    }

    /// "12.3 MiB" / "4.56 GiB".
    public static func format(_ bytes: Double) -> String {
        bytes >= 1024 * 1024 * 1024 ? String(format: "%.2f GiB", bytes / (1024 * 1024 * 1024)) : String(format: "%.1f MiB", bytes / (1024 * 1024))
    }

    /// The estimate for a resolved config (``TrainConfig/resolved(defaultThreads:)``).
    public init(config: TrainConfig) {
        if let resNet = config.resNet { self.init(resNet: resNet, config: config) } else { self.init(transformerRun: config) }
    }

    /// A Transformer or ViT run (the fused engine).
    init(transformerRun config: TrainConfig) {
        let scalar = Double(config.precision.byteSize)
        let transformer = config.visionModel?.transformer ?? config.transformer
        var parameters = transformer.parameterCount
        var trainShape: (batch: Int, tokens: Int), evalShape: (batch: Int, tokens: Int)
        if let vision = config.visionModel {
            parameters += vision.embeddingParameterCount
            let batch = config.batchSize
            trainShape = (batch, vision.tokens)
            evalShape = (batch, vision.tokens)
            let shape = config.imageShape
            let pixels = Double(shape.channels * shape.height * shape.width)
            // Train + test images as bytes (the largest official sets: 60,000 + 10,000), and the
            // prefetched normalized batches (depth 2 + the one in use).
            dataBytes = 70_000 * pixels + 3 * Double(batch) * pixels * scalar
        } else {
            let tokens = config.examples + 1
            let batch = config.batchSize == 0 ? config.trainSize : config.batchSize
            trainShape = (batch, tokens)
            evalShape = (config.evalSize, tokens)
            let prompts = Double(config.trainSize + config.evalSize + batch)
            dataBytes = prompts * Double(tokens) * Double(transformer.dimension) * scalar
        }
        // Parameters, gradients and one transient copy (the packed copies are in the workspace).
        parameterBytes = 3 * parameters * scalar
        let moments: Double = switch config.optimizer { case .adamw: 2; case .sgd: 1; case .euler: 0 }
        optimizerBytes = moments * parameters * scalar
        // One workspace per engine, re-planned when the batch shape changes (the new one is built
        // while the old one still exists): regression evaluation with another batch size holds both
        // for a moment; image runs have a training and an evaluation engine.
        let train = FusedShape.workspaceScalars(transformer, batch: trainShape.batch, tokens: trainShape.tokens)
        let eval = FusedShape.workspaceScalars(transformer, batch: evalShape.batch, tokens: evalShape.tokens)
        activationBytes = (config.visionModel != nil || trainShape != evalShape ? train + eval : train) * scalar
    }

    /// A ResNet run (autodiff): per sample and layer the graph keeps the state, the pre-activations,
    /// the features and their product (D + 3M scalars), twice over for the backward pass.
    init(resNet: ResNetConfig, config: TrainConfig) {
        let scalar = Double(config.precision.byteSize)
        let parameters = resNet.parameterCount
        parameterBytes = 3 * parameters * scalar
        let moments: Double = switch config.optimizer { case .adamw: 2; case .sgd: 1; case .euler: 0 }
        optimizerBytes = moments * parameters * scalar
        let batch: Double
        if config.isImageTask {
            let shape = config.imageShape
            let pixels = Double(shape.channels * shape.height * shape.width)
            batch = Double(config.batchSize)
            dataBytes = 70_000 * pixels + 3 * batch * pixels * scalar
        } else {
            batch = Double(max(config.batchSize == 0 ? config.trainSize : config.batchSize, config.evalSize))
            dataBytes = Double(config.trainSize + config.evalSize) * Double(resNet.inputDimension + 1) * scalar
        }
        let perLayer = Double(resNet.hiddenDimension + 3 * resNet.units)
        activationBytes = 2 * batch * (Double(resNet.layers + 2) * perLayer + Double(resNet.inputDimension)) * scalar
    }

    /// Memory the run may use: `MEANFIELD_MEMORY_LIMIT` (bytes, or with a K/M/G suffix) when set,
    /// else the available memory (`MemAvailable` of /proc/meminfo on Linux, physical memory elsewhere).
    public static func availableBytes(environment: [String: String] = ProcessInfo.processInfo.environment) -> Double {
        if let text = environment["MEANFIELD_MEMORY_LIMIT"], let bytes = parseBytes(text) { return bytes }
        if let kibibytes = ProcessSetup.procKilobytes("MemAvailable:", file: "/proc/meminfo") {
            return kibibytes * 1024
        }
        return Double(ProcessInfo.processInfo.physicalMemory)
    }

    /// "2G", "512M", "1048576" → bytes.
    static func parseBytes(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024]
        if let last = trimmed.last, let unit = units[last] { return Double(trimmed.dropLast()).map { $0 * unit } }
        return Double(trimmed)
    }

    /// Throws a one-line error with the estimate and the limit when the run will not fit.
    public func check(limit: Double = MemoryEstimate.availableBytes()) throws {
        try Self.check(bytes: totalBytes, needs: "this config", parts: description,
                       fix: "lower --batch-size, --heads, --ffn-units, --layers or --token-dim", limit: limit)
    }

    /// Throws one line with the estimate and the limit when `bytes` (plus the process's own
    /// allowance) do not fit: "bench gemm at n = 100000 (…) needs about 111.76 GiB, more than the
    /// 21.6 GiB available; pass smaller --sizes (or set MEANFIELD_MEMORY_LIMIT if the limit is wrong)".
    /// Every command that allocates in proportion to its input checks this first.
    public static func check(bytes: Double, needs what: String, parts: String? = nil, fix: String,
                             limit: Double = MemoryEstimate.availableBytes()) throws {
        let total = parts == nil ? bytes + processBytes : bytes
        guard total <= limit else {
            throw RunError("\(what) needs about \(parts ?? format(total)), more than the \(format(limit)) available; "
                           + "\(fix) (or set MEANFIELD_MEMORY_LIMIT if the limit is wrong)")
        }
    }
}

extension TransformerConfig {
    /// Scalars of ``MeanFieldTransformer/initialParameters(seed:as:)`` by formula, without allocating:
    /// per layer M·2D² (merged) or M·4·D·d_h (factored) for the heads and M′·(2D + 1) for the units,
    /// plus C·(D + 1) for a classification readout.
    public var parameterCount: Double {
        let D = Double(dimension), M = Double(heads), units = Double(ffnUnits), width = Double(headDimension)
        let headScalars = attention == .merged ? M * 2 * D * D : M * 4 * D * width
        let unitScalars = ffnUnits > 0 ? units * (2 * D + 1) : 0
        let readoutScalars = readout.isClassification ? Double(classes) * (D + 1) : 0
        return Double(layers) * (headScalars + unitScalars) + readoutScalars
    }
}

extension VisionTransformerConfig {
    /// Scalars of the patch embedding (D·(p²c + 1)), the position embedding (D·n) and the class token.
    public var embeddingParameterCount: Double {
        let D = Double(dimension)
        return D * Double(patchSize + 1) + D * Double(tokens) + (classToken ? D : 0)
    }
}
