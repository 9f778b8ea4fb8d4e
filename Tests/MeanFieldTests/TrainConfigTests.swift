// Run configuration (Sources/MeanFieldTraining/Training/TrainConfig.swift, ConfigFile.swift): the same
// settings in TOML, JSON, YAML and flags resolve to the same config; bad keys and values fail in
// one line naming the key or flag and what is accepted.
import Foundation
import MeanField
import Testing

private let toml = """
# a run
heads = 6
ffn-units = 3
layers = 3
attention = "factored"
head_dim = 2
score = "linear"
pre-norm = true
lr = 0.005
weight-decay = 1e-3
optimizer = "sgd"
momentum = 0.8
schedule = "cosine"
epochs = 4
batch-size = 8
train-size = 40
seed = 11
noise = 0.1
init-std = 0.3
"""

private let json = """
{"heads": 6, "ffn-units": 3, "layers": 3, "attention": "factored", "head_dim": 2, "score": "linear",
 "pre-norm": true, "lr": 0.005, "weight-decay": 0.001, "optimizer": "sgd", "momentum": 0.8,
 "schedule": "cosine", "epochs": 4, "batch-size": 8, "train-size": 40, "seed": 11, "noise": 0.1, "init-std": 0.3}
"""

private let yaml = """
heads: 6
ffn-units: 3
layers: 3
attention: factored
head_dim: 2
score: linear
pre-norm: true
lr: 0.005
weight-decay: 1.0e-3
optimizer: sgd
momentum: 0.8
schedule: cosine
epochs: 4
batch-size: 8
train-size: 40
seed: 11
noise: 0.1
init-std: 0.3
"""

private func load(_ text: String, _ format: ConfigFile.Format) throws -> TrainConfig {
    var config = TrainConfig()
    try config.apply(ConfigFile.parse(Data(text.utf8), format: format, name: "run.\(format)"), source: { "run.\(format): key '\($0)'" })
    return try config.resolved(defaultThreads: 2)
}

/// The error message of `body`, which must throw a RunError.
private func message(_ body: () throws -> Void) -> String {
    do { try body() } catch let error as RunError { return error.description } catch { return "unexpected \(error)" }
    return "no error"
}

@Test func theThreeFileFormatsAndTheFlagsResolveToTheSameConfig() throws {
    let fromTOML = try load(toml, .toml), fromJSON = try load(json, .json), fromYAML = try load(yaml, .yaml)
    #expect(fromTOML == fromJSON)
    #expect(fromTOML == fromYAML)
    var fromFlags = TrainConfig()
    try fromFlags.apply([("heads", "6"), ("ffn-units", "3"), ("layers", "3"), ("attention", "factored"), ("head-dim", "2"),
                         ("score", "linear"), ("pre-norm", "true"), ("lr", "0.005"), ("weight-decay", "0.001"), ("optimizer", "sgd"),
                         ("momentum", "0.8"), ("schedule", "cosine"), ("epochs", "4"), ("batch-size", "8"), ("train-size", "40"),
                         ("seed", "11"), ("noise", "0.1"), ("init-std", "0.3")], source: { "--\($0)" })
    #expect(try fromFlags.resolved(defaultThreads: 2) == fromTOML)
    #expect(fromTOML.heads == 6 && fromTOML.attention == .factored && fromTOML.headDim == 2 && fromTOML.preNorm)
    #expect(fromTOML.steps == 20)  // 4 epochs × (40 / 8) steps
    #expect(fromTOML.transformer.dimension == 4 && fromTOML.transformer.scoreMap == .linear)
    // The resolved config.json is itself a config file giving the same config.
    #expect(try TrainConfig.fromJSON(fromTOML.jsonData(), name: "config.json").resolved(defaultThreads: 2) == fromTOML)
}

@Test func flagsOverrideTheFile() throws {
    var config = TrainConfig()
    try config.apply(ConfigFile.parse(Data(toml.utf8), format: .toml, name: "run.toml"), source: { "run.toml: key '\($0)'" })
    try config.apply([("heads", "2"), ("steps", "7")], source: { "--\($0)" })
    let resolved = try config.resolved(defaultThreads: 1)
    #expect(resolved.heads == 2 && resolved.steps == 7 && resolved.epochs == 0)  // --steps replaces the file's epochs
    #expect(resolved.layers == 3)
}

