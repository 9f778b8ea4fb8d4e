// Checkpoint integrity (Sources/MeanField/Checkpoints): SHA-256 against the FIPS vectors and Python's
// hashlib; the content hash in the metadata (a flipped byte is refused, naming the file and the fix;
// the hash checked in Python from the documented canonical form); a resume from the newest checkpoint
// that verifies (a truncated or empty newest one falls back to the one before, with a warning naming
// both); metadata that contradicts the file name, the update count or the metrics log is refused.
import Foundation
@testable import MeanField
import MeanFieldCore
import Testing

/// A small regression config (AdamW, so the checkpoint holds optimizer state) that logs every step.
private func smallConfig() throws -> TrainConfig {
    var config = TrainConfig()
    config.heads = 2
    config.layers = 1
    config.ffnUnits = 2
    config.optimizer = .adamw
    config.logEvery = 1
    return try config.resolved(defaultThreads: 1)
}

/// Writes the checkpoint of `step` (θ = the initial parameters, `step` updates) into `folder`; returns its path.
@discardableResult
private func writeCheckpoint(step: Int, into folder: String, config: TrainConfig) throws -> String {
    let store: ParameterStore<Float> = config.initialParameters()
    let optimizer = config.optimizerSettings.make(for: store)
    let path = folder + "/" + TrainingCheckpoint<Float>.fileName(step: step)
    try TrainingCheckpoint(config: config, step: step, meanFieldTime: 0.01 * Double(step), parameters: store, optimizerState: [:],
                           optimizerKind: config.optimizer, optimizerUpdates: step, initialRisk: 1.5,
                           randomState: "{\"seed\":\(config.seed),\"epoch\":\(step / 4),\"batch_in_epoch\":\(step % 4)}")
        .write(to: path, optimizerTensors: optimizer.stateTensors)
    return path
}

/// Rewrites the checkpoint at `path` with `edit` applied to its metadata; the content hash is
/// recomputed (`rehash`) or left as it was.
private func editMetadata(_ path: String, to target: String? = nil, rehash: Bool, _ edit: (inout [String: String]) -> Void) throws {
    var file = try SafeTensorsFile.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), name: path, verifyingContentHash: false)
    edit(&file.metadata)
    if rehash { file.sealContentHash() }
    try file.serialized().write(to: URL(fileURLWithPath: target ?? path))
}

/// The error `body` throws, as text ("" when it throws none).
private func failure(_ body: () throws -> Void) -> String {
    do { try body() } catch { return "\(error)" }
    return ""
}

/// Runs `python3 -c script args…`; nil when python3 is missing.
private func python(_ script: String, _ arguments: [String]) throws -> String? {
    toolOutput("python3", ["-c", script] + arguments)
}

