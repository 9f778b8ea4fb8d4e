import Foundation
import MeanFieldModels

/// The one table of `meanfield train` keys. Each key is declared here once: its name (the flag
/// `--name` and the config-file key), its kind of value, its default (per task and model where they
/// differ), its help text, the tasks and models it applies to, and whether it may change on
/// `--resume`. ``TrainConfig`` keeps one typed property per key for the code; everything else reads
/// this table: parsing a flag or a config-file value (``TrainConfig/set(_:_:source:)``), the
/// defaults (``TrainConfig/defaults(task:model:)``), `meanfield train --help` (``TrainKeys/helpText``),
/// the applicability checks of ``TrainConfig/resolved(defaultThreads:)``, the resume rule
/// (``TrainConfig/checkResumable(_:as:path:)``), config.json decoding, and `meanfield sweep`.
///
/// Asking the table:
/// - is key K changeable on resume: `TrainKeys.isChangeableOnResume("steps")` (or
///   `TrainKeys["steps"]?.changeableOnResume`; all of them: `TrainKeys.changeableOnResume`);
/// - does K apply to a task and model: `TrainKeys.applies("heads", task: "mnist", model: .resnet)`;
/// - K's default: `TrainKeys.defaultText("lr", task: "mnist", model: .transformer)` ("0.004"), or a
///   whole config: `TrainConfig.defaults(task:model:)`.
public enum TrainKeys {
    /// Every key, in the order of `meanfield train --help`.
    public static let all: [TrainKey] = table

    /// Every key name, in table order.
    public static let names: [String] = table.map(\.name)

    /// The key named `name` (`_` may be written for `-`), or nil.
    public static subscript(name: String) -> TrainKey? { byName[name.replacingOccurrences(of: "_", with: "-")] }

    /// The keys that `meanfield train --resume` accepts (a resumed run keeps every other key).
    public static let changeableOnResume: [String] = table.filter(\.changeableOnResume).map(\.name)

    /// Whether `name` may change when a run is resumed.
    public static func isChangeableOnResume(_ name: String) -> Bool { self[name]?.changeableOnResume ?? false }

    /// Whether `name` applies to `task` with `model` (see ``TrainKey/appliesTo``; a key that does not
    /// apply must keep its default, or the run is refused).
    public static func applies(_ name: String, task: String, model: ModelKind) -> Bool {
        self[name]?.appliesTo.contains(task: task, model: model) ?? false
    }

    /// The default of `name` for `task` and `model`, as text ("auto" for a value resolved from other keys).
    public static func defaultText(_ name: String, task: String, model: ModelKind) -> String? {
        self[name]?.defaultText(task: task, model: model)
    }

    /// The flags that may change on resume, as a sentence: "--steps, --epochs, …, --log-every and --checkpoint-every".
    public static var changeableOnResumeText: String {
        let flags = changeableOnResume.map { "--" + $0 }
        return flags.dropLast().joined(separator: ", ") + " and " + flags.last!
    }

    private static let byName: [String: TrainKey] = Dictionary(uniqueKeysWithValues: table.map { ($0.name, $0) })

    /// Flags that take no value on the command line (`--pre-norm`, `--no-pre-norm`).
    public static let booleanFlags: Set<String> = Set(table.filter { if case .flag = $0.kind { true } else { false } }.map(\.name))
}

/// Where a key's help is listed in `meanfield train --help`.
/// The groups, in this order: task and data, model, optimizer and schedule, run and logging.
public enum TrainKeyGroup: String, CaseIterable, Sendable {
    case task = "Task and data"
    case image = "Task and data: image tasks"
    case model = "Model"
    case vit = "Model: Vision Transformer (image tasks)"
    case resNet = "Model: ResNets (--model resnet|rff-resnet)"
    case optimization = "Optimizer and schedule"
    case run = "Run and logging"
}

/// The kind of value a key takes (every value is given as text: a flag's argument or a file's scalar).
public enum TrainValueKind: Sendable {
    /// An integer in `minimum`...`maximum`.
    case integer(minimum: Int, maximum: Int)
    /// A finite number; `accepted` says which ("a number > 0").
    case number(accepted: String)
    /// One of the listed words.
    case choice([String])
    /// true or false (on the command line `--name` / `--no-name`).
    case flag
    /// Free text (a folder).
    case text
    /// An integer in 0...UInt64.max.
    case seed
    /// A record of other keys' values: `key=value,…` (or none).
    case keyValues
}

/// The largest value of an integer key and why: every integer key has one, checked where the value
/// is parsed (flag or config file), so that no size or count near `Int.max` reaches the arithmetic
/// of the run (memory estimate, disk check, workspace planning, step counting).
public struct TrainBound: Sendable {
    public let value: Int
    /// Said in the refusal: "--heads: expected an integer ≤ 2147483647 (REASON), got '…'".
    public let reason: String

    /// Sizes (dimensions, heads, units, layers, tokens, prompts, images, batch): an axis reaches the
    /// BLAS GEMM as a 32-bit integer.
    public static let size = TrainBound(value: Int(Int32.max), reason: "sizes reach the BLAS GEMM as 32-bit integers")
    /// Steps, epochs and cadences: a typo guard that keeps step arithmetic (epochs × steps per epoch)
    /// far inside `Int`.
    public static let count = TrainBound(value: 1_000_000_000_000, reason: "10¹² steps take 11 days at a million steps a second")
    /// Worker threads: the pool starts that many.
    public static let threads = TrainBound(value: TrainConfig.maximumThreads, reason: "the pool starts that many threads")

    /// `a · b` when it is at most this bound, else nil: the one way products of bounded keys are
    /// formed before they are known to be small (never an overflow trap).
    public func product(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow || value > self.value ? nil : value
    }
}

