// The table of hostile invocations, Fixtures/hostile-invocations.tsv: one row per invocation, read by
// HostileInvocationTests (which runs each row) and counted in docs/reliability.md (a test checks the
// counts). Row format, tab-separated: the class (`HostileInvocationTable.classes`), the command line
// (arguments split at spaces; '' is an empty argument, 'a b' one argument with a space), the exit
// status, then each text the one Error: line must contain. $DIR is the test's scratch folder (its files: HostileInvocationTests), $INTMAX is
// Int.max. Lines starting with # are comments.
import Foundation

enum HostileInvocationTable {
    /// The classes of rows, as docs/reliability.md names them.
    static let classes: KeyValuePairs = [
        "value": "bad values (not a number, not a choice, empty, NaN, zero or negative)",
        "number": "extreme numbers (near Int.max, past Double, past a bound; in flags and config files)",
        "path": "odd paths and files (empty, root, missing, FIFOs, devices, folders, dangling links, binary, not UTF-8, 10⁵-deep JSON)",
        "bomb": "bombs (YAML aliases, huge grids, sizes past memory or disk)",
    ]

    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile-invocations.tsv").path

    /// The rows, with $DIR replaced by `folder`; a malformed row is an error naming its line.
    static func rows(folder: String) throws -> [BadInvocation] { try classifiedRows(folder: folder).map(\.invocation) }

    /// The rows with their classes.
    static func classifiedRows(folder: String) throws -> [(kind: String, invocation: BadInvocation)] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows: [(kind: String, invocation: BadInvocation)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty && !line.hasPrefix("#") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard columns.count >= 4, classes.contains(where: { $0.key == columns[0] }), let status = Int32(columns[2]), !columns[1].isEmpty else {
                throw TableError("hostile-invocations.tsv line \(index + 1): expected CLASS<TAB>COMMAND<TAB>STATUS<TAB>TEXT…, got '\(line)'")
            }
            let arguments = try split(columns[1], line: index + 1).map {
                $0.replacingOccurrences(of: "$DIR", with: folder).replacingOccurrences(of: "$INTMAX", with: String(Int.max))
            }
            rows.append((columns[0], BadInvocation(arguments: arguments, status: status, mentions: Array(columns.dropFirst(3)))))
        }
        return rows
    }

    /// The text docs/reliability.md must contain: the count, the count of each command (most first),
    /// then of each class.
    static func summary(_ rows: [(kind: String, invocation: BadInvocation)]) -> String {
        let counts = Dictionary(grouping: rows, by: { $0.invocation.arguments[0] }).mapValues(\.count)
        let commands = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }
        let kinds = classes.map { kind in "\(rows.filter { $0.kind == kind.key }.count) \(kind.value)" }
        return "**\(rows.count) hostile invocations** (\(commands.joined(separator: ", "))): \(kinds.joined(separator: "; "))"
    }

    /// Splits a command line at spaces; single quotes group (and '' is an empty argument).
    private static func split(_ text: String, line: Int) throws -> [String] {
        var arguments: [String] = [], current = "", quoted = false, started = false
        for character in text {
            if character == "'" { quoted.toggle(); started = true; continue }
            if character == " " && !quoted {
                if started { arguments.append(current) }
                (current, started) = ("", false)
                continue
            }
            current.append(character)
            started = true
        }
        guard !quoted else { throw TableError("hostile-invocations.tsv line \(line): unbalanced quote in '\(text)'") }
        if started { arguments.append(current) }
        return arguments
    }

    struct TableError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
