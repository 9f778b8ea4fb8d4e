import Foundation
import MeanFieldModels

/// A parsed JSON value, for run files whose keys vary between tasks (metrics lines, format-1
/// files read before decoding) and for sweep.json.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Numbers first: most values of a run file are numbers, and a failed attempt costs a thrown error.
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields)
        }
    }

    /// The format-1 spelling of ±∞ as a bare number (what Python's json writes for float('inf')
    /// with a large exponent), which JSON decoders reject.
    private static let legacyInfinity = try! NSRegularExpression(pattern: "([:\\[,]\\s*)(-?)1e999(?=\\s*[,\\]}])")

    /// Parses `text`. ±1e999 in a value position (format 1) is read as ±∞.
    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        if text.contains("1e999") {
            text = legacyInfinity.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1\"$2inf\"")
        }
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// The value as a number: numbers, the strings "inf", "-inf", "nan" and other numeric strings
    /// ("0.01"), booleans as 0/1; `null` (format 1's NaN) is NaN; nil otherwise.
    public var number: Double? {
        switch self {
        case .number(let value): return value
        case .null: return .nan
        case .string(let text):
            switch text {
            case "inf", "+inf", "Infinity": return .infinity
            case "-inf", "-Infinity": return -.infinity
            case "nan", "NaN": return .nan
            default: return Double(text)
            }
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }

    /// The value as a list of numbers (nil if it is not an array of numbers).
    public var numbers: [Double]? {
        guard case .array(let items) = self else { return nil }
        let values = items.compactMap(\.number)
        return values.count == items.count ? values : nil
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let fields) = self { return fields }
        return nil
    }

    public subscript(key: String) -> JSONValue? { object?[key] }
}
