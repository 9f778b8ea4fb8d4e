// Every flag and config key is validated: a table of bad invocations through the real binary. Each
// must exit non-zero (1 for a value the library refuses, 64 for ArgumentParser's usage errors) with
// an "Error:" line that names the flag or config key (and for files, the line) and what is accepted.
// The binary: Support/MeanFieldBinary.swift.
import Foundation
import Testing

/// One bad invocation: its arguments, the exit status and the texts its error line must contain.
struct BadInvocation: CustomTestStringConvertible, Sendable {
    let arguments: [String]
    let status: Int32
    let mentions: [String]
    var testDescription: String { arguments.joined(separator: " ") }
}

/// Config files with one bad line each, written under a temporary folder before the table runs.
private let configFolder = NSTemporaryDirectory() + "meanfield-bad-configs-\(getpid())"
private let configFiles: [String: String] = [
    "zero-layers.toml": "heads = 4\nlayers = 0\n",
    "unknown-key.json": "{\n  \"heads\": 4,\n  \"colour\": \"red\"\n}\n",
    "negative-decay.yaml": "lr: 0.01\nweight_decay: -1\n",
    "list-value.toml": "heads = [1, 2]\n",
    "broken.toml": "heads = \n",
    "settings.ini": "heads = 4\n",
    "bad-task.yaml": "task: imagenet\n",
]

private func config(_ name: String) -> String { configFolder + "/" + name }

