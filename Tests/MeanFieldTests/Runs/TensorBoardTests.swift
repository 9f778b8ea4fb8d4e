// TensorBoard events (Sources/MeanFieldTraining/Runs/TensorBoard): the TFRecord CRC against the
// published CRC-32C check values, and a run's events files read back by the minimal parser below
// (its own bitwise CRC, its own protobuf wire decoding: nothing shared with the writer) against the
// run's metrics.jsonl, fresh and resumed.
import Foundation
import MeanField
import MeanFieldCore
import Testing

struct TFRecordTests {
    @Test func crc32cMatchesThePublishedCheckValues() {
        // The CRC catalogue's check value, and RFC 3720 (iSCSI) B.4: 32 zero bytes, 0…31.
        #expect(TFRecord.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(TFRecord.crc32c([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(TFRecord.crc32c((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(TFRecord.crc32c([UInt8]()) == 0)
    }

    @Test func maskedCRCOfALengthMatchesEveryEventsFilesHeader() {
        // Every TensorFlow events file starts with the 24-byte file-version record: bytes
        // 18 00 00 00 00 00 00 00 a3 7f 4b 22 (the length, then its masked CRC-32C).
        #expect(TFRecord.maskedCRC32C([24, 0, 0, 0, 0, 0, 0, 0]) == 0x224B_7FA3)
        let record = [UInt8](TFRecord.frame(Data(count: 24)))
        #expect(Array(record.prefix(12)) == [0x18, 0, 0, 0, 0, 0, 0, 0, 0xA3, 0x7F, 0x4B, 0x22])
        #expect(record.count == 24 + 16)
    }

    @Test func recordsReadBackAndACorruptOneIsNamed() throws {
        let payloads = [Data("first".utf8), Data(), Data((0..<300).map { UInt8($0 % 251) })]
        var file = payloads.reduce(into: Data()) { $0.append(TFRecord.frame($1)) }
        #expect(try TFRecord.records(in: file, file: "f") == payloads)
        #expect(try EventsParser.records(file) == payloads)
        // A record cut short by a kill is dropped; a flipped byte is an error naming the file.
        #expect(try TFRecord.records(in: file.dropLast(3), file: "f") == Array(payloads.prefix(2)))
        file[14] ^= 1
        #expect(throws: RunError.self) { try TFRecord.records(in: file, file: "f") }
    }
}

/// An events file decoded independently of the writer: TFRecord framing with a bitwise CRC-32C,
/// then the protobuf wire format by hand (tensorboard/compat/proto/event.proto, summary.proto).
enum EventsParser {
    struct Event: Equatable {
        var wallTime = 0.0, step: Int64 = 0
        var fileVersion: String?
        var sessionStatus: Int?
        var scalars: [String: Float] = [:]
    }

    struct Failure: Error { let reason: String }

    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    static func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func records(_ data: Data) throws -> [Data] {
        let bytes = [UInt8](data)
        var offset = 0, records: [Data] = []
        while offset < bytes.count {
            let length = Int(littleEndian(bytes[offset..<offset + 8]))
            guard UInt32(littleEndian(bytes[offset + 8..<offset + 12])) == masked(Array(bytes[offset..<offset + 8])) else {
                throw Failure(reason: "length CRC at \(offset)")
            }
            let payload = Array(bytes[offset + 12..<offset + 12 + length])
            guard UInt32(littleEndian(bytes[offset + 12 + length..<offset + 16 + length])) == masked(payload) else {
                throw Failure(reason: "data CRC at \(offset)")
            }
            records.append(Data(payload))
            offset += 16 + length
        }
        return records
    }

    /// The fields of a protobuf message: (field number, wire type, value bytes or varint).
    static func fields(_ bytes: [UInt8]) throws -> [(number: Int, varint: UInt64, bytes: [UInt8])] {
        var index = 0, fields: [(Int, UInt64, [UInt8])] = []
        func varint() -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        while index < bytes.count {
            let key = varint()
            switch key & 7 {
            case 0: fields.append((Int(key >> 3), varint(), []))
            case 1: fields.append((Int(key >> 3), 0, Array(bytes[index..<index + 8]))); index += 8
            case 2: let length = Int(varint()); fields.append((Int(key >> 3), 0, Array(bytes[index..<index + length]))); index += length
            case 5: fields.append((Int(key >> 3), 0, Array(bytes[index..<index + 4]))); index += 4
            default: throw Failure(reason: "wire type \(key & 7)")
            }
        }
        return fields
    }

    static func event(_ record: Data) throws -> Event {
        var event = Event()
        for field in try fields([UInt8](record)) {
            switch field.number {
            case 1: event.wallTime = Double(bitPattern: littleEndian(field.bytes[...]))
            case 2: event.step = Int64(bitPattern: field.varint)
            case 3: event.fileVersion = String(decoding: field.bytes, as: UTF8.self)
            case 5:
                for value in try fields(field.bytes) where value.number == 1 {
                    let parts = try fields(value.bytes)
                    let tag = parts.first { $0.number == 1 }.map { String(decoding: $0.bytes, as: UTF8.self) }
                    let scalar = parts.first { $0.number == 2 }.map { Float(bitPattern: UInt32(littleEndian($0.bytes[...]))) }
                    guard let tag, let scalar else { throw Failure(reason: "a Summary.Value without tag or simple_value") }
                    event.scalars[tag] = scalar
                }
            case 7: event.sessionStatus = Int(try fields(field.bytes).first { $0.number == 1 }?.varint ?? 0)
            default: throw Failure(reason: "unexpected Event field \(field.number)")
            }
        }
        return event
    }

    /// The events files of a run folder, in name order, each as its events.
    static func files(inRun path: String) throws -> [(name: String, events: [Event])] {
        let folder = path + "/" + RunFormat.tensorboardFolder
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        return try names.map { name in
            (name, try records(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))).map(event))
        }
    }
}

