import ArgumentParser
import Foundation
import MeanField

// What the subcommands share: comma-separated options, named choices, the default run folder and
// the exit of an interrupted run.

/// The values of a comma-separated option; a value that does not parse is one line naming the
/// option, the value and an example: "--width 32,x: 'x' is not an integer; pass e.g. 32,128,512".
func commaList<Value>(_ text: String, option: String, _ problem: String, example: String,
                      _ parse: (String) -> Value?) throws -> [Value] {
    try text.split(separator: ",").map { item in
        guard let value = parse(item.trimmingCharacters(in: .whitespaces)) else {
            throw RunError("\(option) \(text): '\(item)' \(problem); pass \(example)")
        }
        return value
    }
}

/// The case of `Choice` named `text`, or one line listing the names: "--features sigmoid is
/// unknown; pass relu-circle or rbf-torus".
func choice<Choice: RawRepresentable & CaseIterable>(_ text: String, option: String) throws -> Choice where Choice.RawValue == String {
    guard let value = Choice(rawValue: text) else {
        let names = Choice.allCases.map(\.rawValue)
        throw RunError("\(option) \(text) is unknown; pass \(names.dropLast().joined(separator: ", ")) or \(names.last!)")
    }
    return value
}

/// A new default run folder `runs/PREFIX-<date>-<time>`, with `-2`, `-3`, … appended when a
/// run started in the same second already took the name.
func defaultRunPath(_ prefix: String) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.locale = Locale(identifier: "en_US_POSIX")
    let base = "runs/\(prefix)-" + formatter.string(from: Date())
    var path = base, suffix = 1
    while FileManager.default.fileExists(atPath: path) {
        suffix += 1
        path = "\(base)-\(suffix)"
    }
    return path
}

/// The run folder of a command: `--out` (not empty, not the root folder: ``InputPath/checkFolder(_:flag:)``)
/// or a new default folder `runs/PREFIX-<date>-<time>`.
func runFolder(_ out: String?, default prefix: String) throws -> String {
    guard let out else { return defaultRunPath(prefix) }
    try InputPath.checkFolder(out, flag: "--out")
    return out
}

/// Runs `body`; a run stopped by SIGINT, SIGTERM or SIGHUP (it saved what it had) ends with one
/// line on standard error and exits as the signal would (128 + its number).
func exitingAsSignal<Result>(_ command: String, _ body: () throws -> Result) throws -> Result {
    do {
        return try body()
    } catch let stop as RunInterrupted {
        // An empty message: a data-parallel rank other than 0, which rank 0 speaks for.
        if !stop.message.isEmpty { FileHandle.standardError.write(Data("meanfield \(command): \(stop.message)\n".utf8)) }
        throw ExitCode(128 + stop.signal)
    }
}

/// A verdict's tolerance must be a finite number > 0 (NaN would make every comparison false: a
/// vacuous check). A usage error naming `option` otherwise.
func checkTolerance(_ value: Double, option: String = "--tolerance", below limit: Double = .infinity) throws {
    guard value.isFinite, value > 0, value < limit else {
        throw ValidationError("\(option): expected a finite number > 0\(limit.isFinite ? " and < \(limit)" : ""), got '\(value)'")
    }
}