/// A set of (task, model) pairs: where a key applies, or where a default holds.
public struct TrainScope: Sendable, Hashable {
    public var tasks: Set<String>
    public var models: Set<ModelKind>

    public init(tasks: Set<String> = TrainScope.allTasks, models: Set<ModelKind> = Set(ModelKind.allCases)) {
        self.tasks = tasks
        self.models = models
    }

    public func contains(task: String, model: ModelKind) -> Bool { tasks.contains(task) && models.contains(model) }

    public static let imageTasks = Set(TrainConfig.imageTasks)
    public static let regressionTasks: Set<String> = ["icl-regression", TrainConfig.teacherRegressionTask]
    public static let allTasks = regressionTasks.union(imageTasks)
    public static let resNets: Set<ModelKind> = [.resnet, .rffResnet]

    public static let everywhere = TrainScope()
    public static let images = TrainScope(tasks: imageTasks)
    public static let syntheticImages = TrainScope(tasks: ["synthetic-images"])
    /// The Vision Transformer.
    public static let vit = TrainScope(tasks: imageTasks, models: [.transformer])
    public static let syntheticViT = TrainScope(tasks: ["synthetic-images"], models: [.transformer])
    public static let transformer = TrainScope(models: [.transformer])
    public static let resNet = TrainScope(models: resNets)
    public static let imageResNet = TrainScope(tasks: imageTasks, models: resNets)
    public static let syntheticResNet = TrainScope(tasks: ["synthetic-images"], models: resNets)
    /// ResNets on regression (teacher-regression: the only regression task a ResNet trains).
    public static let regressionResNet = TrainScope(tasks: regressionTasks, models: resNets)
    public static let regressionTwoLayerResNet = TrainScope(tasks: regressionTasks, models: [.resnet])

    /// The tasks in words: "image tasks (fashion-mnist, …)", "--task teacher-regression".
    var tasksText: String {
        let images = TrainConfig.imageTasks
        if tasks == TrainScope.imageTasks { return "image tasks (\(images.joined(separator: ", ")))" }
        if tasks == TrainScope.imageTasks.subtracting(["synthetic-images"]) {
            return "image tasks read from files (\(images.filter { $0 != "synthetic-images" }.joined(separator: ", ")))"
        }
        let named = ["icl-regression", TrainConfig.teacherRegressionTask].filter(tasks.contains)
            + (tasks.isSuperset(of: TrainScope.imageTasks) ? [] : images.filter(tasks.contains))
        var parts = named.isEmpty ? [] : ["--task " + named.joined(separator: named.count == 2 ? " or " : ", ")]
        if tasks.isSuperset(of: TrainScope.imageTasks) { parts.append("image tasks") }
        return parts.joined(separator: " or ")
    }

    /// The models in words: "--model resnet or rff-resnet".
    var modelsText: String {
        let names = ModelKind.allCases.filter(models.contains).map(\.rawValue)
        return "--model " + (names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!)
    }
}

/// A default that holds for some tasks and models (a later one in a key's list wins).
public struct TrainScopedDefault: Sendable {
    /// Its name in `--help`: "image tasks", "teacher-regression".
    public var label: String
    public var scope: TrainScope
    public var text: String
}

/// A key that applies only when another key has some value (`--momentum` needs `--optimizer sgd`).
public struct TrainKeyCondition: Sendable {
    /// Whether the condition holds for a config.
    public let holds: @Sendable (TrainConfig) -> Bool
    /// The one-line refusal when a key that needs it is set and it does not hold.
    public let refusal: @Sendable (TrainConfig) -> String
}

/// One key of the table (see ``TrainKeys``).
public struct TrainKey: Sendable {
    /// Kebab-case name: the flag `--name` and the config-file key.
    public let name: String
    public let group: TrainKeyGroup
    public let kind: TrainValueKind
    /// What `auto` (or an empty value, null) means for a key resolved from others ("1/√D"); nil when
    /// the key always takes a value.
    public let auto: String?
    /// The help line (without the default, which is added from the table).
    public let help: String
    /// The default (``TrainConfig()``'s value) as text.
    public let defaultValue: String
    /// Defaults for some tasks and models, in order (a later match wins).
    public let scopedDefaults: [TrainScopedDefault]
    /// The tasks and models the key applies to. Elsewhere it must keep its default.
    public let appliesTo: TrainScope
    /// Appended to the refusal where the key does not apply ("image runs are given in --epochs").
    public let note: String?
    /// Another key's value the key needs (where it differs from its default).
    public let condition: TrainKeyCondition?
    /// Whether `meanfield train --resume` may change it (a run's length, threads, cadence).
    public let changeableOnResume: Bool

    /// The key's value in `config` as text (its canonical form: comparisons use it).
    let read: @Sendable (TrainConfig) -> String
    /// Parses `text` into `config`; `source` names the flag or file key in errors.
    let write: @Sendable (inout TrainConfig, _ text: String, _ source: String) throws -> Void

    /// The key's value in `config` as text, in canonical form ("auto" for an unresolved automatic value).
    public func text(in config: TrainConfig) -> String { read(config) }

    /// The default for `task` and `model`.
    public func defaultText(task: String, model: ModelKind) -> String {
        scopedDefaults.last(where: { $0.scope.contains(task: task, model: model) })?.text ?? defaultValue
    }

    /// The flag's placeholder in `--help`.
    var placeholder: String {
        switch kind {
        case .integer: return auto == nil ? "<n>" : "<n|auto>"
        case .number: return auto == nil ? "<x>" : "<x|auto>"
        case .choice: return "<name>"
        case .flag: return ""
        case .text: return "<dir>"
        case .seed: return "<n>"
        case .keyValues: return "<key=value,…>"
        }
    }

