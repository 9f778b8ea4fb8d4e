import CMeanFieldSupport
import Foundation
import MeanFieldCore
import MeanFieldModels

/// Element types MeanField reads and writes in safetensors files.
public enum SafeTensorsDType: String, Sendable {
    case F32, F64

    /// Bytes per element.
    public var size: Int { self == .F32 ? 4 : 8 }

    static func of<Scalar: TensorScalar>(_: Scalar.Type) -> SafeTensorsDType {
        MemoryLayout<Scalar>.size == 4 ? .F32 : .F64
    }
}

/// A file in the safetensors format (https://huggingface.co/docs/safetensors), readable by NumPy,
/// PyTorch and the `safetensors` package:
///
///     [8 bytes: N, little-endian u64] [N bytes: JSON header, space-padded] [data]
///
/// The header maps each tensor name to `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`
/// (byte offsets into the data, which the tensors tile exactly, little-endian, row-major) and
/// `"__metadata__"` to a string → string map. Tensors keep the order in which they were added.
///
/// Content hash: a file may carry `"content_sha256"` in its metadata (``contentHashKey``; every
/// checkpoint MeanField writes does, see ``sealContentHash()``). ``read(path:)`` verifies it and
/// refuses a file whose content no longer matches; a file without it (older checkpoints, files from
/// other writers) is read unverified. The hash is SHA-256 over a canonical form, independent of the
/// header's JSON spelling and key order, so any language can check it. All integers are u64
/// little-endian, every byte string is preceded by its length:
///
///     count of metadata entries (without content_sha256)
///     per entry, keys sorted by their UTF-8 bytes:  len key, key, len value, value   (UTF-8)
///     count of tensors
///     per tensor, names sorted by their UTF-8 bytes:  len name, name, len dtype, dtype ("F32"),
///                                                     rank, each axis, len data, data (as stored)
public struct SafeTensorsFile: Sendable {
    /// One tensor: its raw little-endian bytes.
    public struct Entry: Sendable {
        public var name: String
        public var dtype: SafeTensorsDType
        public var shape: [Int]
        /// The bytes: owned (a tensor added to be written), or a slice of the memory-mapped file
        /// they were read from (``SafeTensorsFile/read(path:)``: no copy until a tensor is built).
        var storage: Data
        /// The bytes as an array (a copy).
        public var bytes: [UInt8] {
            get { [UInt8](storage) }
            set { storage = Data(newValue) }
        }
        /// The number of bytes.
        public var byteCount: Int { storage.count }
        /// Calls `body` with the bytes where they are (in a read file's mapping: no copy).
        public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            try storage.withUnsafeBytes(body)
        }

