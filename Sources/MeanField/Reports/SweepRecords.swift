import Foundation

/// What a report reads from a sweep directory (written by `meanfield sweep`):
///
///     DIR/sweep.json         {"grid": {flag: [values as strings]}, "fixed": {flag: value},
///                             "runs": [{"name", "flags": {flag: value}}]}
///     DIR/runs/<name>/       ordinary run directories (``RunRecord``)
///     DIR/summary.csv        name, one column per grid flag, status, steps, t, R, eval_R, Q,
///                            train_acc, test_acc, wall_seconds (missing values empty)
///     DIR/diagnostics.json   optional: limit diagnostics (``DiagnosticsReport``)
///
/// A run that has not started or whose files are corrupt does not stop the report: it is listed
/// in ``problems``.
public struct SweepRecords: Sendable {
    /// One grid point.
    public struct Run: Sendable {
        public var name: String
        /// The grid flags of this run (flag → value as given on the command line).
        public var flags: [String: String]
        /// The run directory's files, nil if it could not be read.
        public var records: RunRecord?
        /// This run's row of summary.csv (column → text).
        public var summaryRow: [String: String]

        /// The final value of a summary quantity (R, eval_R, Q, train_acc, test_acc, t, steps):
        /// summary.csv when it has it, else the last metrics line.
        public func final(_ column: String) -> Double? {
            if let text = summaryRow[column], !text.isEmpty, let value = Double(text) { return value }
            return records?.last(column)
        }

        /// A grid flag as a number.
        public func flag(_ name: String) -> Double? { flags[name].flatMap(Double.init) }
    }

    public let path: String
    /// Grid flags in display order (summary.csv's column order when present) and their values.
    public let grid: [(flag: String, values: [String])]
    /// Flags every run shares (sweep.json "fixed"), sorted by name.
    public let fixed: [(flag: String, value: String)]
    public let runs: [Run]
    public let summary: CSVTable?
    /// diagnostics.json, when present.
    public let diagnostics: DiagnosticsReport?
    /// Runs that could not be read, one line each.
    public let problems: [String]

    /// Whether `path` is a sweep directory (it has sweep.json).
    public static func isSweep(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/sweep.json")
    }

    /// Reads the sweep directory at `path`.
    public static func load(path: String) throws -> SweepRecords {
        guard let data = FileManager.default.contents(atPath: path + "/sweep.json") else {
            throw RunError("\(path)/sweep.json: cannot read the file")
        }
        guard let value = try? JSONValue.parse(String(decoding: data, as: UTF8.self)), let description = value.object else {
            throw RunError("\(path)/sweep.json: not a JSON object (corrupt or truncated file)")
        }
        var summary: CSVTable?
        if let data = FileManager.default.contents(atPath: path + "/summary.csv") {
            summary = CSVTable.parse(String(decoding: data, as: UTF8.self))
        }
        let summaryRows = Dictionary((summary?.records ?? []).map { ($0["name"] ?? "", $0) }, uniquingKeysWith: { _, last in last })

        let gridObject = description["grid"]?.object ?? [:]
        let columnOrder = summary?.header ?? []
        let flags = gridObject.keys.sorted { (columnOrder.firstIndex(of: $0) ?? Int.max, $0) < (columnOrder.firstIndex(of: $1) ?? Int.max, $1) }
        let grid = flags.map { flag in (flag, gridObject[flag]?.array?.map { $0.string ?? $0.displayText } ?? []) }

        var runs: [Run] = [], problems: [String] = []
        var listed = description["runs"]?.array ?? []
        if listed.isEmpty, let table = summary {
            listed = table.records.map { row in .object(["name": .string(row["name"] ?? ""), "flags": .object(Dictionary(uniqueKeysWithValues: flags.map { ($0, JSONValue.string(row[$0] ?? "")) }))]) }
        }
        for entry in listed {
            guard let name = entry["name"]?.string, !name.isEmpty else { continue }
            let runFlags = (entry["flags"]?.object ?? [:]).mapValues { $0.string ?? $0.displayText }
            let runPath = path + "/runs/" + name
            var records: RunRecord?
            if RunFolder.isRun(runPath) {
                do { records = try RunRecord(path: runPath) } catch { problems.append("run \(name): \(error)") }
            } else {
                problems.append("run \(name): no run directory at \(runPath) (not started yet?)")
            }
            runs.append(Run(name: name, flags: runFlags, records: records, summaryRow: summaryRows[name] ?? [:]))
        }
        let diagnostics = try DiagnosticsReport.read(from: path)
        let fixedObject = description["fixed"]?.object ?? [:]
        let fixed = fixedObject.keys.sorted().map { ($0, fixedObject[$0]!.string ?? fixedObject[$0]!.displayText) }
        return SweepRecords(path: path, grid: grid, fixed: fixed, runs: runs, summary: summary, diagnostics: diagnostics, problems: problems)
    }

    /// The values of grid flag `flag` (empty if it is not in the grid).
    public func values(of flag: String) -> [String] {
        grid.first { $0.flag == flag }?.values ?? []
    }

    /// Whether the grid varies `flag` over at least two values.
    public func varies(_ flag: String) -> Bool { Set(values(of: flag)).count >= 2 }
}
