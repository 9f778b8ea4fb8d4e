// Reading a checkpoint of S bytes takes ~S of memory, not 3S (issue "hostile input", item 2): the
// file is memory-mapped and verified in place (file-backed pages, which the kernel can drop), its
// entries are views into that mapping, and the only copy is the tensors a reader builds, each entry
// released as its tensor is built. Checked by where the entries' bytes are: inside the file's
// mapping as /proc/self/maps lists it (Linux only).
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/maps"), "needs /proc/self/maps (Linux)"))
struct CheckpointMemoryTests {
    /// The address ranges at which `path` is mapped into this process.
    private func mappings(of path: String) -> [Range<UInt>] {
        // Read to the end in chunks: procfs reports a size of 0, and a one-shot read can stop short.
        let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        return maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5...].joined(separator: " ") == path else { return nil }
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            return bounds.count == 2 ? bounds[0]..<bounds[1] : nil
        }
    }

    @Test func aReadFilesEntriesAreViewsOfItsMappingAndTakingATensorReleasesItsEntry() throws {
        let count = 1 << 16, tensors = 4
        let path = NSTemporaryDirectory() + "meanfield-memory-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            var file = SafeTensorsFile(metadata: ["purpose": "memory test"])
            for index in 0..<tensors {
                file.add("t\(index)", Tensor<Float>(shape: [count], unsafeUninitialized: { buffer in
                    for i in buffer.indices { buffer[i] = Float(index) + Float(i % 1000) / 1000 }
                }))
            }
            file.sealContentHash()
            try file.write(to: path)
        }
        var file = try SafeTensorsFile.read(path: path)          // parsed and hash-verified in place
        let mapped = mappings(of: (path as NSString).resolvingSymlinksInPath)
        #expect(!mapped.isEmpty, "the file is not memory-mapped")
        for entry in file.entries {
            let address = entry.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
            #expect(entry.byteCount == count * 4)
            #expect(mapped.contains { $0.contains(address) && $0.contains(address + UInt(entry.byteCount) - 1) },
                    "\(entry.name)'s bytes at \(String(address, radix: 16)) are a copy, not in the mapping \(mapped)")
        }
        for index in 0..<tensors {
            let tensor: Tensor<Float> = try file.takeTensor("t\(index)", file: path)
            for i in [0, 999, 1000, count - 1] {
                let expected = Float(index) + Float(i % 1000) / 1000
                #expect(tensor[i] == expected)
            }
            #expect(file.entries[index].byteCount == 0, "t\(index) still held after it was taken")
        }
        #expect(throws: (any Error).self) { _ = try file.tensor("t0", as: Float.self, file: path) }
    }
}
