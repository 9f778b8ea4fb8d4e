import Foundation

/// A CSV file with a header row (RFC 4180: commas, double-quoted fields with "" for a quote).
public struct CSVTable: Sendable {
    public var header: [String]
    public var rows: [[String]]

    /// Parses `text`; rows shorter than the header are padded with empty fields.
    public static func parse(_ text: String) -> CSVTable {
        var records: [[String]] = []
        var field = "", record: [String] = []
        var quoted = false, afterQuote = false
        var iterator = text.makeIterator()
        func endRecord() {
            record.append(field)
            field = ""
            if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
            record = []
        }
        while let character = iterator.next() {
            if quoted {
                if character == "\"" { quoted = false; afterQuote = true } else { field.append(character) }
                continue
            }
            switch character {
            case "\"":
                if afterQuote { field.append("\"") }
                quoted = true
            case ",": record.append(field); field = ""
            case "\n", "\r\n": endRecord()
            case "\r": break
            default: field.append(character)
            }
            afterQuote = false
        }
        if !field.isEmpty || !record.isEmpty { endRecord() }
        guard let header = records.first else { return CSVTable(header: [], rows: []) }
        let rows = records.dropFirst().map { $0.count < header.count ? $0 + Array(repeating: "", count: header.count - $0.count) : $0 }
        return CSVTable(header: header.map { $0.trimmingCharacters(in: .whitespaces) }, rows: Array(rows))
    }

    /// `rows` as CSV text: RFC 4180 quoting where a cell needs it, `\n` line ends.
    public static func text(_ rows: [[String]]) -> String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// The rows as dictionaries keyed by the header.
    public var records: [[String: String]] {
        rows.map { row in Dictionary(zip(header, row), uniquingKeysWith: { first, _ in first }) }
    }
}
