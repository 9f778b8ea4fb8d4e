import Foundation
import Yams

/// `DIR/sweep.json`: what a sweep runs, written before any run starts (local or Slurm) and read
/// by `meanfield sweep --summarize`, `meanfield report` and the limit diagnostics:
///
/// ```json
/// {"grid": {"heads": ["2", "8"], "seed": ["0", "1"]},
///  "fixed": {"task": "icl-regression", "steps": "100"},
///  "runs": [{"name": "heads-2_seed-0", "flags": {"task": "icl-regression", "steps": "100", "heads": "2", "seed": "0"}}, …]}
/// ```
///
/// Every value is a string, exactly as it is passed to `meanfield train`; `flags` lists all the
/// train flags of the run (fixed ones, then its grid values) except `--out` and `--threads`,
/// which the sweep adds (the run lives in `DIR/runs/<name>`). Keys keep the grid's order. A run
/// that a fixed flag does not apply to lists it under `dropped` instead of `flags`
/// (`{"name": "optimizer-euler", "flags": {…}, "dropped": {"momentum": "0.5"}}`; absent when none).
public struct SweepManifest: Sendable, Equatable {
    public var grid: SweepGrid
    public var runs: [SweepRun]

    public init(grid: SweepGrid) {
        self.grid = grid
        self.runs = grid.runs
    }

    init(grid: SweepGrid, runs: [SweepRun]) {
        self.grid = grid
        self.runs = runs
    }

    public static let fileName = "sweep.json"

    /// The JSON text (keys in grid order; written by hand because JSON objects from Foundation
    /// lose their order).
    public var json: String {
        func object(_ pairs: [(String, String)], indent: String) -> String {
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { "\(indent)  \(jsonQuoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n\(indent)}"
        }
        func inline(_ flags: [SweepFlag]) -> String {
            "{" + flags.map { "\(jsonQuoted($0.flag)): \(jsonQuoted($0.value))" }.joined(separator: ", ") + "}"
        }
        let gridText = object(grid.axes.map { ($0.flag, "[" + $0.values.map(jsonQuoted).joined(separator: ", ") + "]") }, indent: "  ")
        let fixedText = object(grid.fixed.map { ($0.flag, jsonQuoted($0.value)) }, indent: "  ")
        let runsText = runs.isEmpty ? "[]" : "[\n" + runs.map { run in
            "    {\"name\": \(jsonQuoted(run.name)), \"flags\": \(inline(run.flags))" + (run.dropped.isEmpty ? "" : ", \"dropped\": \(inline(run.dropped))") + "}"
        }.joined(separator: ",\n") + "\n  ]"
        return "{\n  \"grid\": \(gridText),\n  \"fixed\": \(fixedText),\n  \"runs\": \(runsText)\n}\n"
    }

    /// Writes `directory/sweep.json` atomically.
    public func write(to directory: String) throws {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName)
        do { try Data(json.utf8).write(to: url, options: .atomic) } catch {
            throw RunError("cannot write \(url.path): \(error.localizedDescription); pass a writable --out")
        }
    }

    /// Reads `directory/sweep.json` (keeping the order of its keys: the file is read as YAML, of
    /// which JSON is a subset, because YAML mappings keep their order).
    public static func read(from directory: String) throws -> SweepManifest {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RunError("\(path): cannot read the file; pass the --out folder of a meanfield sweep")
        }
        return try parse(text, name: path)
    }

    /// Parses the text of a sweep.json (`name` is used in messages).
    public static func parse(_ text: String, name: String) throws -> SweepManifest {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw RunError("\(name): not valid JSON (\(error))") }
        guard let root = node?.mapping else { throw RunError("\(name): expected an object with grid, fixed and runs") }
        func pairs(_ node: Node?, _ what: String) throws -> [(String, Node)] {
            guard let node else { return [] }
            guard let mapping = node.mapping else { throw RunError("\(name): '\(what)' must be an object") }
            return try mapping.map { key, value in
                guard let key = key.string else { throw RunError("\(name): a key of '\(what)' is not a string") }
                return (key, value)
            }
        }
        func string(_ node: Node, _ what: String) throws -> String {
            guard let scalar = node.scalar else { throw RunError("\(name): \(what) must be a string") }
            return scalar.string
        }
        let axes = try pairs(root["grid"], "grid").map { flag, values -> SweepAxis in
            guard let list = values.sequence else { throw RunError("\(name): grid '\(flag)' must be a list") }
            return SweepAxis(flag, try list.map { try string($0, "grid '\(flag)' values") })
        }
        let fixed = try pairs(root["fixed"], "fixed").map { SweepFlag($0.0, try string($0.1, "fixed '\($0.0)'")) }
        guard let runList = root["runs"]?.sequence else { throw RunError("\(name): 'runs' must be a list") }
        let runs = try runList.map { run -> SweepRun in
            guard let runName = run["name"]?.scalar?.string else { throw RunError("\(name): a run has no name") }
            let flags = try pairs(run["flags"], "flags of \(runName)").map { SweepFlag($0.0, try string($0.1, "flag '\($0.0)' of \(runName)")) }
            let dropped = try pairs(run["dropped"], "dropped of \(runName)").map { SweepFlag($0.0, try string($0.1, "dropped '\($0.0)' of \(runName)")) }
            return SweepRun(name: runName, flags: flags, dropped: dropped)
        }
        return SweepManifest(grid: SweepGrid(axes: axes, fixed: fixed), runs: runs)
    }

    /// Refuses to reuse a sweep folder whose earlier sweep.json gives one of these runs other
    /// flags: its finished run would be skipped and reported as if it had the new flags. A sweep
    /// that only adds runs (new values on an axis) may share the folder.
    public func checkCompatible(withExistingIn directory: String) throws {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let old = try Self.read(from: directory)
        let oldFlags = Dictionary(old.runs.map { ($0.name, Set($0.flags)) }, uniquingKeysWith: { first, _ in first })
        for run in runs {
            if let previous = oldFlags[run.name], previous != Set(run.flags) {
                let changed = Set(run.flags).symmetricDifference(previous).map(\.flag)
                let names = Array(Set(changed)).sorted().map { "--\($0)" }.joined(separator: ", ")
                throw RunError("\(directory) holds a sweep whose run \(run.name) has other flags (\(names)); use another --out, or remove \(path) and that run's folder")
            }
        }
    }
}

/// A JSON string literal.
func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}
