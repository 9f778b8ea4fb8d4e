// The TOML reader of config and sweep files (Sources/MeanFieldTraining/Training/FlatTOML.swift)
// against Python's tomllib (the standard library's TOML 1.0 parser) on the same documents: what
// tomllib reads as a flat file MeanField reads to the same values; what tomllib refuses MeanField
// refuses in one line; tables, inline tables, nested arrays and dates are refused naming the key.
import Foundation
import MeanFieldTraining
import Testing

/// Documents covering the grammar a flat file uses, its edges, and text that is not TOML.
private let documents: [String] = [
    "heads = 8\n", "heads=8", "  heads = 8  # comment\n# another\n\n", "lr = 0.1\r\nheads = 2\r\n",
    "a = +7\nb = -0\nc = 1_000\nd = 0x_ff\ne = 0xDEAD_beef\nf = 0o17\ng = 0b1010\n",
    "a = 9223372036854775807\n", "a = -9223372036854775808\n", "a = 9223372036854775808\n",
    "a = 1.5\nb = -0.0\nc = 1e10\nd = 6.626e-34\ne = 1_000.5\nf = 1E+2\ng = inf\nh = -inf\ni = nan\nj = +1.5\n",
    "a = 1e400\n", "a = .5\n", "a = 1.\n", "a = 01\n", "a = 1__0\n", "a = _1\n", "a = 1_\n", "a = 0x\n", "a = -0x1\n",
    "a = 1e\n", "a = 1.5.5\n", "a = infinity\n",
    "a = true\nb = false\n", "a = True\n", "a = yes\n",
    "a = \"x y\"\n", "a = \"tab\\there \\\"q\\\" \\\\ \\u00e9 \\U0001F600\"\n", "a = 'C:\\path\\no escape'\n", "a = \"\"\n", "a = ''\n",
    "a = \"\\q\"\n", "a = \"open\n", "a = 'open\n", "a = \"\\uD800\"\n", "a = \"\"\"multi\nline\"\"\"\n",
    "\"quoted key\" = 1\n", "'literal key' = 2\n", "a-b_c = 3\n", "é = 1\n", "= 1\n", "a =\n", "a\n", "a = 1 2\n",
    "a = 1\na = 2\n", "a = [1, 2, 3]\n", "a = [ ]\n", "a = [1, 'x', 2.5, true,]\n", "a = [\n  1, # one\n  2,\n]\n",
    "a = [1,}\n", "a = [1,,2]\n", "a = [,]\n", "a = [1\n", "a = [[1], [2]]\n", "a = {x = 1}\n", "a.b = 1\n",
    "[model]\nheads = 3\n", "[[runs]]\nheads = 3\n", "[,x]\n", "[\n", "a = 1979-05-27\n", "a = 07:32:00\n",
    "a = 1979-05-27T07:32:00Z\n", "a = 1979-05-27 07:32:00\n", "a = 1 # c\nb = 2\n", "a = \"x\" # c\n",
]

/// Documents tomllib reads but MeanField refuses on purpose, with the reason it gives: TOML 1.0 asks
/// for an error on integers past 64 bits and floats past binary64 (tomllib reads them as Python
/// ints and inf), and a config value has no use for multi-line strings.
private let refusedOnPurpose: [String: String] = [
    "a = 9223372036854775808\n": "out of range (TOML integers are 64-bit)",
    "a = 1e400\n": "out of range (beyond ±1.8e308)",
    "a = \"\"\"multi\nline\"\"\"\n": "multi-line strings",
]

