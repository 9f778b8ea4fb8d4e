// The fuzz corpus (Tests/FuzzCorpus/<target>/, written by scripts/make_fuzz_corpus.py, plus every
// input the fuzzer found, named finding-*) replayed through the fuzz targets by the plain build of
// `meanfield-fuzz` (no libFuzzer): each input must be answered without a crash, ok-* inputs must be
// read and bad-* inputs refused. scripts/fuzz.sh runs the same targets under libFuzzer.
import Foundation
import Testing

private let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("FuzzCorpus").path

/// `meanfield-fuzz`, built next to `meanfield` by `swift build --build-tests`.
private let fuzzBinary: String? = meanfieldBinary.map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("meanfield-fuzz").path }
    .flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }

@Suite(.enabled(if: fuzzBinary != nil, "no meanfield-fuzz binary next to the test bundle (run swift build --build-tests first)"))
struct FuzzCorpusTests {
    @Test(arguments: ["idx", "cifar", "safetensors", "config"])
    func everyCorpusInputIsAnsweredAsItsNameSays(_ target: String) throws {
        let folder = corpus + "/" + target
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names.count >= 5, "the \(target) corpus has \(names.count) inputs")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fuzzBinary!)
        process.arguments = [target, folder]
        let pipe = Pipe()
        (process.standardOutput, process.standardError) = (pipe, pipe)
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // A trap (a finding) ends the process with a signal and leaves inputs unanswered.
        #expect(process.terminationStatus == 0, "\(output)")
        var answers: [String: Bool] = [:]
        for line in output.split(separator: "\n") {
            if line.hasPrefix("read ") { answers[String(line.dropFirst(5))] = true }
            if line.hasPrefix("refused ") { answers[String(line.dropFirst(8).prefix { $0 != ":" })] = false }
        }
        for name in names {
            let read = answers[folder + "/" + name]
            #expect(read != nil, "\(name): no answer in \(output)")
            if name.hasPrefix("ok-") { #expect(read == true, "\(name) must be read: \(output)") }
            if name.hasPrefix("bad-") { #expect(read == false, "\(name) must be refused: \(output)") }
            #expect(["ok-", "bad-", "finding-"].contains { name.hasPrefix($0) }, "\(name): name corpus files ok-*, bad-* or finding-*")
        }
        let reads = answers.values.filter { $0 }.count
        #expect(output.contains("\(names.count) inputs replayed (\(reads) read, \(names.count - reads) refused), no crash"), "\(output)")
    }
}
