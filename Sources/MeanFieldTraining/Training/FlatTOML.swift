// The TOML of run-configuration and sweep files: flat `key = value` lines whose values are scalars or
// arrays of scalars (TOML 1.0, https://toml.io/en/v1.0.0, restricted to what a flat file can hold).
// MeanField parses it itself: the C++ parser it used before (toml++, through TOMLKit) aborted the
// process on malformed input in several places (assertions found by fuzzing: a table header without
// a key, a '}' after an array's comma), which no pre-check can rule out.

import MeanFieldModels

/// A value of a flat TOML file: one scalar as text, or an array of them.
enum FlatTOMLValue: Equatable {
    case scalar(String)
    case array([String])
}

/// Parses a flat TOML file into its keys and values, in file order. Scalars come back as the text
/// the config reader takes: strings unescaped, integers in decimal, floats as Swift prints a
/// `Double`, booleans as `true`/`false`. Errors are one line naming the file's line:
/// - `NotFlat(key)` for a value TOML allows but a flat file cannot hold (a table, an inline table, a
///   nested array, a date), so the caller can name the key and the fix;
/// - `RunError` for text that is not TOML, or that this subset leaves out (multi-line strings).
struct FlatTOMLParser {
    /// A valid TOML value that is not a scalar or an array of scalars, under `key`.
    struct NotFlat: Error { let key: String }

    private let scalars: [Unicode.Scalar]
    private let name: String
    private var index = 0
    private var line = 1

    init(_ text: String, name: String) {
        scalars = Array(text.unicodeScalars)
        self.name = name
    }

    mutating func parse() throws -> [(key: String, value: FlatTOMLValue)] {
        var entries: [(key: String, value: FlatTOMLValue)] = []
        var seen = Set<String>()
        while true {
            skipBlanks()
            guard let next = peek() else { return entries }
            if next == "#" { skipComment(); continue }
            if isNewline(next) { consumeNewline(); continue }
            if next == "[" {
                // A table header ("[model]", "[[runs]]"): a table has no place in a flat file.
                index += 1
                if peek() == "[" { index += 1 }
                skipBlanks()
                guard let first = peek(), isBareKeyScalar(first) || first == "\"" || first == "'" else {
                    throw invalid("a table header needs a key after '[', saw \(describe(peek()))")
                }
                throw NotFlat(key: try key())
            }
            let key = try key()
            skipBlanks()
            if peek() == "." { throw NotFlat(key: key) }  // a dotted key defines a table
            guard peek() == "=" else { throw invalid("expected '=' after the key '\(key)', saw \(describe(peek()))") }
            index += 1
            skipBlanks()
            let value = try value(of: key)
            guard seen.insert(key).inserted else { throw invalid("the key '\(key)' is defined twice") }
            entries.append((key, value))
            skipBlanks()
            if peek() == "#" { skipComment() }
            guard let end = peek() else { return entries }
            guard isNewline(end) else { throw invalid("expected the end of the line after the value of '\(key)', saw \(describe(end))") }
            consumeNewline()
        }
    }

    // MARK: Keys

    private mutating func key() throws -> String {
        switch peek() {
        case "\""?: return try basicString()
        case "'"?: return try literalString()
        default:
            let start = index
            while let c = peek(), isBareKeyScalar(c) { index += 1 }
            guard index > start else { throw invalid("expected a key, saw \(describe(peek()))") }
            return String(String.UnicodeScalarView(scalars[start..<index]))
        }
    }

    private func isBareKeyScalar(_ c: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(c) || ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
    }

    // MARK: Values

    private mutating func value(of key: String) throws -> FlatTOMLValue {
        guard let first = peek() else { throw invalid("the key '\(key)' has no value") }
        switch first {
        case "[":
            index += 1
            var items: [String] = []
            while true {
                skipBlanksNewlinesAndComments()
                if peek() == "]" { index += 1; return .array(items) }
                if peek() == "[" || peek() == "{" { throw NotFlat(key: key) }
                items.append(try scalar(of: key))
                skipBlanksNewlinesAndComments()
                switch peek() {
                case ","?: index += 1
                case "]"?: index += 1; return .array(items)
                default: throw invalid("expected ',' or ']' in the array of '\(key)', saw \(describe(peek()))")
                }
            }
        case "{":
            throw NotFlat(key: key)
        default:
            return .scalar(try scalar(of: key))
        }
    }

