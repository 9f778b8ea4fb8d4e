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
        Threading.withThreadCount(1) {
            #expect(Threading.threadCount == 1)
            var sum = 0
            Threading.parallelFor(10) { sum += $0 } // one thread: serial, no race
            #expect(sum == 45)
        }
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