    /// Whether the key applies to the run `config` describes: its task and model are in
    /// ``appliesTo`` and its ``condition`` (another key's value) holds. Where it does not, the key
    /// must keep its default (`meanfield train` refuses it; `meanfield sweep` drops a fixed flag
    /// for such runs).
    public func applies(to config: TrainConfig) -> Bool {
        appliesTo.contains(task: config.task, model: config.model) && (condition?.holds(config) ?? true)
    }

    /// The one-line refusal of this key set to a non-default value where it does not apply.
    func refusal(task: String, model: ModelKind) -> String {
        let context = appliesTo.tasks.contains(task)
            ? "--model \(model.rawValue): it applies to \(appliesTo.modelsText)"
            : "--task \(task): it applies to \(appliesTo.tasksText)"
        return "--\(name) has no effect on \(context)" + (note.map { " (\($0))" } ?? "") + "; drop it"
    }
}

// MARK: Parsing values

package enum TrainValueParsing {
    /// An integer in `minimum`...`bound.value`; above the bound the refusal gives the bound's reason.
    static func integer(_ text: String, atLeast minimum: Int, atMost bound: TrainBound, source: String) throws -> Int {
        let value = text.trimmingCharacters(in: .whitespaces)
        let whole = Double(value).flatMap { $0.isFinite && $0 == $0.rounded() ? $0 : nil }
        if let whole, whole > Double(bound.value), Int(value).map({ $0 > bound.value }) ?? true {
            throw RunError("\(source): expected an integer ≤ \(bound.value) (\(bound.reason)), got '\(text)'")
        }
        guard let number = Int(value) ?? whole.flatMap({ abs($0) < 1e15 ? Int($0) : nil }),
              number >= minimum else { throw RunError("\(source): expected an integer ≥ \(minimum), got '\(text)'") }
        return number
    }

    static func number(_ text: String, accepted: String, _ isAccepted: (Double) -> Bool, source: String) throws -> Double {
        guard let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite, isAccepted(number) else {
            throw RunError("\(source): expected \(accepted), got '\(text)'")
        }
        return number
    }

    /// true for true, yes, on, 1; false for false, no, off, 0 (any case); nil for anything else.
    package static func truth(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    static func flag(_ text: String, source: String) throws -> Bool {
        guard let value = truth(text) else { throw RunError("\(source): expected true or false, got '\(text)'") }
        return value
    }

    /// `key=value,…` naming train keys (canonical: trimmed, no spaces), or "" for none / an empty text.
    static func keyValues(_ text: String, source: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.lowercased() == "none" { return "" }
        let pairs = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let key = TrainKeys[String(parts[0])], key.name != "dropped-keys", !parts[1].isEmpty else {
                throw RunError("\(source): expected key=value pairs of train keys separated by commas (momentum=0.5,beta1=0.95) or none, got '\(text)'")
            }
        }
        return pairs.joined(separator: ",")
    }

    static func isAuto(_ text: String) -> Bool {
        ["", "auto", "null", "nil", "none"].contains(text.trimmingCharacters(in: .whitespaces).lowercased())
    }
}

// MARK: Building entries

private typealias Path<Value> = WritableKeyPath<TrainConfig, Value> & Sendable

/// The parts every entry has besides its kind and typed access.
private struct Common {
    var group: TrainKeyGroup
    var help: String
    var defaults: [(String, TrainScope, String)] = []
    var appliesTo: TrainScope = .everywhere
    var note: String? = nil
    var condition: TrainKeyCondition? = nil
    var changeable = false
}

private func entry(_ name: String, _ kind: TrainValueKind, auto: String? = nil, _ common: Common,
                   read: @escaping @Sendable (TrainConfig) -> String,
                   write: @escaping @Sendable (inout TrainConfig, String, String) throws -> Void) -> TrainKey {
    TrainKey(name: name, group: common.group, kind: kind, auto: auto, help: common.help, defaultValue: read(TrainConfig()),
             scopedDefaults: common.defaults.map { TrainScopedDefault(label: $0.0, scope: $0.1, text: $0.2) },
             appliesTo: common.appliesTo, note: common.note, condition: common.condition, changeableOnResume: common.changeable,
             read: read, write: write)
}

private func integer(_ name: String, _ path: Path<Int>, atLeast minimum: Int, atMost bound: TrainBound, _ common: Common) -> TrainKey {
    entry(name, .integer(minimum: minimum, maximum: bound.value), common, read: { String($0[keyPath: path]) },
          write: { config, text, source in
              config[keyPath: path] = try TrainValueParsing.integer(text, atLeast: minimum, atMost: bound, source: source)
          })
}

private func optionalInteger(_ name: String, _ path: Path<Int?>, atLeast minimum: Int, atMost bound: TrainBound, auto: String,
                             _ common: Common) -> TrainKey {
    entry(name, .integer(minimum: minimum, maximum: bound.value), auto: auto, common, read: { $0[keyPath: path].map(String.init) ?? "auto" },
          write: { config, text, source in
              if TrainValueParsing.isAuto(text) { config[keyPath: path] = nil; return }
              do {
                  config[keyPath: path] = try TrainValueParsing.integer(text, atLeast: minimum, atMost: bound, source: source)
              } catch {
                  throw RunError("\(source): expected an integer in \(minimum)...\(bound.value) (\(bound.reason); or auto = \(auto)), got '\(text)'")
              }
          })
}

