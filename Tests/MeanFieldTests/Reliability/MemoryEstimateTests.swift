// A config that will not fit in memory is refused before anything is allocated: the memory estimate
// against exact parameter counts and against the peak resident memory the binary measures
// (getrusage), and the refusal itself.
import Foundation
@testable import MeanField
import Testing

@Suite struct MemoryEstimateTests {
    /// A resolved config from flag-style pairs, as `meanfield train` builds it.
    private func config(_ pairs: [(String, String)]) throws -> TrainConfig {
        var settings = TrainConfig()
        if let task = pairs.first(where: { $0.0 == "task" }), TrainConfig.imageTasks.contains(task.1) {
            settings = TrainConfig.imageDefaults(task: task.1)
        }
        try settings.apply(pairs.map { (key: $0.0, text: $0.1) }, source: { "--\($0)" })
        return try settings.resolved(defaultThreads: 1)
    }

    @Test(arguments: [
        [("heads", "3"), ("layers", "2")],
        [("heads", "5"), ("token-dim", "12"), ("attention", "factored"), ("head-dim", "4"), ("ffn-units", "7"), ("layers", "3")],
        [("heads", "2"), ("ffn-units", "0"), ("layers", "4")],
    ])
    func parameterCountEqualsTheInitialParameters(_ pairs: [(String, String)]) throws {
        let resolved = try config(pairs)
        let store: ParameterStore<Float> = MeanFieldTransformer(config: resolved.transformer).initialParameters(seed: 1)
        #expect(resolved.transformer.parameterCount == Double(store.scalarCount))
    }

    @Test func visionParameterCountEqualsTheInitialParameters() throws {
        for classToken in ["true", "false"] {
            let resolved = try config([("task", "synthetic-images"), ("class-token", classToken)])
            let vision = try #require(resolved.visionModel)
            let store = VisionTransformer<Float>(config: vision).initialParameters(seed: 1)
            #expect(vision.transformer.parameterCount + vision.embeddingParameterCount == Double(store.scalarCount))
        }
    }

    @Test func theLimitComesFromTheEnvironmentOrProcMeminfo() {
        #expect(MemoryEstimate.availableBytes(environment: ["MEANFIELD_MEMORY_LIMIT": "512M"]) == 512 * 1024 * 1024)
        #expect(MemoryEstimate.availableBytes(environment: ["MEANFIELD_MEMORY_LIMIT": "2G"]) == 2 * 1024 * 1024 * 1024)
        let available = MemoryEstimate.availableBytes(environment: [:])
        #expect(available > 64 * 1024 * 1024 && available <= Double(ProcessInfo.processInfo.physicalMemory))
    }

    /// The estimate is within a factor 1.6 of the peak the binary measured, for runs whose memory
    /// is mostly activations (attention weights), mostly parameters, and a ViT.
    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary"), arguments: [
        [("train-size", "0"), ("batch-size", "256"), ("examples", "63"), ("heads", "8"), ("token-dim", "16"), ("layers", "4"), ("steps", "2")],
        [("train-size", "0"), ("batch-size", "64"), ("examples", "31"), ("heads", "64"), ("token-dim", "64"), ("ffn-units", "512"), ("layers", "4"), ("steps", "2")],
        [("task", "synthetic-images"), ("batch-size", "200"), ("heads", "16"), ("token-dim", "64"), ("head-dim", "16"), ("ffn-units", "512"), ("epochs", "1")],
    ])
    func estimateIsCloseToTheMeasuredPeak(_ pairs: [(String, String)]) throws {
        let folder = NSTemporaryDirectory() + "meanfield-memory-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try meanfield(["train"] + pairs.flatMap { ["--\($0.0)", $0.1] } + ["--threads", "1", "--out", folder])
        #expect(result.status == 0, "\(result.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json"))) as? [String: Any]
        let measured = try #require(summary?["peak_memory_bytes"] as? Double)
        let estimate = MemoryEstimate(config: try config(pairs)).totalBytes
        #expect(estimate / measured > 1 / 1.6 && estimate / measured < 1.6, "estimate \(estimate), measured \(measured)")
    }

    /// summary.json's peak is the run's own: started from a process holding 400 MB (as this test
    /// runner does, or a Python notebook), a small run must not report its parent's memory (Linux's
    /// ru_maxrss did: 643 MB under a 600 MB Python process, 206 MB under the test runner).
    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary"))
    func peakMemoryIsTheRunsOwnNotItsParents() throws {
        let parentBytes = 400 << 20
        let ballast = UnsafeMutableRawBufferPointer.allocate(byteCount: parentBytes, alignment: 4096)
        defer { ballast.deallocate() }
        for page in stride(from: 0, to: parentBytes, by: 4096) { ballast[page] = 1 }  // resident
        let folder = NSTemporaryDirectory() + "meanfield-memory-parent-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try meanfield(["train", "--task", "synthetic-images", "--batch-size", "200", "--epochs", "1",
                                    "--threads", "1", "--out", folder])
        #expect(result.status == 0, "\(result.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json"))) as? [String: Any]
        let measured = try #require(summary?["peak_memory_bytes"] as? Double)
        #expect(ballast[4096] == 1)  // keeps the ballast alive until the run has ended
        #expect(measured > 10e6 && measured < 300e6, "peak \(measured) bytes")
    }

    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary"))
    func aConfigThatDoesNotFitIsRefusedBeforeTraining() throws {
        let folder = NSTemporaryDirectory() + "meanfield-memory-refused-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Far beyond any machine: refused with the estimate and the machine's limit.
        let huge = try meanfield(["train", "--heads", "1000000", "--token-dim", "4096", "--out", folder])
        #expect(huge.status == 1)
        #expect(huge.output.contains("this config needs about") && huge.output.contains("GiB available"), "\(huge.output)")
        #expect(!FileManager.default.fileExists(atPath: folder), "the refused run created its folder")
        // A modest config under a lower limit (the environment variable) is refused the same way.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: meanfieldBinary!)
        process.arguments = ["train", "--train-size", "0", "--batch-size", "256", "--examples", "63", "--heads", "8", "--token-dim", "16",
                             "--layers", "4", "--steps", "2", "--out", folder]
        process.environment = ProcessInfo.processInfo.environment.merging(["MEANFIELD_MEMORY_LIMIT": "100M"]) { $1 }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(output.contains("100.0 MiB available"), "\(output)")
    }
}