private let table: [BadInvocation] = [
    // Ranges of single values.
    .init(arguments: ["train", "--heads", "0"], status: 1, mentions: ["--heads", "integer ≥ 1", "'0'"]),
    .init(arguments: ["train", "--heads", "-3"], status: 1, mentions: ["--heads", "integer ≥ 1", "'-3'"]),
    .init(arguments: ["train", "--heads", "abc"], status: 1, mentions: ["--heads", "integer ≥ 1"]),
    .init(arguments: ["train", "--heads", "2.5"], status: 1, mentions: ["--heads", "integer ≥ 1"]),
    .init(arguments: ["train", "--layers", "0"], status: 1, mentions: ["--layers", "integer ≥ 1"]),
    .init(arguments: ["train", "--ffn-units", "-1"], status: 1, mentions: ["--ffn-units", "integer ≥ 0"]),
    .init(arguments: ["train", "--lr", "-1"], status: 1, mentions: ["--lr", "number > 0"]),
    .init(arguments: ["train", "--lr", "nan"], status: 1, mentions: ["--lr", "number > 0"]),
    .init(arguments: ["train", "--lr", "inf"], status: 1, mentions: ["--lr", "number > 0"]),
    .init(arguments: ["train", "--weight-decay", "-0.1"], status: 1, mentions: ["--weight-decay", "number ≥ 0"]),
    .init(arguments: ["train", "--task", "synthetic-images", "--ordinary-lr-scale", "0"], status: 1, mentions: ["--ordinary-lr-scale", "number > 0"]),
    .init(arguments: ["train", "--ordinary-lr-scale", "2"], status: 1, mentions: ["--ordinary-lr-scale", "no effect"]),
    .init(arguments: ["train", "--steps", "-5"], status: 1, mentions: ["--steps", "integer ≥ 1"]),
    .init(arguments: ["train", "--batch-size", "-1"], status: 1, mentions: ["--batch-size", "integer ≥ 0"]),
    .init(arguments: ["train", "--threads", "0"], status: 1, mentions: ["--threads", "integer"]),
    .init(arguments: ["train", "--threads", "100000"], status: 1, mentions: ["--threads", "1...1024"]),
    .init(arguments: ["train", "--momentum", "1.5", "--optimizer", "sgd"], status: 1, mentions: ["--momentum", "[0, 1)"]),
    .init(arguments: ["train", "--beta1", "1"], status: 1, mentions: ["--beta1", "[0, 1)"]),
    .init(arguments: ["train", "--epsilon", "0"], status: 1, mentions: ["--epsilon", "number > 0"]),
    .init(arguments: ["train", "--temperature", "0"], status: 1, mentions: ["--temperature", "number > 0"]),
    .init(arguments: ["train", "--init-std", "-1"], status: 1, mentions: ["--init-std", "auto"]),
    .init(arguments: ["train", "--residual-exponent", "0"], status: 1, mentions: ["--residual-exponent", "> 0"]),
    .init(arguments: ["train", "--decay-factor", "2", "--schedule", "step"], status: 1, mentions: ["--decay-factor", "(0, 1]"]),
    .init(arguments: ["train", "--checkpoint-every", "-1"], status: 1, mentions: ["--checkpoint-every", "integer ≥ 0"]),
    .init(arguments: ["train", "--log-every", "-1"], status: 1, mentions: ["--log-every", "integer ≥ 0"]),
    .init(arguments: ["train", "--log-every-epochs", "x"], status: 1, mentions: ["--log-every-epochs", "integer ≥ 0"]),
    .init(arguments: ["train", "--train-size", "0", "--batch-size", "4", "--checkpoint-every-epochs", "2"], status: 1, mentions: ["--checkpoint-every-epochs", "--train-size 0"]),
    .init(arguments: ["train", "--seed", "-1"], status: 1, mentions: ["--seed", "integer in 0..."]),
    .init(arguments: ["train", "--noise", "-1"], status: 1, mentions: ["--noise", "number ≥ 0"]),
    .init(arguments: ["train", "--examples", "0"], status: 1, mentions: ["--examples", "integer ≥ 1"]),
    .init(arguments: ["train", "--eval-size", "0"], status: 1, mentions: ["--eval-size", "integer ≥ 1"]),
    .init(arguments: ["train", "--warmup-steps", "-2"], status: 1, mentions: ["--warmup-steps", "integer ≥ 0"]),
    // Choices.
    .init(arguments: ["train", "--score", "softplus"], status: 1, mentions: ["--score", "softmax, linear, relu"]),
    .init(arguments: ["train", "--activation", "foo"], status: 1, mentions: ["--activation", "relu, gelu"]),
    .init(arguments: ["train", "--optimizer", "lbfgs"], status: 1, mentions: ["--optimizer", "euler, sgd, adamw"]),
    .init(arguments: ["train", "--schedule", "exp"], status: 1, mentions: ["--schedule", "cosine"]),
    .init(arguments: ["train", "--attention", "sparse"], status: 1, mentions: ["--attention", "merged, factored"]),
    .init(arguments: ["train", "--engine", "gpu"], status: 1, mentions: ["--engine", "fused, autodiff"]),
    .init(arguments: ["train", "--task", "imagenet"], status: 1, mentions: ["--task", "fashion-mnist"]),
    // Combinations that do not make sense.
    .init(arguments: ["train", "--token-dim", "2", "--input-dim", "3"], status: 1, mentions: ["--token-dim", "--input-dim"]),
    .init(arguments: ["train", "--head-dim", "3", "--token-dim", "8"], status: 1, mentions: ["--head-dim", "--attention factored"]),
    .init(arguments: ["train", "--ffn-units", "0", "--activation", "gelu"], status: 1, mentions: ["--activation", "--ffn-units"]),
    .init(arguments: ["train", "--optimizer", "euler", "--momentum", "0.5"], status: 1, mentions: ["--momentum", "--optimizer sgd"]),
    .init(arguments: ["train", "--optimizer", "sgd", "--beta2", "0.9"], status: 1, mentions: ["--beta2", "--optimizer adamw"]),
    .init(arguments: ["train", "--min-lr", "0.001"], status: 1, mentions: ["--min-lr", "--schedule cosine"]),
    .init(arguments: ["train", "--schedule", "cosine", "--min-lr", "0.5", "--lr", "0.1"], status: 1, mentions: ["--min-lr", "below --lr"]),
    .init(arguments: ["train", "--decay-every", "5"], status: 1, mentions: ["--decay-every", "--schedule step"]),
    .init(arguments: ["train", "--warmup-steps", "500", "--steps", "10"], status: 1, mentions: ["--warmup-steps", "--steps"]),
    .init(arguments: ["train", "--schedule", "warmup"], status: 1, mentions: ["--schedule warmup", "--warmup-steps"]),
    .init(arguments: ["train", "--batch-size", "50", "--train-size", "16"], status: 1, mentions: ["--batch-size", "--train-size"]),
    .init(arguments: ["train", "--train-size", "0", "--epochs", "3"], status: 1, mentions: ["--batch-size", "--train-size 0"]),
    .init(arguments: ["train", "--steps", "10", "--epochs", "2", "--train-size", "16", "--batch-size", "4"], status: 1, mentions: ["--steps", "--epochs"]),
    .init(arguments: ["train", "--subset", "5"], status: 1, mentions: ["--subset", "image tasks"]),
    .init(arguments: ["train", "--augment"], status: 1, mentions: ["--augment", "image tasks"]),
    .init(arguments: ["train", "--task", "synthetic-images", "--steps", "10"], status: 1, mentions: ["--steps", "--epochs"]),
    .init(arguments: ["train", "--task", "synthetic-images", "--patch", "3"], status: 1, mentions: ["--patch 3", "divisor"]),
    .init(arguments: ["train", "--task", "synthetic-images", "--batch-size", "100000"], status: 1, mentions: ["--batch-size", "at most"]),
    .init(arguments: ["train", "--task", "fashion-mnist", "--data", "/nonexistent-data"], status: 1, mentions: ["/nonexistent-data", "--data"]),
    .init(arguments: ["train", "--task", "cifar10"], status: 1, mentions: ["CIFAR-10", "--data DIR"]),
    .init(arguments: ["train", "--resume", "/nonexistent-run"], status: 1, mentions: ["--resume", "config.json"]),
    // ResNets: Transformer and ResNet keys kept apart.
    .init(arguments: ["train", "--model", "mlp"], status: 1, mentions: ["--model", "transformer, resnet, rff-resnet"]),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--heads", "3"], status: 1, mentions: ["--heads", "--model transformer"]),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--units", "0"], status: 1, mentions: ["--units", "integer ≥ 1"]),
    .init(arguments: ["train", "--model", "resnet"], status: 1, mentions: ["--model resnet", "teacher-regression", "icl-regression"]),
    .init(arguments: ["train", "--task", "teacher-regression"], status: 1, mentions: ["--task teacher-regression", "--model resnet"]),
    .init(arguments: ["train", "--units", "8"], status: 1, mentions: ["--units", "--model resnet"]),
    .init(arguments: ["train", "--model", "rff-resnet", "--task", "teacher-regression", "--activation", "tanh"], status: 1, mentions: ["--activation", "--feature-map"]),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--feature-map", "relu"], status: 1, mentions: ["--feature-map", "rff-resnet"]),
    .init(arguments: ["train", "--model", "resnet", "--task", "synthetic-images", "--ntk-every", "5"], status: 1, mentions: ["--ntk-every", "teacher-regression"]),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--epochs", "3"], status: 1, mentions: ["--epochs", "--steps"]),
    .init(arguments: ["train", "--model", "resnet", "--task", "teacher-regression", "--train-size", "5000"], status: 1, mentions: ["--ntk-every", "--train-size ≤ 1000"]),
    .init(arguments: ["rff-kernel", "--points", "1"], status: 1, mentions: ["--points", "2…2000"]),
    .init(arguments: ["rff-kernel", "--features", "10,x"], status: 1, mentions: ["--features", "'x'"]),
    .init(arguments: ["rff-kernel", "--feature-map", "tanh"], status: 1, mentions: ["--feature-map", "cos or relu"]),
    // Config files: the file, the line and the key.
    .init(arguments: ["train", "--config", config("zero-layers.toml")], status: 1, mentions: ["zero-layers.toml line 2", "'layers'", "integer ≥ 1"]),
    .init(arguments: ["train", "--config", config("unknown-key.json")], status: 1, mentions: ["unknown-key.json line 3", "'colour'", "unknown key", "known keys"]),
    .init(arguments: ["train", "--config", config("negative-decay.yaml")], status: 1, mentions: ["negative-decay.yaml line 2", "'weight_decay'", "≥ 0"]),
    .init(arguments: ["train", "--config", config("list-value.toml")], status: 1, mentions: ["list-value.toml", "'heads'", "single value"]),
    .init(arguments: ["train", "--config", config("broken.toml")], status: 1, mentions: ["broken.toml", "not valid TOML", "line 1"]),
    .init(arguments: ["train", "--config", config("settings.ini")], status: 1, mentions: ["settings.ini", ".toml, .json or .yaml"]),
    .init(arguments: ["train", "--config", config("bad-task.yaml")], status: 1, mentions: ["bad-task.yaml line 1", "'task'", "fashion-mnist"]),
    .init(arguments: ["train", "--config", "/nonexistent.toml"], status: 1, mentions: ["/nonexistent.toml", "cannot read"]),
    // Usage errors from the parser.
    .init(arguments: ["train", "--heads"], status: 64, mentions: ["--heads", "Missing value"]),
    .init(arguments: ["train", "--unknown-flag", "3"], status: 64, mentions: ["--unknown-flag"]),
    .init(arguments: ["frobnicate"], status: 64, mentions: ["frobnicate"]),
    .init(arguments: ["report"], status: 64, mentions: ["<directory>"]),
    // Other commands.
    .init(arguments: ["report", "/nonexistent-run"], status: 1, mentions: ["/nonexistent-run", "no such directory"]),
    .init(arguments: ["diagnose", "/nonexistent-run"], status: 1, mentions: ["/nonexistent-run", "no such directory"]),
    .init(arguments: ["sweep"], status: 1, mentions: ["--out", "required"]),
    .init(arguments: ["sweep", "--out", configFolder + "/sweep", "--heads", "0,2"], status: 1, mentions: ["--heads", "integer ≥ 1"]),
    .init(arguments: ["sweep", "--out", configFolder + "/sweep2", "--grid", "/nonexistent.toml"], status: 1, mentions: ["--grid", "cannot read"]),
    .init(arguments: ["demo", "--steps", "0"], status: 64, mentions: ["--steps", "≥ 1"]),
]

@Suite(.enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct BadInvocationTests {
    init() throws {
        try FileManager.default.createDirectory(atPath: configFolder, withIntermediateDirectories: true)
        for (name, text) in configFiles { try text.write(toFile: config(name), atomically: true, encoding: .utf8) }
    }

    @Test func theTableHasAtLeastFortyEntries() {
        #expect(table.count >= 40)
    }

    @Test(arguments: table)
    func badInvocationFailsWithOneLineNamingTheProblem(_ invocation: BadInvocation) throws {
        // Each runs in a fresh folder so that nothing it might write lands in the repository.
        var arguments = invocation.arguments
        if arguments.first == "train" && !arguments.contains("--resume") { arguments.insert(contentsOf: ["--out", configFolder + "/unused-run"], at: 1) }
        let result = try meanfield(arguments)
        #expect(result.status == invocation.status, "\(result.output)")
        let errorLines = result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(errorLines.count == 1, "expected one Error: line, got \(result.output)")
        let line = errorLines.first.map(String.init) ?? ""
        for text in invocation.mentions { #expect(line.contains(text), "'\(text)' missing from: \(line)") }
        #expect(!FileManager.default.fileExists(atPath: configFolder + "/unused-run/checkpoints"), "a bad invocation started training")
    }
}