        public init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
            (self.name, self.dtype, self.shape, self.storage) = (name, dtype, shape, Data(bytes))
        }

        init(name: String, dtype: SafeTensorsDType, shape: [Int], storage: Data) {
            (self.name, self.dtype, self.shape, self.storage) = (name, dtype, shape, storage)
        }
    }

    public private(set) var entries: [Entry] = []
    public var metadata: [String: String] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds a tensor (F32 for `Float`, F64 for `Double`).
    public mutating func add<Scalar: TensorScalar>(_ name: String, _ tensor: Tensor<Scalar>) {
        precondition(!names.contains(name) && name != "__metadata__", "SafeTensorsFile: duplicate tensor name '\(name)'")
        let bytes = tensor.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
        entries.append(Entry(name: name, dtype: .of(Scalar.self), shape: tensor.shape, bytes: Self.littleEndian(bytes, size: MemoryLayout<Scalar>.size)))
    }

    public var names: [String] { entries.map(\.name) }

    /// The tensor called `name` as `Tensor<Scalar>`; fails (one line) if it is missing or of another dtype.
    public func tensor<Scalar: TensorScalar>(_ name: String, as _: Scalar.Type = Scalar.self, file: String = "checkpoint") throws -> Tensor<Scalar> {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw RunError("\(file): no tensor named '\(name)'")
        }
        let wanted = SafeTensorsDType.of(Scalar.self)
        guard entry.dtype == wanted else {
            throw RunError("\(file): tensor '\(name)' is \(entry.dtype.rawValue), this run uses \(wanted.rawValue)")
        }
        let count = entry.shape.reduce(1, *)
        guard entry.byteCount == count * entry.dtype.size else {
            throw RunError("\(file): tensor '\(name)' was taken already (takeTensor) or its bytes do not match its shape")
        }
        #if _endian(big)
        let native = Data(Self.littleEndian(entry.bytes, size: entry.dtype.size))
        #else
        let native = entry.storage
        #endif
        return Tensor(shape: entry.shape, unsafeUninitialized: { buffer in
            native.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * entry.dtype.size)]))
            }
        })
    }

    /// ``tensor(_:as:file:)``, then the entry's bytes are released: a reader that takes every
    /// tensor this way holds each value once (in the tensor), never twice.
    public mutating func takeTensor<Scalar: TensorScalar>(_ name: String, as _: Scalar.Type = Scalar.self, file: String = "checkpoint") throws -> Tensor<Scalar> {
        let tensor: Tensor<Scalar> = try self.tensor(name, file: file)
        if let index = entries.firstIndex(where: { $0.name == name }) { entries[index].storage = Data() }
        return tensor
    }

    /// The metadata key of the content hash: 64 lowercase hex digits of SHA-256 (see the type's documentation).
    public static let contentHashKey = "content_sha256"

    /// The content hash of the tensors and the metadata (the stored hash itself left out), as hex.
    public func contentSHA256() -> String {
        func byUTF8(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        var hash = SHA256()
        func put(_ bytes: [UInt8]) {
            hash.update(littleEndian: UInt64(bytes.count))
            hash.update(bytes)
        }
        func put(_ bytes: Data) {
            hash.update(littleEndian: UInt64(bytes.count))
            bytes.withUnsafeBytes { hash.update($0.bindMemory(to: UInt8.self)) }
        }
        let keys = metadata.keys.filter { $0 != Self.contentHashKey }.sorted(by: byUTF8)
        hash.update(littleEndian: UInt64(keys.count))
        for key in keys {
            put(Array(key.utf8))
            put(Array(metadata[key]!.utf8))
        }
        hash.update(littleEndian: UInt64(entries.count))
        for entry in entries.sorted(by: { byUTF8($0.name, $1.name) }) {
            put(Array(entry.name.utf8))
            put(Array(entry.dtype.rawValue.utf8))
            hash.update(littleEndian: UInt64(entry.shape.count))
            for axis in entry.shape { hash.update(littleEndian: UInt64(axis)) }
            put(entry.storage)
        }
        return hash.finalizeHex()
    }

    /// Stores the content hash of the tensors and the other metadata under ``contentHashKey``
    /// (call it last: any later change to the tensors or the metadata breaks the hash).
    public mutating func sealContentHash() {
        metadata[Self.contentHashKey] = contentSHA256()
    }

    /// The whole file as bytes.
    public func serialized() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for entry in entries {
            header[entry.name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + entry.byteCount]] as [String: Any]
            offset += entry.byteCount
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for entry in entries { data.append(entry.storage) }
        return data
    }

    /// The name of `write(to:)`'s temporary file for the file `name`, written by process `process`.
    static func temporaryName(for name: String, process: Int32) -> String { ".\(name).tmp-\(process)" }

    /// Whether `name` is such a temporary (left behind when its writer was killed mid-write).
    public static func isTemporaryName(_ name: String) -> Bool {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { return false }
        let process = name[marker.upperBound...]
        return !process.isEmpty && process.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Writes the file atomically and durably: a temporary file in the same folder, flushed to disk
    /// (fsync), renamed over `path`, then the folder flushed too, so that once this returns the file
    /// survives a crash or a power cut, and a crash never leaves a half-written file under the final name.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/" + Self.temporaryName(for: url.lastPathComponent, process: getpid())
        do {
            try Self.writeDurably(try serialized(), to: temporary)
            // rename(2) replaces the destination atomically.
            guard rename(temporary, url.path) == 0 else { throw RunError("rename: " + String(cString: strerror(errno))) }
        } catch {
            unlink(temporary)
            throw RunError("cannot write checkpoint \(path): \((error as? RunError)?.description ?? error.localizedDescription); check the disk space and permissions of the run directory")
        }
        // The rename is durable only once the folder's entry is on disk.
        do { try Self.syncDirectory(folder) } catch {
            throw RunError("cannot write checkpoint \(path): \((error as? RunError)?.description ?? error.localizedDescription); check the disk and the run directory")
        }
    }

    /// Writes `data` to a new file at `path` and flushes it to disk (fsync) before returning.
    static func writeDurably(_ data: Data, to path: String) throws {
        func failure(_ call: String) -> RunError { RunError("\(call): " + String(cString: strerror(errno))) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw failure("open") }
        var closed = false
        defer { if !closed { close(descriptor) } }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let written = posixWrite(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write")
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("fsync") }
        closed = true
        guard close(descriptor) == 0 else { throw failure("close") }
    }

    /// Flushes a folder's entries (a rename into it) to disk.
    static func syncDirectory(_ folder: String) throws {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw RunError("open \(folder): " + String(cString: strerror(errno))) }
        defer { close(descriptor) }
        // Some file systems cannot sync a folder (EINVAL); their renames are as durable as they get.
        guard fsync(descriptor) == 0 || errno == EINVAL else { throw RunError("fsync \(folder): " + String(cString: strerror(errno))) }
    }

    /// Reads and validates a file; every problem is one line naming the file and what is wrong.
    /// The file is memory-mapped and the entries are slices of the mapping, so reading a file of S
    /// bytes allocates no copy of it: the only copy is the tensors a reader builds
    /// (``takeTensor(_:as:file:)`` releases each entry as it goes). Checkpoints are replaced by
    /// rename, never rewritten in place, so a mapped file does not change under the reader.
    public static func read(path: String) throws -> SafeTensorsFile {
        // Mapped here (mmap, CMeanFieldSupport) rather than by Data(contentsOf:options:), whose
        // .alwaysMapped is a hint Foundation may decline (it reads some file systems instead).
        var size = 0
        guard let address = mf_map_file(path, &size) else {
            guard size == 0 else { throw RunError("\(path): cannot read the file (missing or unreadable)") }
            return try parse(Data(), name: path)
        }
        let data = Data(bytesNoCopy: address, count: size, deallocator: .custom { address, size in mf_unmap_file(address, size) })
        return try parse(data, name: path)
    }

    /// Parses and validates the bytes of a file (`name` is used in messages); the content hash, if
    /// the file has one, is verified unless `verifyingContentHash` is false (tools that repair files).
    public static func parse(_ bytes: [UInt8], name: String, verifyingContentHash: Bool = true) throws -> SafeTensorsFile {
        try parse(Data(bytes), name: name, verifyingContentHash: verifyingContentHash)
    }

    /// ``parse(_:name:verifyingContentHash:)`` of a `Data` (a mapped file): the entries are slices of it.
    public static func parse(_ file: Data, name: String, verifyingContentHash: Bool = true) throws -> SafeTensorsFile {
        // Zero-based indices whatever `file` is a slice of.
        let data = file.startIndex == 0 ? file : Data(file)
        return try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> SafeTensorsFile in
            try parse(bytes, in: data, name: name, verifyingContentHash: verifyingContentHash)
        }
    }

    /// The parser: `bytes` are `data`'s bytes; entries slice `data`.
    private static func parse(_ bytes: UnsafeRawBufferPointer, in data: Data, name: String, verifyingContentHash: Bool) throws -> SafeTensorsFile {
        func fail(_ problem: String) -> RunError { RunError("\(name): \(problem)") }
        guard bytes.count >= 8 else {
            throw fail("truncated safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("truncated or not a safetensors file: header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = bytes[8..<headerEnd]
        guard headerBytes.first == UInt8(ascii: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(headerBytes)),
              let header = object as? [String: Any] else {
            throw fail("not a safetensors file: the header is not a JSON object")
        }
        let dataSize = bytes.count - headerEnd
        var file = SafeTensorsFile()
        var spans: [(begin: Int, end: Int, name: String)] = []
        var unordered: [Entry] = []
        for (key, value) in header {
            if key == "__metadata__" {
                guard let map = value as? [String: Any] else { throw fail("__metadata__ is not a JSON object") }
                for (metaKey, metaValue) in map {
                    guard let text = metaValue as? String else { throw fail("__metadata__ value '\(metaKey)' is not a string") }
                    file.metadata[metaKey] = text
                }
                continue
            }
            guard let description = value as? [String: Any] else { throw fail("tensor '\(key)': header entry is not an object") }
            guard let dtypeName = description["dtype"] as? String else { throw fail("tensor '\(key)': no dtype") }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw fail("tensor '\(key)': unsupported dtype \(dtypeName) (MeanField reads F32 and F64)")
            }
            guard let shape = integers(description["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(key)': shape is not a list of non-negative integers")
            }
            guard let offsets = integers(description["data_offsets"]), offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw fail("tensor '\(key)': data_offsets is not [begin, end] with 0 ≤ begin ≤ end")
            }
            guard offsets[1] <= dataSize else {
                throw fail("truncated file: tensor '\(key)' ends at data byte \(offsets[1]) but the data has \(dataSize) bytes")
            }
            // The product is checked for overflow: a corrupt shape must be an error, not a trap.
            guard let expected = shape.reduce(Optional(dtype.size), { total, axis in
                total.flatMap { let (product, overflow) = $0.multipliedReportingOverflow(by: axis); return overflow ? nil : product }
            }) else {
                throw fail("tensor '\(key)': shape \(shape) is too large to be a tensor")
            }
            guard offsets[1] - offsets[0] == expected else {
                throw fail("tensor '\(key)': shape \(shape) of \(dtypeName) needs \(expected) bytes, data_offsets give \(offsets[1] - offsets[0])")
            }
            spans.append((offsets[0], offsets[1], key))
            unordered.append(Entry(name: key, dtype: dtype, shape: shape, storage: data[(headerEnd + offsets[0])..<(headerEnd + offsets[1])]))
        }
        // The tensors must tile the data exactly: no overlap, no hole, nothing after the last one.
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for span in spans {
            guard span.begin == cursor else {
                throw fail(span.begin < cursor ? "tensor '\(span.name)' overlaps the previous tensor's data" : "hole in the data before tensor '\(span.name)'")
            }
            cursor = span.end
        }
        guard cursor == dataSize else {
            throw fail("\(dataSize - cursor) bytes after the last tensor's data (corrupt or concatenated file)")
        }
        // Keep the file's data order (the writer's order).
        let order = Dictionary(uniqueKeysWithValues: spans.enumerated().map { ($1.name, $0) })
        file.entries = unordered.sorted { order[$0.name]! < order[$1.name]! }
        if verifyingContentHash, let stored = file.metadata[contentHashKey] {
            guard stored.count == 64, stored.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                throw fail("content hash '\(stored.prefix(80))' in __metadata__ is not 64 lowercase hex digits (corrupt file)")
            }
            guard file.contentSHA256() == stored else {
                throw fail("content hash mismatch (the file is corrupted or was changed after it was written)")
            }
        }
        return file
    }

    private static func integers(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in list {
            if let number = item as? Int { result.append(number) }
            else if let number = item as? NSNumber, number.doubleValue == number.doubleValue.rounded(),
                    abs(number.doubleValue) < 0x1p62 { result.append(number.intValue) }
            else { return nil }
        }
        return result
    }

    /// Byte-swaps each element on a big-endian host (identity on little-endian ones).
    private static func littleEndian(_ bytes: [UInt8], size: Int) -> [UInt8] {
        #if _endian(big)
        var swapped = bytes
        for start in stride(from: 0, to: bytes.count, by: size) { swapped[start..<(start + size)].reverse() }
        return swapped
        #else
        return bytes
        #endif
    }
}

/// write(2) under another name: inside ``SafeTensorsFile`` the method `write(to:)` hides it.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
