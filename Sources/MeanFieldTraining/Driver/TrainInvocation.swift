import Foundation
import MeanFieldModels

/// One `meanfield train` invocation as the library reads it: the settings given as flags
/// (`--heads 8`, `--heads=8`, `--pre-norm`, `--no-pre-norm`; any key of ``TrainKeys``), and the
/// invocation's own `--config FILE`, `--out DIR`, `--resume DIR`. The command line and
/// `meanfield sweep` (which checks every run of a grid before starting any) both resolve runs here.
public struct TrainInvocation: Sendable {
    /// The settings given as flags, in order, by their table names.
    public var settings: [(key: String, text: String)]
    public var config: String?
    public var out: String?
    public var resume: String?

    public init(settings: [(key: String, text: String)] = [], config: String? = nil, out: String? = nil, resume: String? = nil) {
        self.settings = settings
        self.config = config
        self.out = out
        self.resume = resume
    }

    /// A malformed command line (an unknown flag, a missing value): a usage error, where a bad
    /// value is a ``RunError``. The command line exits with status 64 for it.
    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Reads `meanfield train` arguments (without the word `train`). A key's value is the next
    /// argument whatever it looks like (`--lr -1` gives -1 to --lr, which refuses it); a boolean key
    /// takes no value (`--pre-norm`, `--no-pre-norm`; `--pre-norm=false` also works).
    public static func parse(_ arguments: [String]) throws -> TrainInvocation {
        var invocation = TrainInvocation()
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            guard token.hasPrefix("--"), token.count > 2 else {
                throw UsageError("Unexpected argument '\(token)': give settings as --name value (see meanfield train --help)")
            }
            var name = String(token.dropFirst(2)), value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            name = name.replacingOccurrences(of: "_", with: "-")
            func takeValue() throws -> String {
                if let value { return value }
                guard index < arguments.count else { throw UsageError("Missing value for '--\(name) \(TrainKeys[name]?.placeholder ?? "<value>")'") }
                index += 1
                return arguments[index - 1]
            }
            switch name {
            case "config": invocation.config = try takeValue()
            case "out": invocation.out = try takeValue()
            case "resume": invocation.resume = try takeValue()
            default:
                if name.hasPrefix("no-"), TrainKeys.booleanFlags.contains(String(name.dropFirst(3))) {
                    guard value == nil else { throw UsageError("--\(name) takes no value") }
                    invocation.settings.append((String(name.dropFirst(3)), "false"))
                } else if TrainKeys.booleanFlags.contains(name) {
                    invocation.settings.append((name, value ?? "true"))
                } else if TrainKeys[name] != nil {
                    invocation.settings.append((name, try takeValue()))
                } else {
                    throw UsageError("Unknown option '--\(name)'" + (closestKey(to: name).map { "; did you mean --\($0)?" } ?? "")
                                     + " (the settings are listed by meanfield train --help)")
                }
            }
        }
        return invocation
    }

    /// The run's resolved config, as `meanfield train` trains it: the saved config.json with
    /// `--resume` (only ``TrainKeys/changeableOnResume`` keys may be given), else the defaults of
    /// the task and model (``TrainConfig/defaults(task:model:)``), then the `--config` file, then
    /// the flags, checked against each other. Reads only config.json and the config file.
    public func resolve(defaultThreads: Int) throws -> TrainConfig {
        let settings = try configBeforeChecks()
        return try settings.resolved(defaultThreads: settings.threads ?? defaultThreads)
    }

    /// The run's config as ``resolve(defaultThreads:)`` builds it (saved config or defaults, the
    /// file, the flags), before the keys are checked against each other and resolved: what
    /// `meanfield sweep` asks which fixed flags apply to a run (``TrainKey/applies(to:)``).
    public func configBeforeChecks() throws -> TrainConfig {
        var settings = TrainConfig()
        for (flag, path) in [("--out", out), ("--resume", resume)] { if let path { try InputPath.checkFolder(path, flag: flag) } }
        if let resume {
            guard config == nil else { throw RunError("--config cannot be combined with --resume: a resumed run keeps the config saved in \(resume)/config.json") }
            if let out, out != resume { throw RunError("--out \(out) differs from --resume \(resume); a resumed run continues in its own directory") }
            if let flag = self.settings.first(where: { !TrainKeys.isChangeableOnResume($0.key) }) {
                throw RunError("--\(flag.key) cannot change when resuming (the run keeps its saved config); only \(TrainKeys.changeableOnResumeText) can")
            }
            guard RunFolder.isRun(resume) else {
                throw RunError("--resume \(resume): no \(RunFormat.configFile) there; pass the directory of a run started by meanfield train")
            }
            settings = try RunFolder.readConfig(in: resume)
        } else {
            let file = try config.map(ConfigFile.load) ?? []
            // The task and the model choose the defaults (the default ViT for an image task, …); then the file, then the flags.
            var probe = TrainConfig()
            for (key, text) in file where key == "task" || key == "model" { try probe.set(key, text, source: ConfigFile.source(of: key, in: config ?? "")) }
            for (key, text) in self.settings where key == "task" || key == "model" { try probe.set(key, text, source: "--\(key)") }
            settings = TrainConfig.defaults(task: probe.task, model: probe.model)
            if let config { try settings.apply(file, source: { ConfigFile.source(of: $0, in: config) }) }
        }
        try settings.apply(self.settings, source: { "--\($0)" })
        return settings
    }

    /// The known key nearest to `name` by edit distance, when it is close (a typo), else nil.
    static func closestKey(to name: String) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(1, a.count) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            return a.isEmpty ? b.count : row[b.count]
        }
        let candidates = TrainKeys.names + ["config", "out", "resume"]
        let scored = candidates.map { ($0, distance(Array(name), Array($0))) }.min { $0.1 < $1.1 }
        guard let (best, score) = scored, score <= max(2, name.count / 4) else { return nil }
        return best
    }
}
