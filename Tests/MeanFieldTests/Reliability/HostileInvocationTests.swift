// Hostile invocations of every command through the real binary (issue 17), one per row of
// Fixtures/hostile-invocations.tsv: extreme numbers (values near Int.max, in flags and config files),
// values that are not numbers, memory bombs, odd paths (empty, root, FIFOs, folders, missing files,
// dangling links), odd files (binary, empty, not UTF-8, nested 10⁵ deep), vacuous tolerances and zero
// repeats. Each must end in exactly one "Error:" line naming the flag
// and the bound or estimate — never an overflow trap (status 132/134), never training or a run folder
// in the working directory. Each runs in a fresh working directory.
import Foundation
import Testing

private let folder = NSTemporaryDirectory() + "meanfield-hostile-\(getpid())"
private let intMax = String(Int.max)
private let sizeBound = ["2147483647", "32-bit integers"]

private let files: [String: String] = [
    "settings.ini": "heads = 4\n",
    // A control character in a TOML table header: toml++ aborted on it (an assertion; found by fuzzing).
    "control.toml": "heads = 4\n[\u{02}ex\n",
    "empty.json": "",
    // 10⁵ nested lists: a recursive-descent parser without a depth limit overflows its stack.
    "deep.json": String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n",
    "long-line.toml": "heads = \"" + String(repeating: "x", count: 500_000) + "\"\n",
    "huge-heads.toml": "heads = 9223372036854775807\n",
    "huge-steps.yaml": "lr: 0.01\nsteps: 1e13\n",
    "huge-examples.json": "{\n  \"examples\": 9223372036854775807\n}\n",
    "huge-grid.toml": "seeds = 100000000\n",
    // Nested aliases ("billion laughs"): 9⁹ ≈ 3.9·10⁸ strings once expanded.
    "bomb.yaml": yamlBomb,
    // The same without nesting deeper than a map of lists: caught by the value budget.
    "flat-bomb.yaml": "a: &a [" + Array(repeating: "1", count: 1000).joined(separator: ",") + "]\n"
        + (0..<200).map { "k\($0): *a\n" }.joined(),
]

private let yamlBomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    + zip("bcdefghi", "abcdefgh").map { name, previous in "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n" }.joined()

private func file(_ name: String) -> String { folder + "/" + name }

/// Sets up the scratch folder the table's rows name, once per process; nil when it succeeded.
private let scratchFolderSetUp: (any Error)? = {
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: file(name), atomically: true, encoding: .utf8) }
        // Odd files: every byte value, a text that is not UTF-8, a dataset file of noise, a dangling link.
        try Data((0...255).map { UInt8($0) }).write(to: URL(fileURLWithPath: file("binary.yaml")))
        try Data("heads = 4\n".utf8 + [0xff, 0xfe, 0x0a]).write(to: URL(fileURLWithPath: file("not-utf8.toml")))
        for name in ["folder.toml", "fifo-dataset", "binary-dataset"] {
            try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
        }
        try Data((0..<5000).map { UInt8($0 * 37 % 256) }).write(to: URL(fileURLWithPath: file("binary-dataset/train-images-idx3-ubyte")))
        try FileManager.default.createSymbolicLink(atPath: file("dangling.toml"), withDestinationPath: "nowhere.toml")
        for fifo in [file("fifo.toml"), file("fifo-dataset/train-images-idx3-ubyte")] where mkfifo(fifo, 0o600) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: fifo])
        }
        return nil
    } catch {
        return error
    }
}()

/// The table (Fixtures/hostile-invocations.tsv, HostileInvocationTable); empty when it does not parse
/// (theTableParsesAndCoversEveryCommand then fails with the line).
private let table: [BadInvocation] = (try? HostileInvocationTable.rows(folder: folder)) ?? []

@Suite(.enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct HostileInvocationTests {
    init() throws {
        // Swift Testing makes one instance per test, in parallel: the folder is set up once (a global
        // is initialized exactly once), not by each instance (they raced on the FIFOs and the link).
        if let failure = scratchFolderSetUp { throw failure }
    }

    @Test func theTableParsesAndCoversEveryCommand() throws {
        let rows = try HostileInvocationTable.rows(folder: folder)
        #expect(rows.count >= 300)
        // Every subcommand `meanfield --help` lists has rows.
        let help = try meanfield(["--help"]).output
        // The SUBCOMMANDS: section ends at its first blank line; a name starts 2 spaces in.
        let section = help.components(separatedBy: "SUBCOMMANDS:\n").last!.components(separatedBy: "\n\n").first!
        let listed = section.split(separator: "\n")
            .filter { $0.hasPrefix("  ") && $0.dropFirst(2).first?.isLetter == true }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(listed.count >= 11, "\(help)")
        #expect(Set(rows.map { $0.arguments[0] }) == Set(listed), "commands without rows: \(Set(listed).subtracting(rows.map { $0.arguments[0] }))")
        // No row twice.
        #expect(Set(rows.map(\.testDescription)).count == rows.count)
    }

    @Test func docsCountTheTable() throws {
        let rows = try HostileInvocationTable.classifiedRows(folder: folder)
        let docs = URL(fileURLWithPath: HostileInvocationTable.path).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/reliability.md").path
        // Lines may wrap anywhere: whitespace runs compare as one space.
        let text = try String(contentsOfFile: docs, encoding: .utf8).replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
        let summary = HostileInvocationTable.summary(rows)
        #expect(text.contains(summary), "docs/reliability.md must say: \(summary)")
    }

    @Test(arguments: table)
    func hostileInvocationEndsInOneLineNamingTheProblem(_ invocation: BadInvocation) throws {
        // A fresh working directory: nothing may be written there (an empty --out used to train in it).
        let cwd = folder + "/cwd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: meanfieldBinary!)
        process.arguments = invocation.arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let pipe = Pipe()
        (process.standardOutput, process.standardError) = (pipe, pipe)
        let started = Date()
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 30, "took \(Date().timeIntervalSince(started)) s")
        #expect(process.terminationStatus == invocation.status, "\(output)")
        let errorLines = output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(errorLines.count == 1, "expected one Error: line, got \(output)")
        #expect(!output.contains("Backtracing") && !output.contains("Fatal error"), "\(output)")
        let line = errorLines.first.map(String.init) ?? ""
        for text in invocation.mentions { #expect(line.contains(text), "'\(text)' missing from: \(line)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd).isEmpty, "a hostile invocation wrote into the working directory")
    }

    @Test func aNonFiniteAdjointIsADisagreementNeverAgree() throws {
        let out = folder + "/adjoint-overflow"
        let result = try meanfield(["adjoint-check", "--init-std", "1e30", "--out", out])
        #expect(result.status == 1, "\(result.output)")
        let verdict = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("risk ") }, "\(result.output)")
        #expect(verdict.hasSuffix("DISAGREE") && verdict.contains("largest relative difference inf"), "\(verdict)")
        // adjoint.jsonl stays valid JSON (inf as "inf") and its report renders.
        let report = try meanfield(["report", out])
        #expect(report.status == 0, "\(report.output)")
    }
}
