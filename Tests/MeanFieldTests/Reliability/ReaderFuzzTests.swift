// No file may crash the tool: the dataset readers (IDX plain and gzip, CIFAR-10/100) and checkpoint
// loading fed thousands of random and mutated inputs: truncations, flipped bytes, huge declared
// sizes, random bytes, corrupt compressed streams, edited headers and configs. Every input must end
// in a clear error (DatasetError / RunError with a message naming the file) or a read that agrees
// with its own header; never a crash (the test process would die), a hang (time limit), or an
// allocation of the declared size (the process's peak memory is checked).
import Foundation
@testable import MeanField
import MeanFieldCore
import Testing

/// Seeded mutations of a valid file.
private struct Mutator {
    var random: PhiloxRandom

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    /// One of: truncate, flip bytes, overwrite a 4-byte big-endian field with a huge value, random
    /// bytes, append junk, duplicate a slice; sometimes two of them.
    mutating func mutate(_ original: [UInt8], headerFields: [Int]) -> [UInt8] {
        var bytes = original
        for _ in 0..<(int(0...3) == 0 ? 2 : 1) {
            switch int(0...5) {
            case 0: bytes = Array(bytes.prefix(int(0...max(0, bytes.count - 1))))
            case 1:
                for _ in 0..<int(1...8) where !bytes.isEmpty { bytes[int(0...bytes.count - 1)] ^= UInt8(int(1...255)) }
            case 2:
                guard let field = headerFields.randomElement(using: &random), field + 4 <= bytes.count else { continue }
                let huge: UInt32 = [0xFFFF_FFFF, 0x7FFF_FFFF, 0x0100_0000, 0x0001_0000, UInt32(int(0...Int(UInt32.max)))][int(0...4)]
                for k in 0..<4 { bytes[field + k] = UInt8(truncatingIfNeeded: huge >> (8 * UInt32(3 - k))) }
            case 3: bytes = (0..<int(0...400)).map { _ in UInt8(int(0...255)) }
            case 4: bytes += (0..<int(1...64)).map { _ in UInt8(int(0...255)) }
            default:
                guard bytes.count > 8 else { continue }
                let start = int(0...bytes.count - 2), end = int(start + 1...bytes.count)
                bytes.insert(contentsOf: bytes[start..<end], at: int(0...bytes.count))
            }
        }
        return bytes
    }
}

@Suite(.serialized, .timeLimit(.minutes(5)))
struct ReaderFuzzTests {
    static let inputsPerFormat = 1000

    /// Runs `read` on `count` mutated copies of `original` written to a file; returns (errors, reads).
    private func fuzz(_ name: String, original: [UInt8], headerFields: [Int], seed: UInt64, gzipSome: Bool = false,
                      read: (String) throws -> Void) throws -> (errors: Int, reads: Int) {
        let folder = try TemporaryFolder("fuzz-\(name)")
        defer { folder.remove() }
        var mutator = Mutator(random: PhiloxRandom(seed: seed))
        var errors = 0, reads = 0
        for index in 0..<Self.inputsPerFormat {
            var bytes = mutator.mutate(original, headerFields: headerFields)
            // A quarter of the inputs are gzip files: of a mutated payload, or mutated after compression.
            if gzipSome && index % 4 == 0 { bytes = try DataFiles.gzip(bytes) }
            if gzipSome && index % 4 == 1 { bytes = mutator.mutate(try DataFiles.gzip(original), headerFields: []) }
            let path = try folder.write("input-\(index)", bytes)
            do {
                try read(path)
                reads += 1
            } catch let error as DatasetError {
                #expect(error.description.contains(path), "the message must name the file: \(error)")
                errors += 1
            } catch let error as RunError {
                #expect(error.description.contains(path), "the message must name the file: \(error)")
                errors += 1
            }
        }
        return (errors, reads)
    }