private func number(_ name: String, _ path: Path<Double>, _ accepted: String, _ isAccepted: @escaping @Sendable (Double) -> Bool,
                    _ common: Common) -> TrainKey {
    entry(name, .number(accepted: accepted), common, read: { "\($0[keyPath: path])" },
          write: { config, text, source in
              config[keyPath: path] = try TrainValueParsing.number(text, accepted: accepted, isAccepted, source: source)
          })
}

private func optionalNumber(_ name: String, _ path: Path<Double?>, _ accepted: String, auto: String,
                            _ isAccepted: @escaping @Sendable (Double) -> Bool, _ common: Common) -> TrainKey {
    let wording = "\(accepted) or 'auto' (\(auto))"
    return entry(name, .number(accepted: wording), auto: auto, common, read: { $0[keyPath: path].map { "\($0)" } ?? "auto" },
                 write: { config, text, source in
                     config[keyPath: path] = TrainValueParsing.isAuto(text)
                         ? nil : try TrainValueParsing.number(text, accepted: wording, isAccepted, source: source)
                 })
}

private func choice<Choice: RawRepresentable & CaseIterable & Sendable>(_ name: String, _ path: Path<Choice>, _ common: Common) -> TrainKey
where Choice.RawValue == String {
    let names = Choice.allCases.map(\.rawValue)
    return entry(name, .choice(names), common, read: { $0[keyPath: path].rawValue },
                 write: { config, text, source in
                     guard let value = Choice(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
                         throw RunError("\(source): expected one of \(names.joined(separator: ", ")), got '\(text)'")
                     }
                     config[keyPath: path] = value
                 })
}

private func flag(_ name: String, _ path: Path<Bool>, _ common: Common) -> TrainKey {
    entry(name, .flag, common, read: { $0[keyPath: path] ? "true" : "false" },
          write: { config, text, source in config[keyPath: path] = try TrainValueParsing.flag(text, source: source) })
}

/// `--optimizer sgd`-style conditions: key `name` needs `key` = `value`.
private func needs(_ name: String, _ key: String, _ value: String) -> TrainKeyCondition {
    TrainKeyCondition(holds: { TrainKeys[key]!.read($0) == value }, refusal: { config in
        "--\(name) applies to --\(key) \(value) (this run uses \(TrainKeys[key]!.read(config))); drop it or pass --\(key) \(value)"
    })
}

/// The epoch cadence keys need epochs: not icl-regression with fresh prompts (train-size 0).
private func needsEpochs(_ name: String, instead: String) -> TrainKeyCondition {
    TrainKeyCondition(holds: { $0.hasEpochs }, refusal: { _ in
        "--\(name) needs epochs, and --train-size 0 draws fresh prompts every step (no epochs); use --\(instead) (steps) or --train-size ≥ 1"
    })
}

// MARK: The table

