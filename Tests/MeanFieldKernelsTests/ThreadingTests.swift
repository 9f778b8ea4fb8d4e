// The thread pool: every index exactly once, nested loops, thread-count setting.
import Testing
import MeanFieldKernels

@Suite("Threading", .serialized)
struct ThreadingTests {
    @Test("parallelFor runs every index exactly once", arguments: [0, 1, 2, 3, 17, 1000, 100_003])
    func everyIndexOnce(count: Int) {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        hits.initialize(repeating: 0, count: max(1, count))
        defer { hits.deallocate() }
        for _ in 0..<3 {
            Threading.parallelFor(count) { index in hits[index] += 1 } // each index owns its slot
        }
        #expect((0..<count).allSatisfy { hits[$0] == 3 })
    }

    @Test("Nested parallelFor runs serially inside and still covers everything")
    func nested() {
        let outer = 8, inner = 50
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: outer * inner)
        hits.initialize(repeating: 0, count: outer * inner)
        defer { hits.deallocate() }
        Threading.parallelFor(outer) { i in
            Threading.parallelFor(inner) { j in hits[i * inner + j] += 1 }
        }
        #expect((0..<(outer * inner)).allSatisfy { hits[$0] == 1 })
    }

    @Test("threadCount can be lowered and restored")
    func setThreadCount() {
        let original = Threading.threadCount
        #expect(original >= 1 && original <= Threading.processorCount)
        Threading.threadCount = 1
        #expect(Threading.threadCount == 1)
        var sum = 0
        Threading.parallelFor(10) { sum += $0 } // one thread: serial, no race
        #expect(sum == 45)
        Threading.threadCount = original
        #expect(Threading.threadCount == original)
    }

    @Test("Many tiny loops in a row (pool hand-off stress)")
    func manySmallLoops() {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        hits.initialize(repeating: 0, count: 4)
        defer { hits.deallocate() }
        for _ in 0..<20_000 {
            Threading.parallelFor(4) { hits[$0] += 1 }
        }
        #expect((0..<4).allSatisfy { hits[$0] == 20_000 })
    }
}

@Suite("Kernel sources")
struct KernelSourceTests {
    /// The micro-kernel bodies are one file compiled into three modules (hard links in a checkout,
    /// separate copies in git): they must stay identical.
    @Test("The three copies of MicroKernelBodies.swift are identical")
    func sharedBodiesIdentical() throws {
        let components = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        let root = components[..<components.lastIndex(of: "Tests")!].joined(separator: "/")
        let paths = ["MeanFieldKernels/Shared", "MeanFieldKernelsAVX2", "MeanFieldKernelsAVX512"]
            .map { "\(root)/Sources/\($0)/MicroKernelBodies.swift" }
        let contents = paths.map { path -> [UInt8]? in
            guard let file = fopen(path, "rb") else { return nil }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let read = fread(&buffer, 1, buffer.count, file)
                if read == 0 { break }
                bytes += buffer[0..<read]
            }
            return bytes
        }
        try #require(contents[0] != nil, "cannot read \(paths[0])")
        for index in 1..<paths.count {
            let same = contents[index] == nil || contents[index]! == contents[0]!
            #expect(same, "\(paths[index]) differs from \(paths[0])")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
