// Reproducibility: the same seed and thread count must give bitwise-identical metrics, through
// the binary (two processes), for a regression run and an image run; another seed does not.
import Foundation
import Testing

@Suite(.serialized, .enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct ReproducibilityTests {
    /// The metrics of a run of `flags` into a fresh folder, without the wall-clock field.
    private func metrics(_ flags: [String]) throws -> String {
        let folder = NSTemporaryDirectory() + "meanfield-repro-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try meanfield(["train"] + flags + ["--out", folder])
        #expect(result.status == 0, "\(result.output)")
        return try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8)
            .replacingOccurrences(of: #","train_seconds":[0-9.e+-]+"#, with: "", options: .regularExpression)
    }

    @Test(arguments: ["1", "2"])
    func sameSeedAndThreadsGiveIdenticalRegressionMetrics(_ threads: String) throws {
        let flags = ["--steps", "300", "--heads", "8", "--ffn-units", "16", "--layers", "3", "--train-size", "0", "--batch-size", "32",
                     "--log-every", "10", "--threads", threads]
        let first = try metrics(flags + ["--seed", "11"])
        #expect(try metrics(flags + ["--seed", "11"]) == first)
        #expect(try metrics(flags + ["--seed", "12"]) != first)
    }

    @Test func sameSeedAndThreadsGiveIdenticalImageMetrics() throws {
        let flags = ["--task", "synthetic-images", "--epochs", "2", "--augment", "--threads", "2"]
        let first = try metrics(flags + ["--seed", "3"])
        #expect(first.split(separator: "\n").count == 3)
        #expect(try metrics(flags + ["--seed", "3"]) == first)
        #expect(try metrics(flags + ["--seed", "4"]) != first)
    }
}
