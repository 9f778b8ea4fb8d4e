import Foundation

/// One `meanfield train` flag and its value as text (`heads` = "8"); the flag is written without
/// its dashes, in the canonical dashed form (`weight-decay`, never `weight_decay`).
public struct SweepFlag: Sendable, Equatable, Hashable {
    public var flag: String
    public var value: String
    public init(_ flag: String, _ value: String) {
        self.flag = flag
        self.value = value
    }
}

/// One axis of a grid: a train flag and the values it takes, in the order given.
public struct SweepAxis: Sendable, Equatable {
    public var flag: String
    public var values: [String]
    public init(_ flag: String, _ values: [String]) {
        self.flag = flag
        self.values = values
    }
}

/// One run of a sweep: its directory name under `DIR/runs/` and every train flag it gets (the
/// fixed flags, then one value of each axis). `--out` and `--threads` are added by the runner.
/// `dropped`: the fixed flags that do not apply to this run (``SweepGrid/runs``), left out of
/// `flags` and recorded in the run's config as `dropped_keys`.
public struct SweepRun: Sendable, Equatable {
    public var name: String
    public var flags: [SweepFlag]
    public var dropped: [SweepFlag]
    public init(name: String, flags: [SweepFlag], dropped: [SweepFlag] = []) {
        self.name = name
        self.flags = flags
        self.dropped = dropped
    }

    /// The value of `flag` in this run, if it has one.
    public func value(of flag: String) -> String? { flags.first(where: { $0.flag == flag })?.value }
}

/// A grid over `meanfield train` flags (`meanfield sweep`, any flag can vary): axes (flags with several
/// values) and fixed flags. The runs are the Cartesian product of the axes in a deterministic
/// order: the first axis varies slowest, `seed` (when it is an axis) fastest; each run is named
/// from its axis values, `heads-8_layers-2_seed-0`, which is also its folder under `DIR/runs/`.
///
/// A grid is given with the train flags themselves, comma-separated lists making axes
/// (`--heads 2,8,32 --layers 2,8 --seeds 3`), or by a sweep file (TOML, JSON or YAML; keys are
/// train flags, list values are axes, single values are fixed), or both (flags override the file).
public struct SweepGrid: Sendable, Equatable {
    public var axes: [SweepAxis]
    public var fixed: [SweepFlag]

    public init(axes: [SweepAxis], fixed: [SweepFlag]) {
        self.axes = axes
        self.fixed = fixed
    }

    /// Flags of `meanfield train` that take no value (`--pre-norm`, `--no-pre-norm`); in a grid
    /// they take `true`/`false` (`--pre-norm true,false`). From the key table.
    public static var booleanFlags: Set<String> { TrainKeys.booleanFlags }

    /// Flags the sweep sets itself for every run, with what to use instead.
    static let reservedFlags: [String: String] = [
        "out": "the sweep's --out DIR holds the runs (DIR/runs/<name>)",
        "resume": "a sweep resumes its interrupted runs by itself; run the same sweep command again",
        "threads": "give --threads-per-run T (each run gets --threads T)",
        "dropped-keys": "the sweep records there the fixed flags it drops for a run they do not apply to",
    ]

    /// Sweep-only keys a sweep file may hold besides train flags.
    public static let sweepFileKeys: Set<String> = ["seeds", "parallel", "threads-per-run", "out"]

    // MARK: Building a grid

