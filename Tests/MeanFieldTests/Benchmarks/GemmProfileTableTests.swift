// `bench train --gemm-profile`: the table's arithmetic on hand-made entries, and the real command's
// call counts against the counts the Transformer's structure implies.
import Foundation
import MeanField
import MeanFieldKernels
import Testing

@Suite("GEMM profile table")
struct GemmProfileTableTests {
    @Test func sharesRatesAndPeaksFromTheEntries() {
        let looped = GemmProfile.Shape(transposeA: false, transposeB: true, m: 65, n: 65, k: 16, scalarBytes: 4, insideParallelLoop: true)
        let called = GemmProfile.Shape(transposeA: true, transposeB: false, m: 256, n: 64, k: 8320, scalarBytes: 4, insideParallelLoop: false)
        let entries = [GemmProfile.Entry(shape: called, calls: 4, seconds: 0.3), GemmProfile.Entry(shape: looped, calls: 1000, seconds: 0.1)]
        let table = GemmProfileTable(entries: entries, steps: 2, threads: 2, stepMilliseconds: 500, peakPerCore: 100)
        #expect(table.rows.map(\.label) == ["TN 256x64x8320", "NT 65x65x16"])
        #expect(table.rows.map(\.callsPerStep) == [2, 500])
        #expect(abs(table.rows[0].millisecondsPerStep - 150) < 1e-9 && abs(table.rows[1].millisecondsPerStep - 50) < 1e-9)
        #expect(abs(table.rows[0].share - 0.75) < 1e-12 && abs(table.rows[1].share - 0.25) < 1e-12)
        let calledGFLOPS = 4 * 2.0 * 256 * 64 * 8320 / 0.3 / 1e9, loopedGFLOPS = 1000 * 2.0 * 65 * 65 * 16 / 0.1 / 1e9
        #expect(abs(table.rows[0].gflops - calledGFLOPS) < 1e-9 && abs(table.rows[1].gflops - loopedGFLOPS) < 1e-9)
        // Outside a loop against both cores' peak, inside one against one core's.
        #expect(abs(table.rows[0].fractionOfPeak - calledGFLOPS / 200) < 1e-12)
        #expect(abs(table.rows[1].fractionOfPeak - loopedGFLOPS / 100) < 1e-12)
        #expect(abs(table.gemmMillisecondsPerStep - 200) < 1e-9 && table.stepMilliseconds == 250)
        #expect(table.text.contains("NT 65x65x16") && table.text.contains("loop"))
    }

    /// The regression size (merged heads M = 16, n = 21 tokens, D = 6, L = 8 layers, M′ = 16, batch 256):
    /// per step each layer makes one scores product T_b = Y_b·U_bᵀ (NT, (n·M)×n from D) per sequence,
    /// so 256 × 8 = 2,048 calls of "NT 336x21x6" inside the batch loop; the feed-forward's
    /// pre = U·bᵀ (forward) and ∂act = G·aᵀ (backward) are both NT (rows)×M′ from D once per row tile
    /// and layer, the B·n = 5,376 rows in tiles of 2¹⁶ / M′ = 4,096 (RowTiles.feedForward): 16 calls each of
    /// "NT 4096x16x6" and "NT 1280x16x6".
    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary"))
    func benchTrainCountsTheStepsProducts() throws {
        let result = try meanfield(["bench", "train", "--sizes", "regression", "--threads", "1", "--repeats", "2", "--warmup", "1",
                                    "--gemm-profile", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let row = try #require((object["results"] as? [[String: Any]])?.first)
        let profile = try #require(row["gemm_profile"] as? [String: Any])
        let shapes = try #require(profile["shapes"] as? [[String: Any]])
        func calls(_ label: String) -> Double? { shapes.first { $0["shape"] as? String == label }?["calls_per_step"] as? Double }
        #expect(calls("NT 336x21x6") == 2048)
        #expect(calls("NT 4096x16x6") == 16 && calls("NT 1280x16x6") == 16)
        let shares = shapes.compactMap { $0["share"] as? Double }
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9)
        let gemmMilliseconds = try #require(profile["gemm_ms_per_step"] as? Double), step = try #require(profile["step_ms"] as? Double)
        #expect(gemmMilliseconds > 0 && gemmMilliseconds < step)
    }
}