@Suite struct CheckpointIntegrityTests {
    @Test func sha256MatchesTheFIPSVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // One million 'a', fed in pieces that straddle the 64-byte blocks.
        var hash = SHA256()
        var fed = 0, piece = 1
        while fed < 1_000_000 {
            let count = min(piece, 1_000_000 - fed)
            hash.update([UInt8](repeating: UInt8(ascii: "a"), count: count))
            fed += count
            piece = piece * 3 % 1000 + 1
        }
        #expect(hash.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256AgreesWithPythonHashlib() throws {
        let folder = try TemporaryFolder("sha256")
        defer { folder.remove() }
        var random = PhiloxRandom(seed: 3)
        for size in [0, 55, 56, 64, 119, 100_003] {
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let path = try folder.write("bytes-\(size)", bytes)
            guard let expected = try python("import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())", [path]) else {
                print("skipped: python3 not found")
                return
            }
            #expect(SHA256.hex(bytes) == expected, "\(size) bytes")
        }
    }

    @Test func aCheckpointCarriesItsContentHashWhichPythonVerifies() throws {
        let folder = try TemporaryFolder("hash-python")
        defer { folder.remove() }
        let path = try writeCheckpoint(step: 2, into: folder.path, config: try smallConfig())
        let file = try SafeTensorsFile.read(path: path)
        let stored = try #require(file.metadata[SafeTensorsFile.contentHashKey])
        #expect(stored.count == 64 && stored == file.contentSHA256())
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["step-00000002.safetensors"], "no temporary file left")
        // The canonical form of SafeTensorsFile's documentation, in another language.
        let script = """
        import hashlib, json, struct, sys
        b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
        header = json.loads(b[8:8 + n]); data = b[8 + n:]
        meta = header.pop('__metadata__'); stored = meta.pop('content_sha256')
        h = hashlib.sha256(); u64 = lambda v: h.update(struct.pack('<Q', v))
        def put(x): u64(len(x)); h.update(x)
        u64(len(meta))
        for k in sorted(meta, key=lambda k: k.encode()): put(k.encode()); put(meta[k].encode())
        u64(len(header))
        for k in sorted(header, key=lambda k: k.encode()):
            e = header[k]; put(k.encode()); put(e['dtype'].encode()); u64(len(e['shape']))
            for axis in e['shape']: u64(axis)
            a, z = e['data_offsets']; put(data[a:z])
        print(h.hexdigest() == stored)
        """
        guard let verdict = try python(script, [path]) else {
            print("skipped: python3 not found")
            return
        }
        #expect(verdict == "True")
    }

    @Test func aFlippedByteInTheTensorDataIsRefusedNamingTheFile() throws {
        let folder = try TemporaryFolder("flip")
        defer { folder.remove() }
        let config = try smallConfig()
        try writeCheckpoint(step: 1, into: folder.path, config: config)
        let path = try writeCheckpoint(step: 2, into: folder.path, config: config)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 5] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let message = failure { _ = try TrainingCheckpoint<Float>.read(path: path) }
        #expect(message.contains(path) && message.contains("content hash mismatch"), "\(message)")
        #expect(message.contains("remove it to resume from step-00000001.safetensors"), "\(message)")
        #expect(!message.contains("\n"))
        // The generic reader refuses it too.
        #expect(failure { _ = try SafeTensorsFile.read(path: path) }.contains("content hash mismatch"))
    }

    @Test func aTruncatedOrEmptyNewestCheckpointFallsBackToTheOneBefore() throws {
        for damage in ["truncated", "empty"] {
            let folder = try TemporaryFolder("fallback-\(damage)")
            defer { folder.remove() }
            let config = try smallConfig()
            let older = try writeCheckpoint(step: 4, into: folder.path, config: config)
            let newest = try writeCheckpoint(step: 8, into: folder.path, config: config)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
            try (damage == "empty" ? Data() : bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: newest))

            let chosen = try TrainingCheckpoint<Float>.newestVerified(in: folder.path)
            #expect(chosen.path == older && chosen.checkpoint.step == 4)
            #expect(chosen.warnings.count == 1)
            let warning = chosen.warnings.first ?? ""
            #expect(warning.contains(newest) && warning.contains("step-00000004.safetensors") && warning.contains("truncated"), "\(warning)")
            #expect(!warning.contains("\n"))

            // With the older one broken too, nothing verifies: one line naming the newest.
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: older))
            let message = failure { _ = try TrainingCheckpoint<Float>.newestVerified(in: folder.path) }
            #expect(message.contains(newest) && message.contains("no checkpoint in") && !message.contains("\n"), "\(message)")
        }
        let empty = try TemporaryFolder("fallback-none")
        defer { empty.remove() }
        #expect(failure { _ = try TrainingCheckpoint<Float>.newestVerified(in: empty.path) }.contains("no checkpoint"))
    }

    @Test func aChangedStepIsRefusedWithOrWithoutAFreshHash() throws {
        let folder = try TemporaryFolder("step-edit")
        defer { folder.remove() }
        let config = try smallConfig()
        let path = try writeCheckpoint(step: 5, into: folder.path, config: config)
        #expect(try TrainingCheckpoint<Float>.read(path: path).step == 5)

        // Hash left stale: the content hash catches it.
        try editMetadata(path, rehash: false) { $0["step"] = "0" }
        #expect(failure { _ = try TrainingCheckpoint<Float>.read(path: path) }.contains("content hash mismatch"))

        // Hash recomputed: the file name catches it ...
        try editMetadata(path, rehash: true) { $0["step"] = "0" }
        let named = failure { _ = try TrainingCheckpoint<Float>.read(path: path) }
        #expect(named.contains(path) && named.contains("says step 0 but the file name says step 5"), "\(named)")

        // ... and under a matching name, the update count (each step is one optimizer update).
        let renamed = folder.path + "/" + TrainingCheckpoint<Float>.fileName(step: 0)
        try editMetadata(path, to: renamed, rehash: true) { $0["step"] = "0" }
        let updates = failure { _ = try TrainingCheckpoint<Float>.read(path: renamed) }
        #expect(updates.contains("optimizer_updates 5"), "\(updates)")

        // The random-stream position must be the step's, and the time finite.
        try editMetadata(path, rehash: true) { $0["step"] = "5"; $0["rng"] = "{\"seed\":\(config.seed),\"epoch\":3,\"batch_in_epoch\":0}" }
        #expect(failure { _ = try TrainingCheckpoint<Float>.read(path: path) }.contains("cannot be step 5"))
        try editMetadata(path, rehash: true) { $0["rng"] = "{\"seed\":\(config.seed + 1)}" }
        #expect(failure { _ = try TrainingCheckpoint<Float>.read(path: path) }.contains("seed"))
        try editMetadata(path, rehash: true) { $0["rng"] = "not json" }
        #expect(failure { _ = try TrainingCheckpoint<Float>.read(path: path) }.contains("not a JSON object"))
        try editMetadata(path, rehash: true) { $0["rng"] = "{}"; $0["t"] = "inf" }
        #expect(failure { _ = try TrainingCheckpoint<Float>.read(path: path) }.contains("mean-field time"))
        try editMetadata(path, rehash: true) { $0["t"] = "0.05"; $0["optimizer_updates"] = "5" }
        #expect(try TrainingCheckpoint<Float>.read(path: path).step == 5)

        // An optimizer state tensor of another shape than its parameter (hash recomputed) is refused.
        let file = try SafeTensorsFile.read(path: path)
        var edited = SafeTensorsFile(metadata: file.metadata)
        var changed = ""
        for entry in file.entries {
            let tensor = try file.tensor(entry.name, as: Float.self)
            if changed.isEmpty && entry.name.hasPrefix("optimizer.adam_v.") {
                changed = entry.name
                edited.add(entry.name, Tensor<Float>(shape: [tensor.count + 1], repeating: 0))
            } else {
                edited.add(entry.name, tensor)
            }
        }
        edited.sealContentHash()
        try edited.serialized().write(to: URL(fileURLWithPath: path))
        let shape = failure { _ = try TrainingCheckpoint<Float>.read(path: path) }
        #expect(!changed.isEmpty && shape.contains("optimizer state '\(changed)' has shape"), "\(shape)")
    }

    @Test func aCheckpointWithoutAHashStillLoads() throws {
        let folder = try TemporaryFolder("no-hash")
        defer { folder.remove() }
        let path = try writeCheckpoint(step: 3, into: folder.path, config: try smallConfig())
        try editMetadata(path, rehash: false) { $0[SafeTensorsFile.contentHashKey] = nil }
        #expect(try SafeTensorsFile.read(path: path).metadata[SafeTensorsFile.contentHashKey] == nil)
        #expect(try TrainingCheckpoint<Float>.read(path: path).step == 3)
        // A damaged hash field is refused, not ignored.
        try editMetadata(path, rehash: false) { $0[SafeTensorsFile.contentHashKey] = "xyz" }
        #expect(failure { _ = try TrainingCheckpoint<Float>.read(path: path) }.contains("not 64 lowercase hex digits"))
    }

    @Test func theMetricsLogMustReachTheCheckpoint() throws {
        let folder = try TemporaryFolder("metrics")
        defer { folder.remove() }
        let config = try smallConfig()
        let checkpoints = folder.path + "/checkpoints"
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        let older = try writeCheckpoint(step: 4, into: checkpoints, config: config)
        let newest = try writeCheckpoint(step: 8, into: checkpoints, config: config)
        let log = folder.path + "/metrics.jsonl"
        func writeLog(_ steps: [Int], tail: String = "") throws {
            try Data((steps.map { "{\"R\":1,\"step\":\($0)}\n" }.joined() + tail).utf8).write(to: URL(fileURLWithPath: log))
        }

        // Logged through step 8 (and a line cut short after it): the newest checkpoint is fine.
        try writeLog(Array(0...8), tail: "{\"R\":1,\"st")
        var chosen = try TrainingCheckpoint<Float>.newestVerified(in: checkpoints, metricsLog: log)
        #expect(chosen.path == newest && chosen.warnings.isEmpty)
        try chosen.checkpoint.checkAgainstMetrics(log, checkpoint: newest)
        #expect(chosen.checkpoint.keepsMetricsLine("{\"step\":7}") && !chosen.checkpoint.keepsMetricsLine("{\"step\":8}"))
        #expect(chosen.checkpoint.keepsMetricsLine("{\"note\":\"no step\"}"))

        // The log lost its tail (ends at step 5, the run logs every step): step 8 would leave a gap,
        // so the resume starts from step 4, which the log covers, and says why.
        try writeLog(Array(0...5))
        let ahead = failure { try chosen.checkpoint.checkAgainstMetrics(log, checkpoint: newest) }
        #expect(ahead.contains(newest) && ahead.contains(log) && ahead.contains("ends at step 5"), "\(ahead)")
        chosen = try TrainingCheckpoint<Float>.newestVerified(in: checkpoints, metricsLog: log)
        #expect(chosen.path == older && chosen.warnings.count == 1)
        #expect(chosen.warnings.first.map { $0.contains(newest) && $0.contains("step-00000004.safetensors") } == true, "\(chosen.warnings)")

        // An empty log cannot continue a checkpoint past step 0.
        try writeLog([])
        #expect(failure { _ = try TrainingCheckpoint<Float>.newestVerified(in: checkpoints, metricsLog: log) }.contains("holds no logged step"))

        // Steps that go back: two runs wrote the log; refused before anything is rewritten.
        try writeLog([0, 1, 2, 3, 4, 5, 6, 7, 8, 3, 4])
        let twice = failure { _ = try TrainingCheckpoint<Float>.newestVerified(in: checkpoints, metricsLog: log) }
        #expect(twice.contains("two runs wrote this log") && twice.contains(log), "\(twice)")
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == 11, "the log is left as it was")
    }

    @Test func aResumePastATruncatedNewestCheckpointEndsWithTheUninterruptedLog() throws {
        var config = TrainConfig()
        config.heads = 2
        config.layers = 1
        config.ffnUnits = 2
        config.optimizer = .adamw
        config.steps = 12
        config.logEvery = 1
        config.checkpointEvery = 4
        let resolved = try config.resolved(defaultThreads: 1)
        func train(into path: String, resume: Bool = false, haltAfter: Int? = nil) throws {
            var trainer = Trainer(config: resolved, engine: AutodiffEngine<Float>(config: resolved.transformer))
            trainer.showProgress = false
            trainer.haltAfterStep = haltAfter
            _ = try trainer.run(directory: path, resume: resume)
        }
        let whole = try TemporaryFolder("resume-whole"), cut = try TemporaryFolder("resume-cut")
        defer { whole.remove(); cut.remove() }
        try train(into: whole.path + "/run")
        // Killed after step 10: checkpoints 0, 4, 8, the log through step 10; then checkpoint 8 is cut short.
        try train(into: cut.path + "/run", haltAfter: 10)
        let newest = cut.path + "/run/checkpoints/step-00000008.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: newest))
        let chosen = try TrainingCheckpoint<Float>.newestVerified(in: cut.path + "/run/checkpoints", metricsLog: cut.path + "/run/metrics.jsonl")
        #expect(chosen.checkpoint.step == 4 && chosen.warnings.count == 1)
        // The resume replays from step 4: the lines it drops (steps 4 … 10) are written again, the same.
        try train(into: cut.path + "/run", resume: true)
        let expected = try String(contentsOfFile: whole.path + "/run/metrics.jsonl", encoding: .utf8)
        #expect(try String(contentsOfFile: cut.path + "/run/metrics.jsonl", encoding: .utf8) == expected)
        #expect(try TrainingCheckpoint<Float>.read(path: newest).step == 8, "the cut checkpoint was written again")
    }
}
