import Foundation
import MeanFieldModels
import Yams

/// Reads a run configuration file (`meanfield train --config FILE`) into `(key, text)` pairs that
/// ``TrainConfig/apply(_:source:)`` checks key by key, exactly like command-line flags. The format
/// follows the extension: `.toml`, `.json`, `.yaml`/`.yml`. Keys are flat (`heads = 8`), as the
/// flags are; the parsers are `FlatTOMLParser` (FlatTOML.swift) and Yams (libyaml).
public enum ConfigFile {
    public enum Format: String, Sendable, CaseIterable { case toml, json, yaml }

    /// The format of `path` from its extension; a one-line error for any other extension.
    public static func format(of path: String) throws -> Format {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "toml": return .toml
        case "json": return .json
        case "yaml", "yml": return .yaml
        default: throw RunError("--config \(path): unknown file type; use a .toml, .json or .yaml/.yml file")
        }
    }

    /// Loads `path` and returns its keys and values as text.
    public static func load(_ path: String) throws -> [(key: String, text: String)] {
        try parse(read(path, flag: "--config"), format: format(of: path), name: path)
    }

    /// The largest config or sweep file read: every key of the table with a long comment fits in a
    /// few KiB; more is not a config (and a parser must not be fed gigabytes).
    public static let maximumBytes = 1 << 20

    /// The bytes of the config or sweep file `path` given by `flag`: a regular file (links followed;
    /// a FIFO or device is refused before any read, so it cannot block) of at most ``maximumBytes``.
    public static func read(_ path: String, flag: String) throws -> Data {
        let bytes = try InputPath.regularFileSize(path, flag: flag)
        guard bytes <= maximumBytes else {
            throw RunError("\(flag) \(path): \(bytes) bytes, more than the \(maximumBytes) a config file may have; pass the config file itself")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError("\(flag) \(path): cannot read the file (missing or unreadable)")
        }
        return data
    }

    /// The most values (keys, scalars, lists) a YAML config or sweep file may hold once its aliases are
    /// expanded: a config has one per key, a sweep file a few hundred grid values.
    static let maximumYAMLValues = 100_000

    /// Counts the values of `node` against `budget` (aliases counted every time they are used) and
    /// refuses nesting deeper than a map of lists (a config is flat; a sweep file's values may be lists).
    static func checkYAMLSize(_ node: Node, depth: Int, budget: inout Int, name: String) throws {
        budget -= 1
        guard budget >= 0 else {
            throw RunError("\(name): more than \(maximumYAMLValues) YAML values once its aliases are expanded; a config is a map of keys to values")
        }
        guard depth <= 2 else { throw RunError("\(name): YAML nested deeper than a map of lists; a config is a map of keys to values (or lists of them)") }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                // Yams builds a map's keys with a forced unwrap and traps on a key that is itself a map
                // or a list ("? [a]: 1", " ?  ? "; found by fuzzing): refused before anything is built.
                guard case .scalar = key else {
                    let place = key.mark.map { " line \($0.line)" } ?? ""
                    throw RunError("\(name)\(place): a YAML key is a map or a list; a config's keys are names (e.g. heads: 8)")
                }
                try checkYAMLSize(key, depth: depth + 1, budget: &budget, name: name)
                try checkYAMLSize(value, depth: depth + 1, budget: &budget, name: name)
            }
        case .sequence(let sequence):
            for value in sequence { try checkYAMLSize(value, depth: depth + 1, budget: &budget, name: name) }
        default: break
        }
    }

    /// How YAML scalars become values: YAML 1.1's resolution (booleans, integers in bases 2, 8, 10 and
    /// 16, floats, null) without its base-60 numbers, timestamps and binary data, which stay text and
    /// reach the key's own parser (and its one-line error). Yams multiplies base-60 integers without an
    /// overflow check and traps ("examples: 923337203685477580:5"; found by fuzzing).
    static var yamlConstructor: Constructor {
        var map = Constructor.defaultScalarMap
        let integer = map[.int]!, float = map[.float]!
        map[.int] = { $0.string.contains(":") ? nil : integer($0) }
        map[.float] = { $0.string.contains(":") ? nil : float($0) }
        map[.timestamp] = nil
        map[.binary] = nil
        return Constructor(map)
    }

    /// The 1-based line of `path` that sets `key` (`key =` in TOML, `key:` in YAML, `"key":` in JSON;
    /// `_` and `-` spellings both match), or nil: the parsers do not report positions, so config
    /// errors find the line by its text.
    public static func line(of key: String, in path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let spellings = Set([key, key.replacingOccurrences(of: "-", with: "_"), key.replacingOccurrences(of: "_", with: "-")])
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var text = line.drop(while: { $0 == " " || $0 == "\t" || $0 == "{" || $0 == "," })
            if text.first == "\"" || text.first == "'" { text = text.dropFirst() }
            for spelling in spellings where text.hasPrefix(spelling) {
                let rest = text.dropFirst(spelling.count).drop(while: { $0 == " " || $0 == "\"" || $0 == "'" })
                if rest.first == "=" || rest.first == ":" { return index + 1 }
            }
        }
        return nil
    }

    /// The source label of a config file's key in error messages: "FILE line N: key 'K'".
    public static func source(of key: String, in path: String) -> String {
        line(of: key, in: path).map { "\(path) line \($0): key '\(key)'" } ?? "\(path): key '\(key)'"
    }

    /// The flag text of a scalar read from TOML/JSON/YAML ("null" for a null), nil for a table or list.
    package static func scalarText(_ value: Any?) -> String? {
        switch value {
        case nil, is NSNull: return "null"
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let number as Double: return "\(number)"
        case let string as String: return string
        default: return nil
        }
    }

    /// Parses the bytes of a config file (`name` is used in messages).
    public static func parse(_ data: Data, format: Format, name: String) throws -> [(key: String, text: String)] {
        try entries(data, format: format, name: name, lists: false).map { ($0.key, $0.values[0]) }
    }

    /// The keys of a flat file, sorted, each with its value as text, or with `lists` (a sweep file,
    /// whose lists are grid axes) also a list of values. A value of any other shape (a table, a
    /// nested list) is a one-line error naming the key.
    package static func entries(_ data: Data, format: Format, name: String, lists: Bool) throws -> [(key: String, values: [String], isList: Bool)] {
        guard let text = String(data: data, encoding: .utf8) else { throw RunError("\(name): not UTF-8 text") }
        let example = lists ? (format == .json ? "\"heads\": [2, 8, 32]" : "heads = [2, 8, 32]") : (format == .json ? "\"heads\": 8" : "heads = 8")
        func refusal(_ key: String) -> RunError {
            RunError("\(name): key '\(key)' must be " + (lists ? "a value or a list of values (e.g. \(example))" : "a single value (keys are flat, e.g. \(example))"))
        }
        func scalar(_ key: String, _ value: Any?) throws -> String {
            guard let text = scalarText(value) else { throw refusal(key) }
            return text
        }
        var entries: [(key: String, values: [String], isList: Bool)] = []
        switch format {
        case .json:
            let object: [String: JSONEntry]
            do {
                object = try JSONDecoder().decode([String: JSONEntry].self, from: data)
            } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
                throw refusal(context.codingPath[0].stringValue)
            } catch {
                throw RunError("\(name): not a JSON object of keys and values (\(firstLine(error)))")
            }
            for key in object.keys.sorted() {
                switch object[key]! {
                case .list(let values): guard lists else { throw refusal(key) }; entries.append((key, values, true))
                case .scalar(let value): entries.append((key, [value], false))
                }
            }
        case .yaml:
            let loaded: Any?
            do {
                // Aliases expand when values are built (a few hundred bytes of nested aliases stand for
                // billions of values): the composed tree, whose aliases share their nodes, is measured first.
                var budget = maximumYAMLValues
                // Nested values are built by the constructor the parser gave their node's tag.
                let constructor = yamlConstructor
                if let node = try Yams.compose(yaml: text, .default, constructor) {
                    try checkYAMLSize(node, depth: 0, budget: &budget, name: name)
                    loaded = constructor.any(from: node)
                } else {
                    loaded = nil
                }
            } catch let error as RunError { throw error } catch { throw RunError("\(name): not valid YAML (\(firstLine(error)))") }
            guard let loaded else { break }
            guard let map = loaded as? [String: Any] else { throw RunError("\(name): the YAML document must be a map of keys to values") }
            for key in map.keys.sorted() {
                if lists, let list = map[key] as? [Any] {
                    entries.append((key, try list.map { try scalar(key, $0) }, true))
                } else {
                    entries.append((key, [try scalar(key, map[key]!)], false))
                }
            }
        case .toml:
            // TOML allows no control character but tab, line feed and carriage return.
            if let index = text.unicodeScalars.firstIndex(where: { ($0.value < 0x20 && ![0x09, 0x0A, 0x0D].contains($0.value)) || $0.value == 0x7F }) {
                let line = text.unicodeScalars[..<index].filter { $0 == "\n" }.count + 1
                let code = String(text.unicodeScalars[index].value, radix: 16, uppercase: true)
                throw RunError("\(name) line \(line): not valid TOML: control character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code) (TOML allows only tab, line feed and carriage return)")
            }
            var parser = FlatTOMLParser(text, name: name)
            let parsed: [(key: String, value: FlatTOMLValue)]
            do { parsed = try parser.parse() } catch let error as FlatTOMLParser.NotFlat { throw refusal(error.key) }
            for (key, value) in parsed.sorted(by: { $0.key < $1.key }) {
                switch value {
                case .scalar(let text): entries.append((key, [text], false))
                case .array(let values): guard lists else { throw refusal(key) }; entries.append((key, values, true))
                }
            }
        }
        return entries
    }

    private static func firstLine(_ error: Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    }
}

/// A JSON value of a config or sweep file: one scalar or a list of scalars, as text.
private enum JSONEntry: Decodable {
    case scalar(String)
    case list([String])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([JSONScalar].self) {
            self = .list(list.map(\.text))
        } else if let value = try? container.decode(JSONScalar.self) {
            self = .scalar(value.text)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a value or a list of values")
        }
    }
}

/// One JSON value that is not an object or array, as text (config files and sweep files).
package struct JSONScalar: Decodable {
    package let text: String
    package init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { text = "null" }
        else if let flag = try? container.decode(Bool.self) { text = flag ? "true" : "false" }
        else if let number = try? container.decode(Int64.self) { text = String(number) }
        else if let number = try? container.decode(UInt64.self) { text = String(number) }
        else if let number = try? container.decode(Double.self) { text = "\(number)" }
        else { text = try container.decode(String.self) }
    }
}