    /// The grid given by train flags `arguments` (`["--heads", "2,8", "--steps", "10"]`), on top of
    /// the sweep file's axes and fixed values `base` (flags override it), with `seeds` = N adding
    /// the axis `seed` = 0 … N−1. Every value is checked (``validateValues()``).
    public static func make(arguments: [String], base: SweepGrid = SweepGrid(axes: [], fixed: []), seeds: Int? = nil) throws -> SweepGrid {
        var grid = base
        for pair in try parseFlags(arguments) {
            let values = try splitList(pair.value, flag: pair.flag)
            grid.set(pair.flag, values, isList: values.count > 1)
        }
        if let seeds {
            guard seeds >= 1 else { throw RunError("--seeds: expected an integer ≥ 1 (runs seeds 0 … N−1), got \(seeds)") }
            try checkRunCount(seeds, source: "--seeds \(seeds)")
            if arguments.contains(where: { $0 == "--seed" || $0.hasPrefix("--seed=") }) {
                throw RunError("--seeds \(seeds) and --seed both give the seeds; use one (--seeds N runs seeds 0 … N−1, --seed a,b,c lists them)")
            }
            grid.set("seed", (0..<seeds).map(String.init), isList: true)
        }
        // The seed axis varies fastest: independent seeds of one setting sit next to each other.
        if let index = grid.axes.firstIndex(where: { $0.flag == "seed" }) { grid.axes.append(grid.axes.remove(at: index)) }
        try checkRunCount(grid.count, source: "the grid (" + grid.axes.map { "\($0.values.count) \($0.flag)" }.joined(separator: " × ") + ")")
        try grid.validateValues()
        return grid
    }

    /// The most runs a sweep expands: each run is a process, a folder and a log, and the run list is
    /// built (and written to sweep.json) before any run starts. Split a larger study into sweeps.
    public static let maximumRuns = 100_000

    /// Refuses more than ``maximumRuns`` runs before the runs are listed; `source` names their origin.
    static func checkRunCount(_ count: Int, source: String) throws {
        guard count <= maximumRuns else {
            throw RunError("\(source) makes \(count == Int.max ? "more than \(Int.max)" : "\(count)") runs, more than the \(maximumRuns) a sweep may have (each is a process, a folder and a log); split it into smaller sweeps")
        }
    }

    /// Replaces `flag` (wherever it was) by an axis (`isList`) or a fixed value.
    mutating func set(_ flag: String, _ values: [String], isList: Bool) {
        axes.removeAll { $0.flag == flag }
        fixed.removeAll { $0.flag == flag }
        if isList { axes.append(SweepAxis(flag, values)) } else { fixed.append(SweepFlag(flag, values[0])) }
    }

    /// Splits a comma-separated list: `"2, 8,32"` → `["2", "8", "32"]`.
    static func splitList(_ text: String, flag: String) throws -> [String] {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if values.contains(where: \.isEmpty) {
            throw RunError("--\(flag) '\(text)': empty value in the list; give values separated by commas, e.g. --\(flag) 2,8")
        }
        return values
    }

    /// Reads train flags as `meanfield train` takes them (`--heads 8`, `--heads=8`, `--pre-norm`,
    /// `--no-pre-norm`) into (flag, text) pairs, in order. A flag given twice is an error.
    public static func parseFlags(_ arguments: [String]) throws -> [SweepFlag] {
        var pairs: [SweepFlag] = []
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            guard token.hasPrefix("--"), token.count > 2 else {
                throw RunError("unexpected argument '\(token)': give train flags as --name value (a comma-separated list makes a grid axis, e.g. --heads 2,8)")
            }
            var name = String(token.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            name = name.replacingOccurrences(of: "_", with: "-")
            if name.hasPrefix("no-"), booleanFlags.contains(String(name.dropFirst(3))) {
                guard value == nil else { throw RunError("--\(name) takes no value; use --\(name.dropFirst(3)) true,false for an axis") }
                name = String(name.dropFirst(3))
                value = "false"
            } else if booleanFlags.contains(name), value == nil {
                // `--pre-norm` alone is true; `--pre-norm true,false` is an axis.
                if index < arguments.count, !arguments[index].hasPrefix("--") {
                    value = arguments[index]
                    index += 1
                } else {
                    value = "true"
                }
            } else if value == nil {
                guard index < arguments.count, !arguments[index].hasPrefix("--") || Double(arguments[index]) != nil else {
                    throw RunError("--\(name): missing value (give --\(name) VALUE, or a comma-separated list for a grid axis)")
                }
                value = arguments[index]
                index += 1
            }
            if pairs.contains(where: { $0.flag == name }) { throw RunError("--\(name) is given twice; give it once (a list of values makes an axis: --\(name) a,b)") }
            pairs.append(SweepFlag(name, value!))
        }
        return pairs
    }