    private mutating func scalar(of key: String) throws -> String {
        switch peek() {
        case "\""?: return try basicString()
        case "'"?: return try literalString()
        case nil: throw invalid("the key '\(key)' has no value")
        default: break
        }
        // A bare token: a boolean, a number, or a date/time (a TOML value a flat file cannot hold).
        let start = index
        while let c = peek(), !isBlank(c), !isNewline(c), c != ",", c != "]", c != "#" { index += 1 }
        let token = String(String.UnicodeScalarView(scalars[start..<index]))
        // A local time or date with a space before its time part ("1979-05-27 07:32:00").
        if token.count == 10, token.contains("-"), peek() == " ", index + 1 < scalars.count, ("0"..."9").contains(scalars[index + 1]) {
            throw NotFlat(key: key)
        }
        switch token {
        case "true", "false": return token
        case "": throw invalid("the key '\(key)' has no value, saw \(describe(peek()))")
        default: break
        }
        if let number = Self.number(token) { return number }
        let digits = token.drop { $0 == "+" || $0 == "-" }
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }) {
            throw invalid("the integer \(token) of '\(key)' is out of range (TOML integers are 64-bit)")
        }
        if let value = Double(token.filter { $0 != "_" }), value.isInfinite {
            throw invalid("the float \(token) of '\(key)' is out of range (beyond ±1.8e308)")
        }
        if Self.looksLikeDateOrTime(token) { throw NotFlat(key: key) }
        throw invalid("'\(token)' is not a TOML value (a number, true or false, or a quoted string) for '\(key)'")
    }

    /// A TOML integer (decimal with optional sign and underscores between digits; 0x, 0o, 0b) in
    /// decimal, or a TOML float as Swift prints the `Double`; nil for anything else.
    static func number(_ token: String) -> String? {
        var body = Substring(token)
        let sign = body.first == "+" || body.first == "-" ? String(body.removeFirst()) : ""
        if ["inf", "nan"].contains(body) { return "\(Double(sign + body)!)" }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            let digits = body.dropFirst(2)
            guard sign.isEmpty, underscoresBetweenDigits(digits, radix: radix), let value = Int64(digits.filter { $0 != "_" }, radix: radix) else { return nil }
            return String(value)
        }
        // Decimal: integer part without leading zeros, then an optional fraction and exponent.
        let parts = body.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: "E", maxSplits: 1, omittingEmptySubsequences: false) }
        guard parts.count <= 2, let mantissa = parts.first else { return nil }
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = pieces[0]
        guard underscoresBetweenDigits(integer, radix: 10), integer == "0" || integer.first != "0" else { return nil }
        if pieces.count == 2 { guard underscoresBetweenDigits(pieces[1], radix: 10) else { return nil } }
        if parts.count == 2 {
            var exponent = parts[1]
            if exponent.first == "+" || exponent.first == "-" { exponent = exponent.dropFirst() }
            guard underscoresBetweenDigits(exponent, radix: 10) else { return nil }
        }
        let plain = sign + body.filter { $0 != "_" }
        if pieces.count == 1 && parts.count == 1 { return Int64(plain).map { String($0) } }
        guard let value = Double(plain), value.isFinite else { return nil }
        return "\(value)"
    }

    /// Digits of `radix`, at least one, with single underscores only between digits.
    private static func underscoresBetweenDigits(_ text: Substring, radix: Int) -> Bool {
        guard let first = text.first, let last = text.last, first != "_", last != "_", !text.contains("__") else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && $0.hexDigitValue.map { $0 < radix } == true) }
    }

    private static func looksLikeDateOrTime(_ token: String) -> Bool {
        guard let first = token.unicodeScalars.first, ("0"..."9").contains(first) else { return false }
        return token.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || "-:TZtz.+".unicodeScalars.contains($0) }
            && (token.contains("-") || token.contains(":"))
    }

    // MARK: Strings

    private mutating func basicString() throws -> String {
        index += 1  // the opening quote
        if peek() == "\"", index + 1 < scalars.count, scalars[index + 1] == "\"" {
            throw invalid("multi-line strings (\"\"\") are not supported in config files; write the value on one line")
        }
        var text = String.UnicodeScalarView()
        while true {
            guard let c = peek(), !isNewline(c) else { throw invalid("a string is not closed before the end of the line") }
            index += 1
            if c == "\"" { return String(text) }
            guard c == "\\" else { text.append(c); continue }
            guard let escape = peek() else { throw invalid("a string ends in an unfinished escape") }
            index += 1
            switch escape {
            case "b": text.append("\u{08}")
            case "t": text.append("\t")
            case "n": text.append("\n")
            case "f": text.append("\u{0C}")
            case "r": text.append("\r")
            case "\"": text.append("\"")
            case "\\": text.append("\\")
            case "u", "U":
                let count = escape == "u" ? 4 : 8
                guard index + count <= scalars.count,
                      let code = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + count)])), radix: 16),
                      let scalar = Unicode.Scalar(code) else {
                    throw invalid("'\\\(escape)' must be followed by \(count) hexadecimal digits of a Unicode scalar")
                }
                index += count
                text.append(scalar)
            default:
                throw invalid("unknown escape '\\\(escape.escaped(asASCII: true))' in a string")
            }
        }
    }

    private mutating func literalString() throws -> String {
        index += 1
        if peek() == "'", index + 1 < scalars.count, scalars[index + 1] == "'" {
            throw invalid("multi-line strings (''') are not supported in config files; write the value on one line")
        }
        let start = index
        while let c = peek(), c != "'" {
            guard !isNewline(c) else { throw invalid("a string is not closed before the end of the line") }
            index += 1
        }
        guard peek() == "'" else { throw invalid("a string is not closed before the end of the file") }
        index += 1
        return String(String.UnicodeScalarView(scalars[start..<(index - 1)]))
    }

    // MARK: Whitespace, comments, lines

    private func peek() -> Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
    private func isBlank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
    private func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\n" || c == "\r" }

    private mutating func skipBlanks() { while let c = peek(), isBlank(c) { index += 1 } }

    private mutating func skipComment() { while let c = peek(), !isNewline(c) { index += 1 } }

    private mutating func consumeNewline() {
        if peek() == "\r" { index += 1 }
        if peek() == "\n" { index += 1 }
        line += 1
    }

    private mutating func skipBlanksNewlinesAndComments() {
        while let c = peek() {
            if isBlank(c) { index += 1 } else if c == "#" { skipComment() } else if isNewline(c) { consumeNewline() } else { return }
        }
    }

    private func describe(_ c: Unicode.Scalar?) -> String {
        c.map { "'\($0.escaped(asASCII: true))'" } ?? "the end of the file"
    }

    private func invalid(_ problem: String) -> RunError {
        RunError("\(name) line \(line): not valid TOML: \(problem)")
    }
}