private let table: [TrainKey] = {
    let images = TrainScope.images, vit = TrainScope.vit, syntheticViT = TrainScope.syntheticViT
    let imageResNet = TrainScope.imageResNet, syntheticResNet = TrainScope.syntheticResNet
    let teacher = TrainScope.regressionResNet
    let regression = TrainScope(tasks: TrainScope.regressionTasks)
    let transformer = TrainScope.transformer, resNet = TrainScope.resNet
    let tasks = ["icl-regression", TrainConfig.teacherRegressionTask] + TrainConfig.imageTasks
    let taskAliases = ["cifar10": "cifar-10", "cifar100": "cifar-100"]

    return [
        // Task (theory §1.1).
        entry("task", .choice(tasks), Common(
            group: .task, help: "Task: icl-regression (in-context linear regression, theory §1.1), teacher-regression (generated regression for "
                + "--model resnet|rff-resnet), or an image task trained with a Vision Transformer (or a ResNet): fashion-mnist, mnist, "
                + "cifar-10 (cifar10), cifar-100 (cifar100), synthetic-images (generated, no files)."),
              read: { $0.task },
              write: { config, text, source in
                  let value = text.trimmingCharacters(in: .whitespaces).lowercased()
                  let canonical = taskAliases[value] ?? value
                  guard tasks.contains(canonical) else { throw RunError("\(source): expected one of \(tasks.joined(separator: ", ")), got '\(text)'") }
                  config.task = canonical
              }),
        integer("input-dim", \.inputDim, atLeast: 1, atMost: .size, Common(
            group: .task, help: "Input dimension d.", defaults: [("teacher-regression", teacher, "10")], appliesTo: regression)),
        integer("examples", \.examples, atLeast: 1, atMost: .size, Common(
            group: .task, help: "In-context examples per prompt, N.",
            appliesTo: TrainScope(tasks: ["icl-regression"], models: [.transformer]))),
        number("noise", \.noise, "a number ≥ 0", { $0 >= 0 }, Common(
            group: .task, help: "Label noise standard deviation.", appliesTo: regression)),
        integer("train-size", \.trainSize, atLeast: 0, atMost: .size, Common(
            group: .task, help: "Prompts (teacher-regression: points) in the fixed training set; 0 = fresh prompts every step (icl-regression).",
            defaults: [("teacher-regression", teacher, "50")], appliesTo: regression, note: "use --subset to shrink an image training set")),
        integer("eval-size", \.evalSize, atLeast: 1, atMost: .size, Common(
            group: .task, help: "Prompts (points) in the evaluation set.", defaults: [("teacher-regression", teacher, "500")], appliesTo: regression)),

        // Model (theory §1.2–1.3).
        choice("model", \.model, Common(
            group: .model, help: "Network: transformer (theory §1; a ViT for image tasks), resnet (two-layer blocks, theory §4) or "
                + "rff-resnet (random-Fourier-feature blocks, §5).")),
        optionalInteger("token-dim", \.tokenDim, atLeast: 2, atMost: .size, auto: "d + 1", Common(
            group: .model, help: "Token dimension D ≥ d + 1.", defaults: [("image tasks", vit, "64"), ("synthetic-images", syntheticViT, "16")],
            appliesTo: transformer)),
        integer("heads", \.heads, atLeast: 1, atMost: .size, Common(
            group: .model, help: "Attention heads per layer, M.", defaults: [("image tasks", vit, "8"), ("synthetic-images", syntheticViT, "4")],
            appliesTo: transformer)),
        integer("ffn-units", \.ffnUnits, atLeast: 0, atMost: .size, Common(
            group: .model, help: "Feed-forward units per layer, M′; 0 = attention only.",
            defaults: [("image tasks", vit, "256"), ("synthetic-images", syntheticViT, "32")], appliesTo: transformer)),
        integer("layers", \.layers, atLeast: 1, atMost: .size, Common(
            group: .model, help: "Layers L (Transformer blocks or ResNet blocks).",
            defaults: [("image tasks", vit, "6"), ("synthetic-images", syntheticViT, "2"), ("ResNets", resNet, "10"),
                       ("synthetic-images ResNets", syntheticResNet, "4")])),
        optionalInteger("head-dim", \.headDim, atLeast: 1, atMost: .size, auto: "D", Common(
            group: .model, help: "Head width d_h of factored heads.", defaults: [("image tasks", vit, "16"), ("synthetic-images", syntheticViT, "8")],
            appliesTo: transformer)),
        choice("attention", \.attention, Common(
            group: .model, help: "Heads: merged (W_KQ, W_OV) or factored (Q, K, V, O).", defaults: [("image tasks", vit, "factored")],
            appliesTo: transformer)),
        choice("score", \.score, Common(group: .model, help: "Score map: softmax, linear or relu.", appliesTo: transformer)),
        choice("activation", \.activation, Common(
            group: .model, help: "Activation of the feed-forward units and of two-layer ResNet blocks: relu, gelu, tanh, sigmoid or silu.",
            defaults: [("teacher-regression resnet", .regressionTwoLayerResNet, "tanh")],
            appliesTo: TrainScope(models: [.transformer, .resnet]), note: "random-feature blocks use --feature-map cos|relu",
            condition: TrainKeyCondition(holds: { $0.model != .transformer || $0.ffnUnits > 0 }, refusal: { config in
                "--activation \(config.activation.rawValue) has no effect with --ffn-units 0 (attention only); give --ffn-units ≥ 1 or drop it"
            }))),
        flag("pre-norm", \.preNorm, Common(
            group: .model, help: "Pre-norm: layer-normalise each block's input (off-theory).", defaults: [("image tasks", vit, "true")],
            appliesTo: transformer)),
        number("residual-exponent", \.residualExponent, "a number > 0 (1 = theory §1.2, 0.5 = depth-μP)", { $0 > 0 }, Common(
            group: .model, help: "Residual exponent α: steps of 1/L^α; 1 = theory §1.2, 0.5 = depth-μP.",
            defaults: [("image tasks", vit, "0.5"), ("synthetic-images", syntheticViT, "1.0")])),
        number("temperature", \.temperature, "a number > 0", { $0 > 0 }, Common(
            group: .model, help: "Score temperature τ: scores are divided by τ, for every score map.", appliesTo: transformer)),
        optionalNumber("init-std", \.initStd, "a number > 0", auto: "1/√D", { $0 > 0 }, Common(
            group: .model, help: "Std of the Gaussian initial particles.")),
        choice("engine", \.engine, Common(
            group: .model, help: "Engine: fused (hand-written forward/backward) or autodiff (the reference path).", appliesTo: transformer)),
        choice("precision", \.precision, Common(
            group: .model, help: "Scalar type of parameters, gradients, optimizer state and activations: float32 or float64 "
                + "(twice the memory). θ₀ and in-context prompts are drawn in that type: a float64 run is not the float32 run of its seed widened.")),
        optionalNumber("gamma0", \.gamma0, "a number > 0", auto: "off, the plain output f", { $0 > 0 }, Common(
            group: .model, help: "Feature-learning strength γ₀: train the centred output (f − f₀)/γ₀, f₀ the output (prediction or logits) "
                + "at the initial parameters (theory §1.7). Small γ₀ → lazy training (the linearized model); the output then moves "
                + "1/γ₀² times faster at a given --lr, so scale --lr with γ₀² (euler, sgd) or γ₀ (adamw) to compare γ₀ at equal speed.")),
        choice("head-scaling", \.headScaling, Common(
            group: .model, help: "Factor on the sum of a layer's M heads: mean-field (1/M, theory §1.2), sqrt (1/√M) or one (1). "
                + "The last two are mis-scaled models, trained with the mean-field flow scales, to compare with.", appliesTo: transformer)),

        // ResNets (theory §4–5).
        integer("units", \.units, atLeast: 1, atMost: .size, Common(
            group: .resNet, help: "Particles per layer: M units (resnet) or r random features (rff-resnet).",
            defaults: [("image tasks", imageResNet, "64"), ("synthetic-images", syntheticResNet, "16")], appliesTo: resNet)),
        integer("hidden-dim", \.hiddenDim, atLeast: 1, atMost: .size, Common(
            group: .resNet, help: "Dimension D of the residual stream.",
            defaults: [("image tasks", imageResNet, "64"), ("synthetic-images", syntheticResNet, "16")], appliesTo: resNet)),
        choice("feature-map", \.featureMap, Common(
            group: .resNet, help: "rff-resnet: feature map φ, cos (√2 cos, Gaussian kernel) or relu.",
            appliesTo: TrainScope(models: [.rffResnet]), note: "two-layer blocks use --activation")),
        optionalNumber("feature-scale", \.featureScale, "a number > 0", auto: "1/√D", { $0 > 0 }, Common(
            group: .resNet, help: "rff-resnet: std σ of the random features ω.", appliesTo: TrainScope(models: [.rffResnet]),
            note: "two-layer blocks use --activation")),
        integer("ntk-every", \.ntkEvery, atLeast: 0, atMost: .count, Common(
            group: .resNet, help: "teacher-regression: NTK Gram λ_min and PL constant 2λ_min/n every this many steps; 0 = never.",
            defaults: [("teacher-regression", teacher, "200")],
            appliesTo: TrainScope(tasks: [TrainConfig.teacherRegressionTask], models: TrainScope.resNets),
            note: "square loss only; image tasks do not track the NTK")),

        // Image tasks (VisionTransformer, ImageClassificationTask).
        entry("data", .text, auto: "the dataset's default location", Common(
            group: .image, help: "Folder of the dataset's files (fashion-mnist: /usr/share/datasets/fashion-mnist by default; CIFAR needs it: "
                + "the extracted cifar-10-batches-bin/ or cifar-100-binary/).",
            appliesTo: TrainScope(tasks: TrainScope.imageTasks.subtracting(["synthetic-images"])), note: "synthetic-images are generated"),
              read: { $0.data ?? "auto" },
              write: { config, text, source in
                  // Empty text would read the dataset from the current folder: refused, as is the root folder.
                  if text.trimmingCharacters(in: .whitespaces).isEmpty || !TrainValueParsing.isAuto(text) {
                      try InputPath.checkFolder(text, flag: source)
                  }
                  config.data = TrainValueParsing.isAuto(text) ? nil : text.trimmingCharacters(in: .whitespaces)
              }),
        integer("subset", \.subset, atLeast: 0, atMost: .size, Common(
            group: .image, help: "Train on a fixed class-balanced subset of N images; 0 = all.", appliesTo: images)),
        integer("test-subset", \.testSubset, atLeast: 0, atMost: .size, Common(
            group: .image, help: "Evaluate on a fixed class-balanced subset of N test images; 0 = all.", appliesTo: images)),
        integer("patch", \.patch, atLeast: 1, atMost: .size, Common(
            group: .vit, help: "ViT patch side p; H and W must be multiples (7: 16 tokens of 28×28, 4: 49; 32×32: 4 or 8).",
            defaults: [("fashion-mnist, mnist", TrainScope(tasks: ["fashion-mnist", "mnist"], models: [.transformer]), "7")], appliesTo: vit)),
        flag("class-token", \.classToken, Common(
            group: .vit, help: "ViT: prepend a learned class token and read out from it (otherwise mean pooling).", appliesTo: vit)),
        flag("augment", \.augment, Common(
            group: .image, help: "Augment training images: random crop after 2 px (28×28) or 4 px (32×32) zero padding, horizontal flip.",
            appliesTo: images)),

        // Optimization (theory §1.4).
        choice("optimizer", \.optimizer, Common(
            group: .optimization, help: "Optimizer: euler (the gradient flow of theory §1.4, whose time axis is t), sgd (momentum) or adamw.",
            defaults: [("image tasks", images, "adamw")])),
        number("lr", \.lr, "a number > 0", { $0 > 0 }, Common(
            group: .optimization, help: "Learning rate η = mean-field time per step (AdamW on regression: try 0.02).",
            defaults: [("image tasks", vit, "0.002"), ("synthetic-images", syntheticViT, "0.01"), ("ResNets on images", imageResNet, "0.001"),
                       ("teacher-regression", teacher, "0.05")])),
        choice("schedule", \.schedule, Common(
            group: .optimization, help: "Schedule: constant, cosine, warmup or step.",
            defaults: [("image tasks", images, "cosine"), ("synthetic-images", .syntheticImages, "constant")])),
        integer("warmup-steps", \.warmupSteps, atLeast: 0, atMost: .count, Common(group: .optimization, help: "Linear warmup steps, any schedule.")),
        number("min-lr", \.minLr, "a number ≥ 0", { $0 >= 0 }, Common(
            group: .optimization, help: "Cosine floor η_min.", condition: needs("min-lr", "schedule", "cosine"))),
        integer("decay-every", \.decayEvery, atLeast: 1, atMost: .count, Common(
            group: .optimization, help: "Step schedule: multiply η by --decay-factor every this many steps.",
            condition: needs("decay-every", "schedule", "step"))),
        number("decay-factor", \.decayFactor, "a number in (0, 1]", { $0 > 0 && $0 <= 1 }, Common(
            group: .optimization, help: "Step schedule: decay factor γ in (0, 1].",
            condition: needs("decay-factor", "schedule", "step"))),
        number("weight-decay", \.weightDecay, "a number ≥ 0", { $0 >= 0 }, Common(
            group: .optimization, help: "Weight decay λ of Q = R + (λ/2)∫|θ|²dρ, decoupled.")),
        number("ordinary-lr-scale", \.ordinaryLrScale, "a number > 0", { $0 > 0 }, Common(
            group: .optimization, help: "Rate multiplier k of the ordinary parameters (embeddings, readout; not particles): they step with k·η, "
                + "the particles with η. Image tasks and ResNets.",
            defaults: [("image tasks", vit, "8.0"), ("synthetic-images", syntheticViT, "1.0")],
            appliesTo: TrainScope(tasks: TrainScope.imageTasks.union([TrainConfig.teacherRegressionTask])),
            note: "all the parameters of the icl-regression Transformer are particles")),
        number("momentum", \.momentum, "a number in [0, 1)", { $0 >= 0 && $0 < 1 }, Common(
            group: .optimization, help: "SGD momentum μ in [0, 1).", condition: needs("momentum", "optimizer", "sgd"))),
        number("beta1", \.beta1, "a number in [0, 1)", { $0 >= 0 && $0 < 1 }, Common(
            group: .optimization, help: "AdamW β₁.", condition: needs("beta1", "optimizer", "adamw"))),
        number("beta2", \.beta2, "a number in [0, 1)", { $0 >= 0 && $0 < 1 }, Common(
            group: .optimization, help: "AdamW β₂.", condition: needs("beta2", "optimizer", "adamw"))),
        number("epsilon", \.epsilon, "a number > 0", { $0 > 0 }, Common(
            group: .optimization, help: "AdamW ε.", condition: needs("epsilon", "optimizer", "adamw"))),
        integer("steps", \.steps, atLeast: 1, atMost: .count, Common(
            group: .optimization, help: "Steps (updates); with --epochs > 0 they follow from the epochs.",
            defaults: [("teacher-regression", teacher, "4000")], appliesTo: regression, note: "image runs are given in --epochs",
            changeable: true)),
        integer("epochs", \.epochs, atLeast: 0, atMost: .count, Common(
            group: .optimization, help: "Passes over the fixed training set, instead of --steps; 0 = the run is given in --steps.",
            defaults: [("image tasks", vit, "20"), ("synthetic-images", syntheticViT, "10"), ("ResNets on images", imageResNet, "5")],
            appliesTo: TrainScope(tasks: TrainScope.imageTasks.union(["icl-regression"])), note: "a teacher-regression run is given in --steps",
            changeable: true)),
        integer("batch-size", \.batchSize, atLeast: 0, atMost: .size, Common(
            group: .optimization, help: "Prompts (images) per step; 0 = full batch.",
            defaults: [("image tasks", vit, "64"), ("synthetic-images", syntheticViT, "20"), ("ResNets on images", imageResNet, "128"),
                       ("synthetic-images ResNets", syntheticResNet, "20")])),
        entry("seed", .seed, Common(group: .optimization, help: "Random seed: parameters, data, batch order."),
              read: { String($0.seed) },
              write: { config, text, source in
                  guard let value = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                      throw RunError("\(source): expected an integer in 0...\(UInt64.max), got '\(text)'")
                  }
                  config.seed = value
              }),

        // Run.
        optionalInteger("threads", \.threads, atLeast: 1, atMost: .threads, auto: "all cores", Common(
            group: .run, help: "Worker threads.", changeable: true)),
        integer("log-every", \.logEvery, atLeast: 0, atMost: .count, Common(
            group: .run, help: "Log a metrics line every this many steps; 0 = unused. Every run logs its initial state and its last step.",
            defaults: [("image tasks", images, "0"), ("teacher-regression", teacher, "40")], changeable: true)),
        integer("log-every-epochs", \.logEveryEpochs, atLeast: 0, atMost: .count, Common(
            group: .run, help: "Log a metrics line every this many epochs; 0 = unused. Not with --train-size 0 (no epochs).",
            defaults: [("image tasks", images, "1")], condition: needsEpochs("log-every-epochs", instead: "log-every"), changeable: true)),
        integer("checkpoint-every", \.checkpointEvery, atLeast: 0, atMost: .count, Common(
            group: .run, help: "Write a checkpoint every this many steps; 0 = unused. Every run checkpoints its last step.",
            changeable: true)),
        integer("checkpoint-every-epochs", \.checkpointEveryEpochs, atLeast: 0, atMost: .count, Common(
            group: .run, help: "Write a checkpoint every this many epochs; 0 = unused. Not with --train-size 0 (no epochs).",
            defaults: [("image tasks", images, "1")], condition: needsEpochs("checkpoint-every-epochs", instead: "checkpoint-every"),
            changeable: true)),
        flag("tensorboard", \.tensorboard, Common(
            group: .run, help: "Also write every metrics line as TensorBoard scalars (tensorboard/ in the run folder; "
                + "view with tensorboard --logdir DIR).", changeable: true)),
        choice("distributed", \.distributed, Common(
            group: .run, help: "One run over the K processes of an MPI job (mpirun -np K meanfield train --distributed data …): "
                + "none, data (each rank takes a share of every batch) or particle (each rank holds a share of every layer's "
                + "heads and units; Transformer and ViT only; docs/distributed.md).", changeable: true)),
        entry("dropped-keys", .keyValues, Common(
            group: .run, help: "Set by meanfield sweep: the grid's fixed flags that do not apply to this run (--momentum with "
                + "--optimizer euler), dropped for it and recorded here as key=value,…; none for a run started by hand. Changes nothing."),
              read: { $0.droppedKeys.isEmpty ? "none" : $0.droppedKeys },
              write: { config, text, source in config.droppedKeys = try TrainValueParsing.keyValues(text, source: source) }),
    ]
}()