    // MARK: Checking values

    /// Checks every axis value and fixed value the way `meanfield train` checks a flag
    /// (``TrainConfig/set(_:_:source:)``), so a bad value fails before anything runs, in one line
    /// that names the flag: `--heads: expected an integer ≥ 1, got 'x'`. Flags the sweep sets
    /// itself (`--out`, `--resume`, `--threads`) are refused with what to use instead.
    /// (Whole-run checks, such as --batch-size against --train-size, are done per run by
    /// ``SweepRunner/checkRuns()``, through ``TrainInvocation``.)
    public func validateValues() throws {
        var seen = Set<String>()
        for axis in axes {
            if Set(axis.values).count != axis.values.count {
                throw RunError("--\(axis.flag) \(axis.values.joined(separator: ",")): a value is listed twice; list each value once")
            }
        }
        let all = fixed.map { ($0.flag, [$0.value]) } + axes.map { ($0.flag, $0.values) }
        for (flag, values) in all {
            guard seen.insert(flag).inserted else { throw RunError("--\(flag) is given twice") }
            if let instead = Self.reservedFlags[flag] { throw RunError("--\(flag) cannot be part of a sweep: \(instead)") }
            for value in values {
                if flag == "config" {
                    _ = try ConfigFile.load(value)
                    continue
                }
                var probe = TrainConfig()
                try probe.set(flag, value, source: "--\(flag)")
            }
        }
    }

    // MARK: Runs

    /// Number of runs: the product of the axis sizes (1 with no axes).
    public var count: Int {
        axes.reduce(1) { product, axis in
            let (value, overflow) = product.multipliedReportingOverflow(by: axis.values.count)
            return overflow ? Int.max : value
        }
    }

    /// The runs in order: the first axis varies slowest, the last (seed, when it is an axis) fastest.
    /// A fixed flag that does not apply to some runs (``droppingInapplicableFixedFlags(_:)``: `--momentum`
    /// when `--optimizer` varies over euler and sgd) is dropped from those runs' flags and kept in
    /// their `dropped`.
    public var runs: [SweepRun] {
        var combinations: [[SweepFlag]] = [[]]
        for axis in axes {
            combinations = combinations.flatMap { prefix in axis.values.map { prefix + [SweepFlag(axis.flag, $0)] } }
        }
        var used: [String: Int] = [:]
        let runs = combinations.map { choice in
            var name = choice.isEmpty ? "run" : choice.map { "\($0.flag)-\(Self.safeName($0.value))" }.joined(separator: "_")
            // Two values that differ only in unsafe characters would share a folder: number them.
            if let count = used[name] {
                used[name] = count + 1
                name += "-\(count + 1)"
            } else {
                used[name] = 1
            }
            return SweepRun(name: name, flags: fixed + choice)
        }
        return droppingInapplicableFixedFlags(runs)
    }

    /// `value` with everything but letters, digits, `.`, `+` and `-` replaced by `_`, so a name is
    /// one safe path component on any filesystem and needs no quoting in a shell.
    public static func safeName(_ value: String) -> String {
        let safe = value.unicodeScalars.map { scalar -> Character in
            let allowed = (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) || scalar == "." || scalar == "+" || scalar == "-"
            return allowed ? Character(scalar) : "_"
        }
        let text = String(safe)
        return text.isEmpty || text.allSatisfy({ $0 == "." }) ? "_" + text : text
    }

    /// A run's flags as `meanfield train` arguments: `--heads 8`, `--pre-norm` / `--no-pre-norm`.
    public static func trainArguments(_ flags: [SweepFlag]) -> [String] {
        flags.flatMap { pair -> [String] in
            if booleanFlags.contains(pair.flag), let truth = TrainValueParsing.truth(pair.value) {
                return [truth ? "--\(pair.flag)" : "--no-\(pair.flag)"]
            }
            return ["--\(pair.flag)", pair.value]
        }
    }
}

