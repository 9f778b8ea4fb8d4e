// The one table of train keys (Sources/MeanField/Training/TrainKeys.swift): every TrainConfig key
// is declared there once, and the defaults, --help, applicability, the resume rule, config.json
// decoding and the sweep's run checks all read it.
import Foundation
import MeanField
import Testing

/// The message of `body`'s RunError (or another error's description), "no error" when it returns.
private func message(_ body: () throws -> Void) -> String {
    do { try body() } catch let error as RunError { return error.description } catch { return "\(error)" }
    return "no error"
}

/// The documented defaults of each task and model family: the keys that differ from the plain
/// `TrainConfig()` (the in-context regression Transformer). These are the values the hand-written
/// presets had before the table (ImageTaskConfig.imageDefaults, ResNetTaskConfig.resNetDefaults),
/// with the image cadence moved to the epoch keys.
private let families: [(task: String, model: ModelKind, differences: [String: String])] = {
    // Image tasks train with AdamW; the ViT with the full-set recipe (docs/experiments.md, E4).
    let imageCadence = ["log-every": "0", "log-every-epochs": "1", "checkpoint-every": "0", "checkpoint-every-epochs": "1", "optimizer": "adamw"]
    let recipe = ["lr": "0.002", "residual-exponent": "0.5", "ordinary-lr-scale": "8.0", "epochs": "20"]
    let teacher = ["layers": "10", "input-dim": "10", "train-size": "50", "eval-size": "500", "lr": "0.05",
                   "steps": "4000", "log-every": "40", "ntk-every": "200"]
    return [
        ("icl-regression", .transformer, [:]),
        ("fashion-mnist", .transformer, ["token-dim": "64", "heads": "8", "attention": "factored", "head-dim": "16", "ffn-units": "256",
                                         "layers": "6", "pre-norm": "true", "schedule": "cosine", "batch-size": "64",
                                         "patch": "7"].merging(imageCadence) { $1 }.merging(recipe) { $1 }),
        ("cifar-100", .transformer, ["token-dim": "64", "heads": "8", "attention": "factored", "head-dim": "16", "ffn-units": "256",
                                     "layers": "6", "pre-norm": "true", "schedule": "cosine", "batch-size": "64"]
            .merging(imageCadence) { $1 }.merging(recipe) { $1 }),
        ("synthetic-images", .transformer, ["token-dim": "16", "attention": "factored", "head-dim": "8", "ffn-units": "32", "pre-norm": "true",
                                            "lr": "0.01", "batch-size": "20", "epochs": "10"].merging(imageCadence) { $1 }),
        ("mnist", .resnet, ["hidden-dim": "64", "units": "64", "layers": "10", "lr": "0.001", "schedule": "cosine", "batch-size": "128",
                            "epochs": "5"].merging(imageCadence) { $1 }),
        ("synthetic-images", .rffResnet, ["hidden-dim": "16", "units": "16", "layers": "4", "lr": "0.001", "batch-size": "20",
                                          "epochs": "5"].merging(imageCadence) { $1 }),
        (TrainConfig.teacherRegressionTask, .resnet, teacher.merging(["activation": "tanh"]) { $1 }),
        (TrainConfig.teacherRegressionTask, .rffResnet, teacher),
    ]
}()

/// Another valid text for `key` than `current` (for changing each key of a saved config in turn).
private func otherValue(_ key: TrainKey, current: String) -> String {
    let candidates: [String]
    switch key.kind {
    case .integer(let minimum, _): candidates = [String((Int(current) ?? minimum) + 1), String(minimum + 2)]
    case .number: candidates = ["0.5", "0.25", "2"]
    case .choice(let names): candidates = names
    case .flag: candidates = ["true", "false"]
    case .text: candidates = ["/elsewhere"]
    case .seed: candidates = [String((UInt64(current) ?? 0) + 1)]
    case .keyValues: candidates = ["momentum=0.5", "beta1=0.95"]
    }
    return candidates.first { candidate in
        var probe = TrainConfig()
        return (try? probe.set(key.name, candidate, source: "test")) != nil && key.text(in: probe) != current
    }!
}

