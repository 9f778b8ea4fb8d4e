// GemmProfile: while recording, every Gemm.gemm call is counted under its shape, scalar size and
// whether it ran inside a parallel loop; nothing is counted before `start` or after `stop`, and the
// products' results do not change. The record is process-wide and other suites run GEMMs at the same
// time, so the checks look only at this test's own shapes (sizes no other test uses).
import Testing
@testable import MeanFieldKernels

@Suite("GEMM profile", .serialized)
struct GemmProfileTests {
    @Test func countsEveryCallByShapeAndPlace() {
        let a = (0..<(13 * 29)).map { Float($0 % 11) / 7 }, b = (0..<(11 * 29)).map { Float($0 % 3) - 1 }
        var c = [Float](repeating: 0, count: 13 * 11), unprofiled = c
        let ad = (0..<(37 * 31)).map { Double($0 % 5) / 5 }, bd = (0..<(37 * 3)).map { Double($0) }
        var cd = [Double](repeating: 0, count: 31 * 3)
        func scores(_ c: inout [Float]) {
            Gemm.gemm(transposeA: false, transposeB: true, m: 13, n: 11, k: 29, alpha: 1, a: a, lda: 29, b: b, ldb: 29, beta: 0, c: &c, ldc: 11)
        }
        scores(&unprofiled)  // before start: not counted
        GemmProfile.start()
        scores(&c)
        scores(&c)
        Gemm.gemm(transposeA: true, transposeB: false, m: 31, n: 3, k: 37, alpha: 1, a: ad, lda: 31, b: bd, ldb: 3, beta: 0, c: &cd, ldc: 3)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                Threading.withThreadCount(2) {
                    Threading.parallelFor(4) { _ in
                        var local = [Float](repeating: 0, count: 13 * 11)
                        Gemm.gemm(transposeA: false, transposeB: false, m: 13, n: 11, k: 29, alpha: 1, a: a.baseAddress!, lda: 29,
                                  b: b.baseAddress!, ldb: 11, beta: 0, c: &local, ldc: 11)
                    }
                }
            }
        }
        let entries = GemmProfile.stop()
        scores(&c)  // after stop: not counted
        #expect(c == unprofiled)

        func entry(_ label: String) -> GemmProfile.Entry? { entries.first { $0.shape.label == label } }
        let scoresEntry = entry("NT 13x11x29"), weights = entry("TN 31x3x37"), looped = entry("NN 13x11x29")
        #expect(scoresEntry?.calls == 2 && scoresEntry?.shape.scalarBytes == 4 && scoresEntry?.shape.insideParallelLoop == false)
        #expect(scoresEntry?.flops == Double(2 * 2 * 13 * 11 * 29))
        #expect(weights?.calls == 1 && weights?.shape.scalarBytes == 8 && weights?.flops == Double(2 * 31 * 3 * 37))
        #expect(looped?.calls == 4 && looped?.shape.insideParallelLoop == true)
        #expect([scoresEntry, weights, looped].allSatisfy { ($0?.seconds ?? 0) > 0 })
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.seconds >= $1.seconds })
        // A new start clears the record: the call after stop is not in it.
        GemmProfile.start()
        #expect(GemmProfile.stop().allSatisfy { $0.shape.label != "NT 13x11x29" })
    }
}
