import Foundation
import MeanFieldModels

/// The TensorBoard events of one training session (docs/run-format.md, "tensorboard/"): a new
/// `tensorboard/events.out.tfevents.<unix time>.<host>` file per session, TFRecord-framed
/// ``Tensorboard_Event`` messages: the file version, a SessionLog START at the session's first
/// step, then one Summary of scalars per metrics line (tags: ``TensorBoardTags``; values as
/// float32, TensorBoard's scalar type). `tensorboard --logdir` on a run or a sweep folder shows it.
///
/// A session starting at step k (a resumed run) first rewrites the folder's older files without
/// their events of steps ≥ k (deleting a file left with none), as metrics.jsonl keeps only its
/// lines before k; its START event tells TensorBoard the same. Events are buffered in memory and
/// written by ``flush()``, which the driver calls after every metrics line.
public final class TensorBoardLog {
    /// The events file of this session.
    public let path: String
    private let handle: FileHandle
    private var buffer = Data()

    /// Starts a session at `startStep` in `folder` (created if needed).
    init(folder: String, startStep: Int, now: Date = Date()) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create \(folder): \(error.localizedDescription); pass a writable --out, or --no-tensorboard")
        }
        let older = Self.eventFiles(in: folder)
        for name in older { try Self.dropEvents(from: folder + "/" + name, atOrAfter: startStep) }
        // Names sort in session order: a second later than the newest older file at least.
        let newest = older.compactMap { Int($0.dropFirst(RunFormat.eventsFilePrefix.count).prefix { $0.isNumber }) }.max() ?? 0
        let seconds = max(Int(now.timeIntervalSince1970), newest + 1)
        path = folder + "/" + RunFormat.eventsFilePrefix + String(format: "%010d", seconds) + "." + Self.host
        guard manager.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw RunError("cannot write \(path); pass a writable --out, or --no-tensorboard")
        }
        self.handle = handle
        var version = Tensorboard_Event()
        version.wallTime = now.timeIntervalSince1970
        version.fileVersion = "brain.Event:2"
        var start = Tensorboard_Event()
        (start.wallTime, start.step) = (now.timeIntervalSince1970, Int64(startStep))
        start.sessionLog.status = .start
        try append(version)
        try append(start)
        try flush()
    }

    deinit { try? handle.close() }

    /// Adds the scalars of one metrics line at `step` (written by the next ``flush()``).
    public func add(step: Int, numbers: [String: Double], lists: [String: [Double]], wallTime: Date = Date()) throws {
        var event = Tensorboard_Event()
        (event.wallTime, event.step) = (wallTime.timeIntervalSince1970, Int64(step))
        event.summary.value = TensorBoardTags.scalars(numbers: numbers, lists: lists).map { scalar in
            var value = Tensorboard_Summary.Value()
            (value.tag, value.simpleValue) = (scalar.tag, Float(scalar.value))
            return value
        }
        try append(event)
    }

    /// Writes the buffered events to the file.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw RunError("cannot append to \(path): \(error.localizedDescription); free disk space, or pass --no-tensorboard")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private func append(_ event: Tensorboard_Event) throws {
        buffer.append(TFRecord.frame(try event.serializedBytes()))
    }

    /// The events files in `folder`, in name order.
    static func eventFiles(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(RunFormat.eventsFilePrefix) }.sorted()
    }

    /// Rewrites `file` (atomically) without its events of steps ≥ `step`; deletes it if only its
    /// file-version event is left. A file with no such events is left untouched.
    static func dropEvents(from file: String, atOrAfter step: Int) throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw RunError("\(file): cannot read the file") }
        let records = try TFRecord.records(in: data, file: file)
        let kept = try records.filter { record in
            let event = try Tensorboard_Event(serializedBytes: record)
            if case .fileVersion = event.what { return true }
            return event.step < step
        }
        if kept.count == records.count && data.count == records.reduce(0, { $0 + $1.count + 16 }) { return }
        do {
            if kept.count <= 1 {
                try FileManager.default.removeItem(atPath: file)
            } else {
                try kept.reduce(into: Data()) { $0.append(TFRecord.frame($1)) }.write(to: URL(fileURLWithPath: file), options: .atomic)
            }
        } catch {
            throw RunError("cannot rewrite \(file): \(error.localizedDescription); delete the run's tensorboard folder or pass --no-tensorboard")
        }
    }

    /// This machine's name, as a file-name part (letters, digits, '-', '_').
    private static var host: String {
        let name = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        let cleaned = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return cleaned.isEmpty ? "localhost" : cleaned
    }
}
