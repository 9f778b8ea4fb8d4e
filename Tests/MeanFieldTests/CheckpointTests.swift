// Safetensors checkpoints (Sources/MeanFieldTraining/Checkpoints): round trips, the byte layout, an
// independent NumPy reader and writer (scripts/safetensors_reference.py), and one-line errors for
// corrupt and truncated files.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "meanfield-ckpt-\(getpid())-\(name)"
}

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
private let referenceScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/safetensors_reference.py").path

/// Runs `python3 args…`; nil (with the reason) when python3 or NumPy is missing.
private func python(_ arguments: [String]) -> (output: String?, skipped: String?) {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import numpy"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return (nil, "python3 not found") }
    probe.waitUntilExit()
    guard probe.terminationStatus == 0 else { return (nil, "python3 has no numpy") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try? process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil, nil)
}

private func sampleFile() -> SafeTensorsFile {
    var file = SafeTensorsFile(metadata: ["step": "12", "note": "quote \" and newline \n ok"])
    file.add("layer0.w", Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3.5, 0, 1e-30, -7]))
    file.add("b", Tensor<Double>(shape: [3], scalars: [1.0 / 3, -1e300, 2]))
    file.add("scalar", Tensor<Float>(0.25))
    file.add("empty", Tensor<Float>(shape: [0, 5], scalars: []))
    return file
}

@Test func safetensorsRoundTrip() throws {
    let path = temporaryPath("roundtrip.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let original = sampleFile()
    try original.write(to: path)
    let read = try SafeTensorsFile.read(path: path)
    #expect(read.names == original.names)
    #expect(read.metadata == original.metadata)
    #expect(try read.tensor("layer0.w", as: Float.self) == Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, 1e-30, -7]))
    #expect(try read.tensor("b", as: Double.self) == Tensor(shape: [3], scalars: [1.0 / 3, -1e300, 2]))
    #expect(try read.tensor("scalar", as: Float.self) == Tensor(0.25))
    #expect(try read.tensor("empty", as: Float.self).shape == [0, 5])
    // A tensor read as the other precision is refused, not converted.
    #expect(throws: RunError.self) { try read.tensor("b", as: Float.self) }
    // Rewriting over an existing file replaces it (atomically) and leaves no temporary behind.
    try original.write(to: path)
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains("roundtrip.safetensors.tmp") }.isEmpty)
}

@Test func safetensorsLayout() throws {
    let bytes = [UInt8](try sampleFile().serialized())
    let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    #expect((8 + headerLength) % 8 == 0)                                    // data 8-byte aligned
    let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
    let w = try #require(header["layer0.w"] as? [String: Any])
    #expect(w["dtype"] as? String == "F32" && (w["shape"] as? [Int]) == [2, 3] && (w["data_offsets"] as? [Int]) == [0, 24])
    let b = try #require(header["b"] as? [String: Any])
    #expect(b["dtype"] as? String == "F64" && (b["data_offsets"] as? [Int]) == [24, 48])
    #expect((header["__metadata__"] as? [String: String])?["step"] == "12")
    #expect(bytes.count == 8 + headerLength + 24 + 24 + 4)
    // Little-endian IEEE-754: 1.0f = 00 00 80 3F.
    #expect(Array(bytes[(8 + headerLength)..<(8 + headerLength + 4)]) == [0x00, 0x00, 0x80, 0x3F])
}