// MARK: Help

extension TrainKeys {
    /// The settings part of `meanfield train --help`: every key, grouped, with its value, help and
    /// defaults (per task and model where they differ), wrapped to `width` columns.
    public static func helpText(width: Int = 80) -> String {
        var lines: [String] = []
        let column = 26
        for group in TrainKeyGroup.allCases {
            lines.append("")
            lines.append("\(group.rawValue):")
            for key in all where key.group == group {
                var flag = "  --\(key.name)"
                if case .flag = key.kind { flag += ", --no-\(key.name)" } else { flag += " " + key.placeholder }
                var text = key.help
                if let auto = key.auto { text += " auto = \(auto)." }
                if key.changeableOnResume { text += " May change on --resume." }
                // Numbers as written on a command line: 0, not 0.0.
                func shown(_ value: String) -> String { value.hasSuffix(".0") ? String(value.dropLast(2)) : value }
                let defaults = key.scopedDefaults.map { "\($0.label) \(shown($0.text))" }
                text += " (default \(shown(key.defaultValue))" + (defaults.isEmpty ? "" : "; " + defaults.joined(separator: ", ")) + ")"
                let wrapped = wrap(text, width: width - column)
                if flag.count + 2 <= column {
                    lines.append(flag.padding(toLength: column, withPad: " ", startingAt: 0) + wrapped[0])
                } else {
                    lines.append(flag)
                    lines.append(String(repeating: " ", count: column) + wrapped[0])
                }
                lines += wrapped.dropFirst().map { String(repeating: " ", count: column) + $0 }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole).
    public static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        return lines + [line]
    }
}

// MARK: Defaults, applicability and the resume rule

extension TrainConfig {
    /// The defaults of a run of `task` with `model`: every key at its table default for them. The
    /// defaults of the plain ``TrainConfig()`` are the in-context regression Transformer's; image
    /// tasks get the documented default ViT (or image ResNet), teacher-regression the ResNet's.
    public static func defaults(task: String, model: ModelKind) -> TrainConfig {
        var config = TrainConfig()
        config.task = task
        config.model = model
        for key in TrainKeys.all where key.name != "task" && key.name != "model" {
            let text = key.defaultText(task: task, model: model)
            if text != key.defaultValue { try! key.write(&config, text, "default of \(key.name)") }
        }
        return config
    }