@Suite struct TrainKeyTableTests {
    @Test func everyCodingKeyHasExactlyOneTableEntryAndViceVersa() throws {
        #expect(Set(TrainKeys.names).count == TrainKeys.names.count, "a key is declared twice")
        #expect(Set(TrainConfig.codingKeys).count == TrainConfig.codingKeys.count)
        #expect(Set(TrainKeys.names) == Set(TrainConfig.codingKeys),
                "only in the table: \(Set(TrainKeys.names).subtracting(TrainConfig.codingKeys)); only coding keys: \(Set(TrainConfig.codingKeys).subtracting(TrainKeys.names))")
        // config.json holds the table's keys, in snake_case (an automatic value not yet resolved, nil, is left out).
        let object = try JSONSerialization.jsonObject(with: TrainConfig().jsonData()) as! [String: Any]
        let keys = object.keys.map { $0.replacingOccurrences(of: "_", with: "-") }
        #expect(Set(keys).isSubset(of: TrainKeys.names))
        for name in Set(TrainKeys.names).subtracting(keys) { #expect(TrainKeys[name]?.auto != nil && TrainConfig().text(of: name) == "auto", "\(name)") }
        for name in TrainKeys.names {
            #expect(TrainKeys[name]?.name == name)
            #expect(TrainKeys[name.replacingOccurrences(of: "-", with: "_")]?.name == name)
        }
    }

    @Test func tableDefaultsAreWhatTheDefaultConfigOfEachFamilyHolds() throws {
        let plain = TrainConfig()
        for key in TrainKeys.all {
            #expect(key.defaultValue == plain.text(of: key.name), "\(key.name)")
            // Every default text parses and reads back as itself (the table's texts are canonical).
            for text in [key.defaultValue] + key.scopedDefaults.map(\.text) {
                var probe = TrainConfig()
                try probe.set(key.name, text, source: "table default of \(key.name)")
                #expect(key.text(in: probe) == text, "\(key.name): default '\(text)' reads back as '\(key.text(in: probe))'")
            }
        }
        for (task, model, differences) in families {
            let defaults = TrainConfig.defaults(task: task, model: model)
            for key in TrainKeys.all where key.name != "task" && key.name != "model" {
                let expected = differences[key.name] ?? key.defaultValue
                #expect(defaults.text(of: key.name) == expected, "\(task) \(model.rawValue): \(key.name) = \(defaults.text(of: key.name) ?? "?"), expected \(expected)")
                #expect(TrainKeys.defaultText(key.name, task: task, model: model) == expected)
            }
            #expect(defaults.task == task && defaults.model == model)
            // A family's defaults are a valid run: none of them trips an applicability check.
            #expect(message { _ = try defaults.resolved(defaultThreads: 1) } == "no error", "\(task) \(model.rawValue)")
        }
        #expect(TrainConfig.imageDefaults(task: "mnist") == TrainConfig.defaults(task: "mnist", model: .transformer))
        #expect(TrainConfig.resNetDefaults(task: "mnist", model: .resnet) == TrainConfig.defaults(task: "mnist", model: .resnet))
    }

    @Test func theHelpTextListsEveryKeyWithItsDefaults() {
        let help = TrainKeys.helpText()
        for key in TrainKeys.all {
            let flag: String
            if case .flag = key.kind { flag = "--\(key.name), --no-\(key.name)" } else { flag = "--\(key.name) <" }
            #expect(help.contains(flag), "--help lacks \(key.name)")
        }
        for group in TrainKeyGroup.allCases { #expect(help.contains("\n\(group.rawValue):\n")) }
        let words = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("(default 0.1; image tasks 0.002, synthetic-images 0.01, ResNets on images 0.001, teacher-regression 0.05)"), "\(words)")
        #expect(words.contains("(default 0; image tasks 1)"))
        #expect(!help.split(separator: "\n").contains { $0.count > 80 })
    }