// MARK: Fits the grid can give

extension SweepGrid {
    /// The fits this grid's axes suggest and cannot give, one line per missing fit with what to add
    /// (``missingFits(axes:)``); `meanfield sweep` prints them before running, and the sweep report
    /// says them where the fits would be.
    public func missingFits() -> [String] { Self.missingFits(axes: axes.map { ($0.flag, $0.values) }) }

    /// The fits that axes `(flag, values)` suggest (distance vs M for a width axis, `heads` or
    /// `units`; error vs L for `layers`; final Q and R vs λ for `weight-decay`) and cannot give:
    /// - fewer than 3 widths below the reference (the widest run), 3 depths below the deepest, or 3
    ///   values λ > 0 (a slope with a 95% interval needs 3 points);
    /// - one seed (no error bars across independent samples; theory §6 E2 asks for at least 5);
    /// - a width axis with one depth (the distance vs M / log L needs at least 2 depths).
    /// Each fit is made per family (every combination of the other axes), so the counts are per family.
    public static func missingFits(axes: [(flag: String, values: [String])]) -> [String] {
        func numbers(_ flag: String) -> [Double]? {
            guard let axis = axes.first(where: { $0.flag == flag }) else { return nil }
            let values = Array(Set(axis.values.compactMap(Double.init))).sorted()
            return values.count >= 2 ? values : nil
        }
        func text(_ values: [Double]) -> String { values.map { MarkupText.number($0, significantDigits: 6) }.joined(separator: ",") }
        /// The values extended geometrically past the largest until `count` lie below the new largest.
        func extended(_ values: [Double], below count: Int) -> [Double] {
            var result = values
            let ratio = values.count >= 2 && values[values.count - 2] > 0 ? values.last! / values[values.count - 2] : 4
            while result.count < count + 1 { result.append((result.last! * max(ratio, 2)).rounded()) }
            return result
        }
        var lines: [String] = []
        let seeds = axes.first(where: { $0.flag == "seed" }).map { Set($0.values).count } ?? 1
        var suggested: [String] = []
        if let widthFlag = ["heads", "units"].first(where: { numbers($0) != nil }), let widths = numbers(widthFlag) {
            suggested.append("width")
            let below = widths.count - 1
            if below < 3 {
                lines.append("width fit (distance to the reference vs M): --\(widthFlag) \(text(widths)) gives \(below) width\(below == 1 ? "" : "s") below the reference M = \(MarkupText.number(widths.last!)) (the widest run); a slope with an interval needs 3: add widths, e.g. --\(widthFlag) \(text(extended(widths, below: 3)))")
            }
            if numbers("layers") == nil {
                lines.append("distance vs M / log L: one depth; add a second, e.g. --layers 2,8, to see whether depth costs only a log L factor in width")
            }
        }
        if let depths = numbers("layers") {
            suggested.append("depth")
            let below = depths.count - 1
            if below < 3 {
                lines.append("depth fit (distance to the deepest run vs L): --layers \(text(depths)) gives \(below) depth\(below == 1 ? "" : "s") below the reference L = \(MarkupText.number(depths.last!)); a slope with an interval needs 3: add depths, e.g. --layers \(text(extended(depths, below: 3)))")
            }
        }
        if let decays = numbers("weight-decay") {
            suggested.append("λ")
            let positive = decays.filter { $0 > 0 }
            if positive.count < 3 {
                lines.append("λ fit (final Q and R vs λ): --weight-decay \(text(decays)) gives \(positive.count) value\(positive.count == 1 ? "" : "s") λ > 0; a slope with an interval needs 3: add values, e.g. --weight-decay 0.0001,0.001,0.01,0.1")
            }
        }
        if seeds < 2 && !suggested.isEmpty {
            lines.append("\(suggested.joined(separator: ", ")) fit\(suggested.count == 1 ? "" : "s") across seeds: one seed, so the interval comes from one sample's residuals, not from independent seeds; add --seeds 5 (theory §6 E2 asks for at least 5)")
        }
        return lines
    }
}