/// tomllib's reading of each document: `{"ok": {key: [type, text]}}` or `{"error": message}`.
private func tomllibAnswers() -> [[String: Any]]? {
    let script = """
    import json, sys, tomllib, math
    def scalar(v):
        if isinstance(v, bool): return ["bool", "true" if v else "false"]
        if isinstance(v, int): return ["int", str(v)]
        if isinstance(v, float): return ["float", repr(v)]
        if isinstance(v, str): return ["str", v]
        return ["other", str(v)]
    out = []
    for text in json.load(sys.stdin):
        try:
            table = tomllib.loads(text)
        except Exception as e:
            out.append({"error": str(e)}); continue
        entries = {}
        for k, v in table.items():
            entries[k] = ["list", [scalar(x) for x in v]] if isinstance(v, list) else (["table"] if isinstance(v, dict) else scalar(v))
        out.append({"ok": entries})
    print(json.dumps(out))
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let input = Pipe(), output = Pipe()
    (process.standardInput, process.standardOutput, process.standardError) = (input, output, FileHandle.nullDevice)
    guard (try? process.run()) != nil else { return nil }
    input.fileHandleForWriting.write(try! JSONSerialization.data(withJSONObject: documents))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
}

private let hasTomllib = toolOutput("python3", ["-c", "import tomllib"]) != nil

@Suite(.enabled(if: hasTomllib, "needs python3 ≥ 3.11 (tomllib)"))
struct FlatTOMLTests {
    @Test func readsWhatTomllibReadsAndRefusesWhatItRefuses() throws {
        let answers = try #require(tomllibAnswers())
        #expect(answers.count == documents.count)
        var reads = 0, refusals = 0, notFlat = 0
        for (text, answer) in zip(documents, answers) {
            let ours = Result { try ConfigFile.entries(Data(text.utf8), format: .toml, name: "f.toml", lists: true) }
            guard let table = answer["ok"] as? [String: [Any]] else {
                // tomllib refuses: so must MeanField, in one line naming the file.
                switch ours {
                case .success(let entries): Issue.record("\(text.debugDescription): tomllib refuses (\(answer["error"]!)), MeanField read \(entries)")
                case .failure(let error):
                    #expect("\(error)".hasPrefix("f.toml") && !"\(error)".contains("\n"), "\(text.debugDescription): \(error)")
                }
                refusals += 1
                continue
            }
            let flat = table.values.allSatisfy { value in
                let kind = value[0] as! String
                if kind == "list" { return (value[1] as! [[String]]).allSatisfy { $0[0] != "other" } }
                return kind != "table" && kind != "other"
            }
            guard flat else {
                // Valid TOML a flat file cannot hold: refused naming the key.
                if case .failure(let error) = ours {
                    #expect("\(error)".contains("key '") && "\(error)".contains("must be"), "\(text.debugDescription): \(error)")
                } else {
                    Issue.record("\(text.debugDescription): not flat, yet MeanField read it")
                }
                notFlat += 1
                continue
            }
            if let reason = refusedOnPurpose[text] {
                #expect("\(ours)".contains(reason), "\(text.debugDescription): \(ours)")
                continue
            }
            guard case .success(let entries) = ours else {
                Issue.record("\(text.debugDescription): tomllib reads \(table), MeanField refused: \(ours)")
                continue
            }
            #expect(entries.map(\.key) == table.keys.sorted(), "\(text.debugDescription)")
            for entry in entries {
                let expected = table[entry.key]!
                let pairs: [[String]] = expected[0] as! String == "list" ? expected[1] as! [[String]] : [[expected[0] as! String, expected[1] as! String]]
                #expect(entry.isList == (expected[0] as! String == "list"), "\(text.debugDescription) \(entry.key)")
                #expect(entry.values.count == pairs.count, "\(text.debugDescription) \(entry.key)")
                for (value, pair) in zip(entry.values, pairs) {
                    if pair[0] == "float" {
                        let (a, b) = (Double(value), Double(pair[1].replacingOccurrences(of: "inf", with: "infinity")))
                        #expect(a != nil && (a == b || (a!.isNaN && b!.isNaN)) && a?.sign == b?.sign, "\(text.debugDescription) \(entry.key): \(value) vs \(pair[1])")
                    } else {
                        #expect(value == pair[1], "\(text.debugDescription) \(entry.key): \(value) vs \(pair[1])")
                    }
                }
            }
            reads += 1
        }
        // The documents exercise all three answers.
        #expect(reads >= 15 && refusals >= 20 && notFlat >= 8, "read \(reads), refused \(refusals), not flat \(notFlat)")
    }
}