    @Test func theResumeRuleAcceptsExactlyTheChangeableKeys() throws {
        #expect(Set(TrainKeys.changeableOnResume) == ["steps", "epochs", "threads", "log-every", "log-every-epochs", "checkpoint-every", "checkpoint-every-epochs",
                                                      "tensorboard", "distributed"])
        for (task, model, _) in [("icl-regression", ModelKind.transformer, ""), ("synthetic-images", .transformer, ""), (TrainConfig.teacherRegressionTask, .resnet, "")] {
            let saved = try TrainConfig.defaults(task: task, model: model).resolved(defaultThreads: 1)
            for key in TrainKeys.all {
                var changed = saved
                try changed.set(key.name, otherValue(key, current: key.text(in: saved)), source: "test")
                let refusal = message { try TrainConfig.checkResumable(saved, as: changed, path: "run/checkpoints/x") }
                if key.changeableOnResume {
                    #expect(refusal == "no error", "\(key.name): \(refusal)")
                } else {
                    #expect(refusal.hasPrefix("run/checkpoints/x was written by a run with another config (\(key.name));"), "\(key.name): \(refusal)")
                }
            }
        }
    }

    @Test func resumingRefusesEveryFlagThatMayNotChange() throws {
        let folder = NSTemporaryDirectory() + "meanfield-keytable-resume-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let saved = try TrainConfig().resolved(defaultThreads: 1)
        try saved.jsonData().write(to: URL(fileURLWithPath: folder + "/config.json"))
        for key in TrainKeys.all {
            let value = otherValue(key, current: key.text(in: saved))
            let invocation = TrainInvocation(settings: [(key.name, value)], resume: folder)
            let result = message { _ = try invocation.resolve(defaultThreads: 1) }
            if key.changeableOnResume {
                #expect(result == "no error" || !result.contains("cannot change when resuming"), "\(key.name) \(value): \(result)")
            } else {
                #expect(result.hasPrefix("--\(key.name) cannot change when resuming"), "\(key.name): \(result)")
            }
        }
        // The sweep resumes a run with exactly its changeable flags (the threads are the runner's).
        let flags = TrainKeys.names.map { SweepFlag($0, "1") }
        let arguments = SweepRunner.resumeArguments(flags: flags, directory: "d", threads: "2")
        let given = arguments.filter { $0.hasPrefix("--") }.map { String($0.dropFirst(2)) }
        #expect(given == ["resume"] + TrainKeys.changeableOnResume.filter { $0 != "threads" } + ["threads"])
    }

    @Test func keysThatDoNotApplyAreRefusedNamingTheKey() throws {
        func refusal(_ settings: [(String, String)]) -> String {
            message { _ = try TrainInvocation(settings: settings.map { (key: $0.0, text: $0.1) }).resolve(defaultThreads: 1) }
        }
        for key in TrainKeys.all where key.name != "task" && key.name != "model" {
            for (task, model, _) in families where !key.appliesTo.contains(task: task, model: model) {
                let current = TrainConfig.defaults(task: task, model: model).text(of: key.name)!
                let text = refusal([("task", task), ("model", model.rawValue), (key.name, otherValue(key, current: current))])
                #expect(text.hasPrefix("--\(key.name) has no effect on "), "\(key.name) on \(task) \(model.rawValue): \(text)")
                #expect(TrainKeys.applies(key.name, task: task, model: model) == false)
            }
        }
        // The epoch keys need epochs: refused with fresh prompts (train-size 0), taken with a fixed set.
        for name in ["log-every-epochs", "checkpoint-every-epochs"] {
            let text = refusal([("train-size", "0"), ("batch-size", "4"), (name, "2")])
            #expect(text.hasPrefix("--\(name) needs epochs") && text.contains("--train-size 0"), "\(text)")
            #expect(refusal([("train-size", "16"), (name, "2")]) == "no error")
            #expect(refusal([("task", "teacher-regression"), ("model", "resnet"), (name, "2")]) == "no error")
        }
        #expect(refusal([("optimizer", "adamw"), ("momentum", "0.5")]).hasPrefix("--momentum applies to --optimizer sgd (this run uses adamw)"))
        #expect(refusal([("log-every", "0"), ("checkpoint-every", "0")]) == "no error")
    }

    @Test func anOldImageConfigCountedTheCadenceInEpochs() throws {
        // config.json of an image run written before the epoch keys: log-every/checkpoint-every were epochs.
        // (Written in kebab-case keys then, as run format 1 did.)
        func kebabCase(_ object: Any) -> [String: Any] {
            Dictionary(uniqueKeysWithValues: (object as! [String: Any]).map { ($0.key.replacingOccurrences(of: "_", with: "-"), $0.value) })
        }
        var old = kebabCase(try JSONSerialization.jsonObject(with: TrainConfig.imageDefaults(task: "synthetic-images").resolved(defaultThreads: 1).jsonData()))
        for key in ["log-every-epochs", "checkpoint-every-epochs"] { old[key] = nil }
        old["log-every"] = 2
        old["checkpoint-every"] = 3
        let data = try JSONSerialization.data(withJSONObject: old)
        for config in [try TrainConfig.fromJSON(data, name: "config.json"), try JSONDecoder().decode(TrainConfig.self, from: data)] {
            #expect(config.logEveryEpochs == 2 && config.logEvery == 0, "\(config.logEvery) \(config.logEveryEpochs)")
            #expect(config.checkpointEveryEpochs == 3 && config.checkpointEvery == 0)
        }
        // A regression run's old config.json keeps its step cadence, and missing keys keep their defaults.
        var regression = kebabCase(try JSONSerialization.jsonObject(with: TrainConfig().resolved(defaultThreads: 1).jsonData()))
        for key in ["log-every-epochs", "checkpoint-every-epochs"] { regression[key] = nil }
        regression["log-every"] = 7
        let decoded = try JSONDecoder().decode(TrainConfig.self, from: JSONSerialization.data(withJSONObject: regression))
        #expect(decoded.logEvery == 7 && decoded.logEveryEpochs == 0)
        #expect(try JSONDecoder().decode(TrainConfig.self, from: Data("{}".utf8)) == TrainConfig())
        // A new config.json round-trips.
        let current = try TrainConfig.imageDefaults(task: "synthetic-images").resolved(defaultThreads: 1)
        #expect(try TrainConfig.fromJSON(current.jsonData(), name: "config.json") == current)
        #expect(try JSONDecoder().decode(TrainConfig.self, from: current.jsonData()) == current)
    }

    @Test func theCadenceCountsStepsAndEpochs() {
        var config = TrainConfig()
        (config.logEvery, config.logEveryEpochs) = (0, 2)
        #expect((0...12).filter { config.logDue(step: $0, lastStep: 11, stepsPerEpoch: 3) } == [0, 6, 11, 12])
        (config.logEvery, config.logEveryEpochs) = (4, 0)
        #expect((0...10).filter { config.logDue(step: $0, lastStep: 10, stepsPerEpoch: nil) } == [0, 4, 8, 10])
        (config.checkpointEvery, config.checkpointEveryEpochs) = (0, 0)
        #expect((0...10).filter { config.checkpointDue(step: $0, lastStep: 10, stepsPerEpoch: 5) } == [10])
        (config.checkpointEvery, config.checkpointEveryEpochs) = (4, 1)
        #expect((0...10).filter { config.checkpointDue(step: $0, lastStep: 10, stepsPerEpoch: 5) } == [0, 4, 5, 8, 10])
    }

    @Test func theCommandLineIsReadThroughTheTable() throws {
        let invocation = try TrainInvocation.parse(["--heads", "3", "--lr=-1", "--pre-norm", "--no-augment", "--weight_decay", "0.1",
                                                    "--out", "o", "--config", "c.toml", "--resume", "r"])
        #expect(invocation.settings.map { "\($0.key)=\($0.text)" } == ["heads=3", "lr=-1", "pre-norm=true", "augment=false", "weight-decay=0.1"])
        #expect(invocation.out == "o" && invocation.config == "c.toml" && invocation.resume == "r")
        for (arguments, expected) in [(["--heads"], "Missing value for '--heads <n>'"), (["--hedas", "2"], "Unknown option '--hedas'; did you mean --heads?"),
                                      (["heads"], "Unexpected argument 'heads'"), (["--no-pre-norm=true"], "--no-pre-norm takes no value")] {
            let error = #expect(throws: TrainInvocation.UsageError.self) { try TrainInvocation.parse(arguments) }
            #expect(error?.description.hasPrefix(expected) == true, "\(error?.description ?? "")")
        }
        // The image defaults follow --task (and a file's task), then the flags override them.
        let image = try TrainInvocation(settings: [("task", "synthetic-images"), ("epochs", "2")]).resolve(defaultThreads: 1)
        #expect(image.heads == 4 && image.tokenDim == 16 && image.epochs == 2 && image.logEveryEpochs == 1 && image.threads == 1)
    }

    @Test func theSweepChecksEveryRunThroughTheLibrary() throws {
        let grid = try SweepGrid.make(arguments: ["--heads", "1,2", "--batch-size", "9", "--train-size", "8"])
        let runner = SweepRunner(manifest: SweepManifest(grid: grid), directory: NSTemporaryDirectory() + "unused-sweep", executable: "/bin/false",
                                 threadsPerRun: 1, parallel: 1)
        let text = message { try runner.checkRuns() }
        #expect(text.hasPrefix("run heads-1: --batch-size 9 is larger than --train-size 8"), "\(text)")
        let good = try SweepGrid.make(arguments: ["--heads", "1,2", "--task", "synthetic-images", "--epochs", "1"])
        #expect(message { try SweepRunner(manifest: SweepManifest(grid: good), directory: "x", executable: "/bin/false", threadsPerRun: 1, parallel: 1).checkRuns() } == "no error")
        #expect(SweepGrid.booleanFlags == ["pre-norm", "class-token", "augment", "tensorboard"])
    }
}
