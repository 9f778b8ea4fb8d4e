// ntk-check's run directory: the files `meanfield report` reads, the verdicts recorded per family
// (translated: not injective, discrete: injective, as theory §2 says), and a page naming them.
import Foundation
import MeanField
import Testing

@Suite struct NTKCheckRunTests {
    @Test func runDirectoryIsWrittenAndReported() throws {
        let path = NSTemporaryDirectory() + "meanfield-ntk-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        let config = NTKCheckConfig(families: [.discrete, .translated], sets: 8, tokens: 10, dimension: 2,
                                    options: InjectivityOptions(directions: 64, seed: 1), seed: 1)
        let results = try NTKCheckRun.run(config, path: path)
        for name in ["config.json", "manifest.json", "metrics.jsonl", "ntk.json", "spectrum.svg", "certificates.svg"] {
            #expect(FileManager.default.fileExists(atPath: path + "/" + name), "\(name) missing")
        }
        #expect(results.families.map { $0.spectra[0].injective } == [true, false])
        let metrics = try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 2)
        let page = try ReportBuilder.page(for: path).page.render()
        #expect(page.contains("Certificate per distribution family"))
        #expect(page.contains("translated") && page.contains("not injective"))
    }

    @Test func refusedRunsLeaveNoFolder() {
        let path = NSTemporaryDirectory() + "meanfield-ntk-refused-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        // Too few directions: after projecting out span{1, a} (d + 1 = 3 dimensions) 10 rows cannot hold 8 sets.
        let few = NTKCheckConfig(families: [.discrete], sets: 8, tokens: 4, dimension: 2, options: InjectivityOptions(directions: 10), seed: 0)
        do { _ = try NTKCheckRun.run(few, path: path); Issue.record("accepted P = 10 for K = 8") } catch { #expect("\(error)".contains("--directions")) }
        let missing = NTKCheckConfig(families: [.fashionMNIST], sets: 8, tokens: 4, dimension: 2, options: InjectivityOptions(directions: 64),
                                     dataDirectory: path + "-no-such-data", seed: 0)
        #expect(throws: (any Error).self) { _ = try NTKCheckRun.run(missing, path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func badValuesNameTheFlag() {
        let config = NTKCheckConfig(families: [.discrete], sets: 0, tokens: 4, dimension: 2, options: InjectivityOptions(directions: 8), seed: 0)
        #expect(throws: RunError.self) { try config.validate() }
        #expect((try? config.validate()) == nil)
        do { try config.validate() } catch { #expect("\(error)".contains("--sets")) }
    }
}