    @Test func idxReaderSurvivesMutatedImageAndLabelFiles() throws {
        let before = ProcessSetup.peakMemoryBytes()
        let images = DataFiles.idx(dimensions: [6, 4, 5], data: (0..<120).map { UInt8($0) })
        let imageResult = try fuzz("idx-images", original: images, headerFields: [4, 8, 12], seed: 1, gzipSome: true) { path in
            let array = try IDXReader.readImages(path: path)
            // A successful read agrees with its own header.
            #expect(array.dimensions.count == 3 && array.bytes.count == array.dimensions.reduce(1, *))
        }
        let labels = DataFiles.idx(dimensions: [6], data: [0, 1, 2, 3, 4, 9])
        let labelResult = try fuzz("idx-labels", original: labels, headerFields: [4], seed: 2, gzipSome: true) { path in
            let values = try IDXReader.readLabels(path: path, classCount: 10)
            #expect(values.allSatisfy { (0..<10).contains($0) })
        }
        #expect(imageResult.errors + imageResult.reads == Self.inputsPerFormat)
        #expect(imageResult.errors > Self.inputsPerFormat / 2 && labelResult.errors > Self.inputsPerFormat / 2)
        #expect(ProcessSetup.peakMemoryBytes() - before < 1.5e9, "a declared size was allocated")
    }

    @Test(arguments: [CIFARFormat.cifar10, .cifar100])
    func cifarReaderSurvivesMutatedFiles(_ format: CIFARFormat) throws {
        let before = ProcessSetup.peakMemoryBytes()
        let labels: [[UInt8]] = format == .cifar10 ? [[3], [9], [0]] : [[1, 42], [19, 99], [0, 0]]
        let original = DataFiles.cifar(labels: labels, pixels: { DataFiles.pattern($0) })
        let result = try fuzz("cifar-\(format)", original: original, headerFields: [0, format.recordBytes], seed: 3, gzipSome: true) { path in
            let records = try CIFARReader.read(path: path, format: format)
            #expect(records.labels.count * 3072 == records.pixels.count)
        }
        #expect(result.errors > 0 && result.reads > 0)
        #expect(ProcessSetup.peakMemoryBytes() - before < 1.5e9, "a declared size was allocated")
    }

    @Test func checkpointLoadingSurvivesMutatedFiles() throws {
        let before = ProcessSetup.peakMemoryBytes()
        var config = TrainConfig()
        config.heads = 2
        config.layers = 1
        config.ffnUnits = 2
        let resolved = try config.resolved(defaultThreads: 1)
        let store: ParameterStore<Float> = MeanFieldTransformer(config: resolved.transformer).initialParameters(seed: 4)
        let folder = try TemporaryFolder("fuzz-checkpoint-source")
        defer { folder.remove() }
        let path = folder.path + "/step-00000003.safetensors"
        try TrainingCheckpoint(config: resolved, step: 3, meanFieldTime: 0.06, parameters: store, optimizerState: [:],
                               optimizerKind: resolved.optimizer, optimizerUpdates: 3, initialRisk: 1.5, randomState: "{}")
            .write(to: path, optimizerTensors: [])
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try TrainingCheckpoint<Float>.read(path: path).parameters == store)
        // Beyond blind mutations: edits inside the JSON header (sizes, shapes, offsets, the config).
        let headerLength = original[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = String(decoding: original[8..<(8 + headerLength)], as: UTF8.self)
        var mutator = Mutator(random: PhiloxRandom(seed: 5))
        let result = try fuzz("checkpoint", original: original, headerFields: [0, 4], seed: 6) { path in
            _ = try TrainingCheckpoint<Float>.read(path: path)
        }
        let folderEdits = try TemporaryFolder("fuzz-checkpoint-edits")
        defer { folderEdits.remove() }
        var editErrors = 0
        let numbers = try Regex("[0-9]+")
        let matches = header.matches(of: numbers)
        for index in 0..<Self.inputsPerFormat {
            // Replace one number of the header (a shape, an offset, a config value) with another.
            let match = matches[mutator.int(0...matches.count - 1)]
            let replacement = ["0", "1", "4294967296", "99999999999999999999", "-3", "1e308", String(mutator.int(0...100_000))][mutator.int(0...6)]
            var edited = header
            edited.replaceSubrange(match.range, with: replacement)
            var bytes = Array(edited.utf8)
            let length = UInt64(bytes.count)
            bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + bytes + Array(original[(8 + headerLength)...])
            let file = try folderEdits.write("edit-\(index)", bytes)
            do { _ = try TrainingCheckpoint<Float>.read(path: file) } catch let error as RunError {
                #expect(error.description.contains(file))
                editErrors += 1
            }
        }
        #expect(result.errors > Self.inputsPerFormat / 2 && editErrors > 0 && editErrors < Self.inputsPerFormat)
        #expect(ProcessSetup.peakMemoryBytes() - before < 1.5e9, "a declared size was allocated")
    }
}