private func train(_ config: TrainConfig, into path: String, resume: Bool = false, haltAfter: Int? = nil) throws {
    let resolved = try config.resolved(defaultThreads: 1)
    var trainer = Trainer(config: resolved, engine: AutodiffEngine<Float>(config: resolved.transformer))
    (trainer.showProgress, trainer.haltAfterStep) = (false, haltAfter)
    _ = try trainer.run(directory: path, resume: resume)
}

private func temporaryRun(_ name: String) -> String { NSTemporaryDirectory() + "meanfield-tensorboard-\(getpid())-\(name)" }

/// The summary events of `files` by step, and the steps in file order (to see duplicates).
private func scalarsByStep(_ files: [(name: String, events: [EventsParser.Event])]) -> (byStep: [Int: [String: Float]], steps: [Int]) {
    let summaries = files.flatMap(\.events).filter { !$0.scalars.isEmpty }
    return (Dictionary(summaries.map { (Int($0.step), $0.scalars) }, uniquingKeysWith: { first, _ in first }), summaries.map { Int($0.step) })
}

/// Every number and list entry of every metrics.jsonl line equals its event's scalar (as float32).
private func expectEventsEqualMetrics(_ path: String, byStep: [Int: [String: Float]]) throws {
    let metrics = try RunFolder.readMetrics(in: path)
    #expect(!metrics.isEmpty && metrics.count == byStep.count)
    for line in metrics {
        let step = Int(try #require(line["step"]))
        let scalars = try #require(byStep[step], "no summary event at step \(step)")
        let expected = line.numbers.filter { $0.key != "step" }.count + line.lists.values.reduce(0) { $0 + $1.count }
        #expect(scalars.count == expected)
        // The documented tags of the regression numbers, spelled out here (docs/run-format.md).
        for (key, tag) in [("R", "train/risk"), ("Q", "train/objective"), ("eval_R", "eval/risk"), ("lr", "optim/lr"), ("t", "time/mean_field_t"),
                           ("param_norm", "optim/param_norm"), ("grad_norm", "optim/grad_norm"), ("batch_loss", "train/batch_loss")] {
            if let value = line[key] { #expect(scalars[tag] == Float(value), "\(tag) at step \(step)") }
        }
        for (key, value) in line.numbers where key != "step" {
            #expect(scalars[try #require(TensorBoardTags.tag(number: key))] == Float(value), "\(key) at step \(step)")
        }
        for (key, list) in line.lists {
            for (layer, value) in list.enumerated() { #expect(scalars[TensorBoardTags.tag(list: key, layer: layer)] == Float(value)) }
        }
        #expect(line.lists["spread_attention"].map { $0.indices.allSatisfy { scalars["spread/attention/layer_\($0)"] != nil } } == true)
    }
}

struct TensorBoardRunTests {
    private var config: TrainConfig {
        var config = TrainConfig()
        (config.steps, config.logEvery, config.checkpointEvery, config.batchSize, config.heads, config.ffnUnits) = (20, 3, 5, 4, 2, 4)
        config.weightDecay = 0.01
        return config
    }

    @Test func aRunsEventsEqualItsMetrics() throws {
        let path = temporaryRun("fresh")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try train(config, into: path)
        let files = try EventsParser.files(inRun: path)
        #expect(files.count == 1)
        let name = try #require(files.first?.name)
        #expect(name.hasPrefix("events.out.tfevents.") && name.split(separator: ".").count == 5)
        let events = try #require(files.first?.events)
        // file_version first, then START at step 0, then one summary per metrics line.
        #expect(events.first?.fileVersion == "brain.Event:2")
        #expect(events.dropFirst().first?.sessionStatus == 1 && events.dropFirst().first?.step == 0)
        #expect(events.allSatisfy { abs($0.wallTime - Date().timeIntervalSince1970) < 600 })
        let (byStep, steps) = scalarsByStep(files)
        #expect(steps == [0, 3, 6, 9, 12, 15, 18, 20])
        try expectEventsEqualMetrics(path, byStep: byStep)
    }

    @Test func aResumedRunLeavesNoDuplicateOrStaleSteps() throws {
        let path = temporaryRun("resumed")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Killed after step 13: lines up to 12 logged, the checkpoint at 10; the resume replays 10…20.
        try train(config, into: path, haltAfter: 13)
        #expect(scalarsByStep(try EventsParser.files(inRun: path)).steps == [0, 3, 6, 9, 12])
        try train(config, into: path, resume: true)
        let files = try EventsParser.files(inRun: path)
        #expect(files.count == 2)
        #expect(files.map(\.name) == files.map(\.name).sorted())
        // The first session's file lost its step 12; the second starts with START at step 10.
        #expect(scalarsByStep([files[0]]).steps == [0, 3, 6, 9])
        let second = files[1].events
        #expect(second.first?.fileVersion == "brain.Event:2" && second.dropFirst().first?.sessionStatus == 1)
        #expect(second.dropFirst().first?.step == 10)
        let (byStep, steps) = scalarsByStep(files)
        #expect(steps == [0, 3, 6, 9, 12, 15, 18, 20])
        try expectEventsEqualMetrics(path, byStep: byStep)
    }

    @Test func noTensorBoardWritesNoEvents() throws {
        let path = temporaryRun("off")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var config = config
        config.steps = 2
        try config.set("tensorboard", "false", source: "--no-tensorboard")
        try train(config, into: path)
        #expect(FileManager.default.fileExists(atPath: path + "/" + RunFormat.metricsFile))
        #expect(!FileManager.default.fileExists(atPath: path + "/" + RunFormat.tensorboardFolder))
    }
}