    /// The key `name`'s value as text ("auto" for an unresolved automatic value), or nil for an unknown key.
    public func text(of name: String) -> String? { TrainKeys[name]?.read(self) }

    /// Whether the task has epochs: image tasks, teacher-regression, and icl-regression with a fixed
    /// training set (`train-size` ≥ 1).
    public var hasEpochs: Bool { task != "icl-regression" || trainSize >= 1 }

    /// Keys that do not apply to this task and model must keep their defaults; keys that need
    /// another key's value (`--momentum` needs `--optimizer sgd`) must have it. One line naming the flag.
    func checkKeysApply() throws {
        if model == .transformer && task == Self.teacherRegressionTask {
            throw RunError("--task teacher-regression trains a ResNet; pass --model resnet or --model rff-resnet")
        }
        if model != .transformer && !isImageTask && task != Self.teacherRegressionTask {
            throw RunError("--model \(model.rawValue) trains --task teacher-regression or an image task (\(Self.imageTasks.joined(separator: ", "))), not \(task)")
        }
        let family = Self.defaults(task: task, model: model)
        for key in TrainKeys.all where key.read(self) != key.read(family) {
            guard key.appliesTo.contains(task: task, model: model) else { throw RunError(key.refusal(task: task, model: model)) }
            if let condition = key.condition, !condition.holds(self) { throw RunError(condition.refusal(self)) }
        }
    }