@Test func numpyReadsWhatSwiftWrites() throws {
    let path = temporaryPath("for-numpy.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try sampleFile().write(to: path)
    let (output, skipped) = python([referenceScript, "read", path])
    if let skipped { print("numpyReadsWhatSwiftWrites: skipped (\(skipped))"); return }
    let json = try #require(output.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
    let tensors = try #require(json["tensors"] as? [String: [String: Any]])
    #expect(tensors["layer0.w"]?["shape"] as? [Int] == [2, 3])
    #expect((tensors["layer0.w"]?["values"] as? [Double])?.map { Float($0) } == [1, -2, 3.5, 0, 1e-30, -7])
    #expect(tensors["b"]?["dtype"] as? String == "F64")
    #expect(tensors["b"]?["values"] as? [Double] == [1.0 / 3, -1e300, 2])
    #expect(tensors["scalar"]?["shape"] as? [Int] == [])
    #expect(tensors["empty"]?["shape"] as? [Int] == [0, 5])
    #expect((json["metadata"] as? [String: String])?["note"] == "quote \" and newline \n ok")
}

@Test func swiftReadsTheNumpyWrittenFixture() throws {
    // Tests/MeanFieldTests/Fixtures/numpy-written.safetensors: `python3 scripts/safetensors_reference.py write FILE`.
    let file = try SafeTensorsFile.read(path: fixtures.appendingPathComponent("numpy-written.safetensors").path)
    #expect(Set(file.names) == ["weights", "scalar", "empty", "precise"])
    #expect(file.metadata == ["written_by": "numpy", "step": "7"])
    #expect(try file.tensor("weights", as: Float.self) == Tensor(shape: [2, 3], scalars: [-1, -0.5, 0, 0.5, 1, 1.5]))
    #expect(try file.tensor("scalar", as: Float.self) == Tensor(3.25))
    #expect(try file.tensor("empty", as: Float.self).shape == [0, 4])
    #expect(try file.tensor("precise", as: Double.self) == Tensor(shape: [2, 2], scalars: [1.0 / 3.0, -2.5e-300, Double.pi, 1e300]))
    // And a file written by the script now, if python3 and NumPy are here.
    let path = temporaryPath("numpy-now.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    if let skipped = python([referenceScript, "write", path]).skipped { print("fresh NumPy file: skipped (\(skipped))"); return }
    #expect(try SafeTensorsFile.read(path: path).tensor("precise", as: Double.self) == (try file.tensor("precise", as: Double.self)))
}

@Test func swiftReadsAFileWrittenByTheSafetensorsPackage() throws {
    // Fixtures/safetensors-package-written.safetensors: safetensors 0.8.0, `safetensors.numpy.save_file(
    //   {"b.weights": arange(6, float32).reshape(3, 2), "a.double": [0.1, -2.0] (float64), "c.scalar": 1.5 (float32, 0-d)},
    //   metadata={"written_by": "safetensors"})`. That package also loads MeanField checkpoints (checked by hand with 0.8.0).
    let file = try SafeTensorsFile.read(path: fixtures.appendingPathComponent("safetensors-package-written.safetensors").path)
    #expect(file.metadata == ["written_by": "safetensors"])
    #expect(try file.tensor("b.weights", as: Float.self) == Tensor(shape: [3, 2], scalars: [0, 1, 2, 3, 4, 5]))
    #expect(try file.tensor("a.double", as: Double.self) == Tensor(shape: [2], scalars: [0.1, -2.0]))
    #expect(try file.tensor("c.scalar", as: Float.self) == Tensor(1.5))
}

@Test func corruptFilesFailInOneLineNamingTheFileAndTheProblem() throws {
    let good = [UInt8](try sampleFile().serialized())
    let headerLength = Int(good[0]) | Int(good[1]) << 8
    func header(_ text: String, data: Int) -> [UInt8] {
        var bytes = withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian, Array.init)
        bytes += Array(text.utf8) + [UInt8](repeating: 0, count: data)
        return bytes
    }
    let cases: [(String, [UInt8], String)] = [
        ("short", Array(good[0..<5]), "shorter than the 8-byte header length"),
        ("header-past-end", Array(good[0..<(8 + headerLength / 2)]), "runs past the end"),
        ("truncated-data", Array(good.dropLast(10)), "truncated"),
        ("not-json", header("{not json", data: 0), "not a JSON object"),
        ("bad-dtype", header(#"{"x":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}"#, data: 1), "unsupported dtype Q8"),
        ("size-mismatch", header(#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "needs 12 bytes"),
        ("overlap", header(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "overlaps"),
        ("trailing", header(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 12), "after the last tensor"),
        ("bad-metadata", header(#"{"__metadata__":{"a":1}}"#, data: 0), "not a string"),
    ]
    for (name, bytes, problem) in cases {
        let path = temporaryPath("corrupt-\(name).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SafeTensorsFile.read(path: path)
            Issue.record("\(name): a corrupt file was accepted")
        } catch let error as RunError {
            #expect(error.description.contains(path), "\(name): \(error)")
            #expect(error.description.contains(problem), "\(name): \(error)")
            #expect(!error.description.contains("\n"), "\(name): \(error)")
        }
    }
    #expect(throws: RunError.self) { try SafeTensorsFile.read(path: temporaryPath("missing.safetensors")) }
}

@Test func trainingCheckpointRoundTrip() throws {
    var config = TrainConfig()
    config.optimizer = .adamw
    config = try config.resolved(defaultThreads: 1)
    let parameters: ParameterStore<Float> = MeanFieldTransformer(config: config.transformer).initialParameters(seed: 4)
    var optimizer = config.optimizerSettings.make(for: parameters)
    var moved = parameters
    optimizer.step(&moved, gradients: moved.names.map { Tensor(shape: moved[$0].shape, repeating: 0.5) }, learningRate: 0.1)
    let checkpoint = TrainingCheckpoint(config: config, step: 1, meanFieldTime: 0.1, parameters: moved, optimizerState: [:],
                                        optimizerKind: .adamw, optimizerUpdates: optimizer.updates, initialRisk: 2.5, randomState: "{}")
    let folder = temporaryPath("checkpoints")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/" + TrainingCheckpoint<Float>.fileName(step: 1)
    try checkpoint.write(to: path, optimizerTensors: optimizer.stateTensors)
    let read = try TrainingCheckpoint<Float>.read(path: path)
    #expect(read.parameters == moved && read.config == config && read.step == 1 && read.meanFieldTime == 0.1)
    #expect(read.optimizerUpdates == 1 && read.initialRisk == 2.5)
    #expect(read.optimizerState.count == optimizer.stateTensors.count)
    for (name, tensor) in optimizer.stateTensors { #expect(read.optimizerState[name] == tensor) }
    #expect(TrainingCheckpoint<Float>.latest(in: folder)?.step == 1)
    // The same file read as Double is refused with a message naming the dtype.
    #expect(throws: RunError.self) { try TrainingCheckpoint<Double>.read(path: path) }
}