@Test func unknownKeysAndBadValuesFailInOneLine() throws {
    let unknown = message { _ = try load("heads = 4\nhedas = 5\n", .toml) }
    #expect(unknown.contains("run.toml") && unknown.contains("key 'hedas': unknown key"), "\(unknown)")
    let unknownJSON = message { _ = try load(#"{"learning-rate": 0.1}"#, .json) }
    #expect(unknownJSON.contains("'learning-rate'"), "\(unknownJSON)")
    let unknownYAML = message { _ = try load("optimiser: sgd\n", .yaml) }
    #expect(unknownYAML.contains("'optimiser'"), "\(unknownYAML)")

    var config = TrainConfig()
    let cases: [(String, String, String)] = [
        ("heads", "zero", "--heads: expected an integer ≥ 1"),
        ("heads", "0", "--heads: expected an integer ≥ 1"),
        ("attention", "fused", "--attention: expected one of merged, factored"),
        ("score", "sigmoid", "--score: expected one of softmax, linear, relu"),
        ("optimizer", "adam", "--optimizer: expected one of euler, sgd, adamw"),
        ("lr", "-1", "--lr: expected a number > 0"),
        ("lr", "nan", "--lr: expected a number > 0"),
        ("schedule", "linear", "--schedule: expected one of constant, cosine, warmup, step"),
        ("pre-norm", "maybe", "--pre-norm: expected true or false"),
        ("task", "imagenet", "--task: expected one of icl-regression, teacher-regression, fashion-mnist"),
        ("momentum", "1", "--momentum: expected a number in [0, 1)"),
        ("seed", "-3", "--seed: expected an integer"),
    ]
    for (key, value, expected) in cases {
        let text = message { try config.set(key, value, source: "--\(key)") }
        #expect(text.hasPrefix(expected), "\(key) \(value): \(text)")
        #expect(text.contains("'\(value)'") && !text.contains("\n"))
    }
    let nested = message { _ = try load("[model]\nheads = 3\n", .toml) }
    #expect(nested.contains("key 'model'") && nested.contains("single value"), "\(nested)")
    let notTOML = message { _ = try load("heads = = 3\n", .toml) }
    #expect(notTOML.contains("not valid TOML") && !notTOML.contains("\n"), "\(notTOML)")
    #expect(message { _ = try ConfigFile.format(of: "run.ini") }.contains(".toml, .json or .yaml"))
    // A key that is a list or a map (Yams traps on it when it builds the map; found by fuzzing).
    let listKey = message { _ = try load("heads: 2\n? [a, b]\n: 1\n", .yaml) }
    #expect(listKey == "run.yaml line 2: a YAML key is a map or a list; a config's keys are names (e.g. heads: 8)", "\(listKey)")
    #expect(message { _ = try load(" ?  ? ", .yaml) }.contains("a YAML key is a map or a list"))
    // YAML 1.1's base-60 integers: Yams multiplied them without an overflow check and trapped (found
    // by fuzzing). They stay text, so the key's parser refuses them; bases 16 and 8 still resolve.
    for (key, value) in [("examples", "923337203685477580:5"), ("heads", "1:30"), ("lr", "1:30.5")] {
        let base60 = message { _ = try load("\(key): \(value)\n", .yaml) }
        #expect(base60.hasPrefix("run.yaml: key '\(key)'") && base60.contains("'\(value)'") && !base60.contains("\n"), "\(base60)")
    }
    #expect(try load("heads: 0x10\ntoken-dim: 010\n", .yaml).heads == 16)
    #expect(try load("heads: 0x10\ntoken-dim: 010\n", .yaml).tokenDim == 8)
    // toml++ aborts on a table header without a key; a combining mark joined to '[' and a CRLF line
    // end hid the header from the check before toml++ (both found by fuzzing).
    for text in ["[\u{324}T", "heads = 2\r\n[,x]\r\n"] {
        let header = message { _ = try load(text, .toml) }
        #expect(header.contains("a table header needs a key after '['"), "\(header)")
    }
}

@Test func inconsistentKeysAreReportedByFlag() throws {
    var config = TrainConfig()
    config.batchSize = 100
    config.trainSize = 10
    #expect(message { _ = try config.resolved(defaultThreads: 1) }.contains("--batch-size 100 is larger than --train-size 10"))
    config = TrainConfig()
    config.trainSize = 0
    #expect(message { _ = try config.resolved(defaultThreads: 1) }.contains("--batch-size must be ≥ 1 with --train-size 0"))
    config = TrainConfig()
    config.tokenDim = 2
    #expect(message { _ = try config.resolved(defaultThreads: 1) }.contains("--token-dim"))
    config = TrainConfig()
    try config.apply([("steps", "10"), ("epochs", "3")], source: { "--\($0)" })
    #expect(message { _ = try config.resolved(defaultThreads: 1) }.contains("disagree"))
    config = TrainConfig()
    config.schedule = .warmup
    #expect(message { _ = try config.resolved(defaultThreads: 1) }.contains("--warmup-steps"))
}