// MARK: Sweep files

/// What a sweep file (`meanfield sweep --grid FILE`) holds: the grid, and optionally the
/// sweep-only settings `seeds`, `parallel`, `threads-per-run` and `out` (command-line flags win).
public struct SweepFile: Sendable, Equatable {
    public var grid: SweepGrid
    public var seeds: Int?
    public var parallel: Int?
    public var threadsPerRun: Int?
    public var out: String?

    /// Loads a sweep file; the format follows the extension (.toml, .json, .yaml/.yml), as for
    /// `meanfield train --config`. Keys are train flags (`heads`, `weight-decay`/`weight_decay`);
    /// a list value is an axis, a single value is fixed. Axes come in the order of the sorted keys
    /// (seed last), so the same file always gives the same runs.
    public static func load(_ path: String) throws -> SweepFile {
        let format: ConfigFile.Format
        do { format = try ConfigFile.format(of: path) } catch { throw RunError("--grid \(path): unknown file type; use a .toml, .json or .yaml/.yml file") }
        return try parse(ConfigFile.read(path, flag: "--grid"), format: format, name: path)
    }

    /// Parses the bytes of a sweep file (`name` is used in messages).
    public static func parse(_ data: Data, format: ConfigFile.Format, name: String) throws -> SweepFile {
        let entries = try ConfigFile.entries(data, format: format, name: name, lists: true)
        var file = SweepFile(grid: SweepGrid(axes: [], fixed: []))
        for (rawKey, values, isList) in entries {
            let key = rawKey.replacingOccurrences(of: "_", with: "-")
            if SweepGrid.sweepFileKeys.contains(key) {
                guard !isList, let value = values.first else { throw RunError("\(name): key '\(rawKey)' takes one value") }
                if key == "out" { file.out = value; continue }
                guard let number = Int(value), number >= 1 else { throw RunError("\(name): key '\(rawKey)': expected an integer ≥ 1, got '\(value)'") }
                switch key {
                case "seeds": file.seeds = number
                case "parallel": file.parallel = number
                default: file.threadsPerRun = number
                }
                continue
            }
            guard !values.isEmpty else { throw RunError("\(name): key '\(rawKey)' has an empty list; give at least one value") }
            file.grid.set(key, values, isList: isList)
        }
        if let seeds = file.seeds {
            try SweepGrid.checkRunCount(seeds, source: "\(name): key 'seeds' \(seeds)")
            if file.grid.fixed.contains(where: { $0.flag == "seed" }) || file.grid.axes.contains(where: { $0.flag == "seed" }) {
                throw RunError("\(name): 'seeds' and 'seed' both give the seeds; use one")
            }
            file.grid.set("seed", (0..<seeds).map(String.init), isList: true)
            file.seeds = nil
        }
        if let index = file.grid.axes.firstIndex(where: { $0.flag == "seed" }) { file.grid.axes.append(file.grid.axes.remove(at: index)) }
        do { try file.grid.validateValues() } catch let error as RunError { throw RunError("\(name): \(error.description)") }
        return file
    }
}

// MARK: Checking runs

extension SweepRunner {
    /// Resolves every run of the sweep as `meanfield train` would (``TrainInvocation``: the table's
    /// defaults, the run's `--config` file, its flags, the checks of keys against each other), so
    /// that a bad run fails before any starts: one line, "run NAME: …".
    public func checkRuns() throws {
        for run in manifest.runs {
            do {
                _ = try TrainInvocation.parse(trainArguments(run)).resolve(defaultThreads: threadsPerRun)
            } catch let error as RunError {
                throw RunError("run \(run.name): \(error.description)")
            } catch let error as TrainInvocation.UsageError {
                throw RunError("run \(run.name): \(error.description)")
            }
        }
    }
}
