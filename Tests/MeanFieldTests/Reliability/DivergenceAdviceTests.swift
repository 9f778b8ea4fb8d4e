// Divergence messages name the likely cause from the run's data (Divergence.advice): real runs that
// go non-finite at initialization, after loading a checkpoint, with β₂ that rounds to 1 in float32
// and with a weight decay beyond 2/η; only a growth after updates suggests lowering --lr.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func runFolder(_ name: String) -> String {
    NSTemporaryDirectory() + "meanfield-divergence-\(getpid())-\(name)"
}

/// Trains `config` (fused engine, Float) into `path` and returns the divergence message.
private func divergenceMessage(_ config: TrainConfig, into path: String, resume: Bool = false) throws -> String {
    let resolved = try config.resolved(defaultThreads: 1)
    var trainer = Trainer(config: resolved, engine: AnyTransformerEngine<Float>(config: resolved.transformer, kind: .fused))
    trainer.showProgress = false
    do {
        _ = try trainer.run(directory: path, resume: resume)
    } catch let error as RunError {
        return error.description
    }
    Issue.record("the run did not diverge")
    return ""
}

private func small() -> TrainConfig {
    var config = TrainConfig()
    (config.optimizer, config.steps, config.logEvery, config.checkpointEvery) = (.euler, 20, 1, 1)
    return config
}

@Test func nonFiniteAtInitializationPointsAtTheInitializationNotTheStepSize() throws {
    var config = small()
    config.initStd = 1e30  // the first forward pass overflows Float
    let path = runFolder("init")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let message = try divergenceMessage(config, into: path)
    #expect(message.hasPrefix("step 0: "), "\(message)")
    #expect(message.contains("at initialization, before any update") && message.contains("--init-std (now 1e+30)")
            && message.contains("--temperature") && message.contains("--noise"), "\(message)")
    #expect(!message.contains("--lr") && !message.contains("last good checkpoint"), "\(message)")
}

@Test func beta2ThatRoundsToOneInFloatIsNamed() throws {
    var config = small()
    (config.optimizer, config.beta2, config.lr) = (.adamw, 0.99999999, 0.02)
    #expect(Float(config.beta2) == 1)
    let path = runFolder("beta2")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let message = try divergenceMessage(config, into: path)
    #expect(message.contains("--beta2 0.99999999 rounds to 1 in float32") && message.contains("--precision float64"), "\(message)")
    #expect(message.contains("the last good checkpoint is ") && !message.contains("lower --lr"), "\(message)")
}

@Test func aWeightDecayBeyondTwoOverEtaIsNamedWithItsBound() throws {
    var config = small()
    (config.lr, config.weightDecay) = (0.1, 100)  // ηλ = 10: each step multiplies θ by −9
    let path = runFolder("decay")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let message = try divergenceMessage(config, into: path)
    #expect(message.contains("--weight-decay 100 is too large for --lr 0.1") && message.contains("1 − ηλ = -9")
            && message.contains("below 2/η = 20"), "\(message)")
    #expect(!message.contains("lower --lr"), "\(message)")
}

@Test func aNonFiniteCheckpointIsBlamedAndNotCalledGood() throws {
    var config = small()
    config.steps = 3
    let path = runFolder("checkpoint")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let resolved = try config.resolved(defaultThreads: 1)
    var trainer = Trainer(config: resolved, engine: AnyTransformerEngine<Float>(config: resolved.transformer, kind: .fused))
    trainer.showProgress = false
    _ = try trainer.run(directory: path)
    // The newest checkpoint, rewritten through the real writer with one parameter made NaN.
    let latest = try #require(TrainingCheckpoint<Float>.latest(in: path + "/checkpoints"))
    var checkpoint = try TrainingCheckpoint<Float>.read(path: latest.path)
    let name = checkpoint.parameters.names[0]
    var tensor = checkpoint.parameters[name]
    tensor.withUnsafeMutableBufferPointer { $0[0] = .nan }
    checkpoint.parameters[name] = tensor
    try checkpoint.write(to: latest.path, optimizerTensors: [])

    config.steps = 6
    let message = try divergenceMessage(config, into: path, resume: true)
    #expect(message.hasPrefix("step 3: parameter "), "\(message)")
    #expect(message.contains("read from \(latest.path), before any update") && message.contains("is not a good one"), "\(message)")
    #expect(!message.contains("last good checkpoint") && !message.contains("--lr"), "\(message)")
}