    /// A resumed run must be the same run: only the keys the table marks changeable on resume
    /// (``TrainKeys/changeableOnResume``) may differ between the saved config and `current`.
    public static func checkResumable(_ saved: TrainConfig, as current: TrainConfig, path: String) throws {
        let differing = TrainKeys.all.filter { !$0.changeableOnResume && $0.read(saved) != $0.read(current) }.map(\.name)
        guard differing.isEmpty else {
            throw RunError("\(path) was written by a run with another config (\(differing.joined(separator: ", "))); "
                           + "--resume accepts only \(TrainKeys.changeableOnResumeText)")
        }
    }

    /// A config.json written before the epoch cadence keys: on image tasks `log-every` and
    /// `checkpoint-every` counted epochs. `keys` are the keys the file held.
    public static func upgradingLegacy(_ config: TrainConfig, keys: Set<String>) -> TrainConfig {
        guard config.isImageTask, !keys.contains("log-every-epochs"), !keys.contains("checkpoint-every-epochs") else { return config }
        var upgraded = config
        (upgraded.logEveryEpochs, upgraded.logEvery) = (config.logEvery, 0)
        (upgraded.checkpointEveryEpochs, upgraded.checkpointEvery) = (config.checkpointEvery, 0)
        return upgraded
    }
}

// MARK: Cadence

extension TrainConfig {
    /// Whether a run that has made `step` updates (of `lastStep`; `stepsPerEpoch` nil where the task
    /// has no epochs) logs a metrics line there: at its initial state (step 0), at its last step, every
    /// `log-every` steps and every `log-every-epochs` epochs.
    public func logDue(step: Int, lastStep: Int, stepsPerEpoch: Int?) -> Bool {
        step == 0 || step == lastStep || Self.isDue(step, every: logEvery, everyEpochs: logEveryEpochs, stepsPerEpoch: stepsPerEpoch)
    }

    /// Whether a run writes a checkpoint after `step` updates: at its last step, every
    /// `checkpoint-every` steps and every `checkpoint-every-epochs` epochs (step 0, the initial
    /// state, is due whenever either is set).
    public func checkpointDue(step: Int, lastStep: Int, stepsPerEpoch: Int?) -> Bool {
        step == lastStep || Self.isDue(step, every: checkpointEvery, everyEpochs: checkpointEveryEpochs, stepsPerEpoch: stepsPerEpoch)
    }

    static func isDue(_ step: Int, every: Int, everyEpochs: Int, stepsPerEpoch: Int?) -> Bool {
        if every > 0 && step % every == 0 { return true }
        if everyEpochs > 0, let stepsPerEpoch, stepsPerEpoch > 0, let period = TrainBound.count.product(everyEpochs, stepsPerEpoch),
           step % period == 0 { return true }
        return false
    }
}
