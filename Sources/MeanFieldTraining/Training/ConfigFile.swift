import Foundation
import MeanFieldModels
import TOMLKit
import Yams

/// Reads a run configuration file (`meanfield train --config FILE`) into `(key, text)` pairs that
/// ``TrainConfig/apply(_:source:)`` checks key by key, exactly like command-line flags. The format
/// follows the extension: `.toml`, `.json`, `.yaml`/`.yml`. Keys are flat (`heads = 8`), as the
/// flags are; the parsers are TOMLKit (toml++) and Yams (libyaml).
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
        let format = try format(of: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError("--config \(path): cannot read the file (missing or unreadable)")
        }
        return try parse(data, format: format, name: path)
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
        guard let text = String(data: data, encoding: .utf8) else { throw RunError("\(name): not UTF-8 text") }
        var pairs: [(key: String, text: String)] = []
        func scalar(_ key: String, _ value: Any?) throws -> String {
            guard let text = scalarText(value) else {
                throw RunError("\(name): key '\(key)' must be a single value (keys are flat, e.g. heads = 8)")
            }
            return text
        }
        switch format {
        case .json:
            let object: [String: JSONScalar]
            do {
                object = try JSONDecoder().decode([String: JSONScalar].self, from: data)
            } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
                throw RunError("\(name): key '\(context.codingPath[0].stringValue)' must be a single value (keys are flat, e.g. \"heads\": 8)")
            } catch {
                throw RunError("\(name): not a JSON object of keys and values (\(firstLine(error)))")
            }
            for key in object.keys.sorted() { pairs.append((key, object[key]!.text)) }
        case .yaml:
            let loaded: Any?
            do { loaded = try Yams.load(yaml: text) } catch { throw RunError("\(name): not valid YAML (\(firstLine(error)))") }
            if loaded == nil { return [] }
            guard let map = loaded as? [String: Any] else { throw RunError("\(name): the YAML document must be a map of keys to values") }
            for key in map.keys.sorted() { pairs.append((key, try scalar(key, map[key]!))) }
        case .toml:
            let table: TOMLTable
            do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
                throw RunError("\(name): not valid TOML: \(error.description) (\(error.source.debugDescription))")
            }
            for key in table.keys.sorted() {
                let value = table[key]!
                switch value.type {
                case .bool: pairs.append((key, value.bool! ? "true" : "false"))
                case .int: pairs.append((key, String(value.int!)))
                case .double: pairs.append((key, "\(value.double!)"))
                case .string: pairs.append((key, value.string!))
                default: throw RunError("\(name): key '\(key)' must be a single value (keys are flat, e.g. heads = 8)")
                }
            }
        }
        return pairs
    }

    private static func firstLine(_ error: Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
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
