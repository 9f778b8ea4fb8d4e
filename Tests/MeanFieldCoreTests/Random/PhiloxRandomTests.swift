/// The Philox4x32-10 generator (Random/PhiloxRandom.swift). References: the known-answer vectors of
/// the Random123 distribution (kat_vectors, reproduced by an independent Python implementation),
/// the documented stream layout (block j of stream s under seed k = philox(key k, counter (j, s))),
/// Box–Muller written out, and the moments of U[0, 1) and N(0, 1) within 5 standard errors.
/// Thread-count independence of draws is checked in ParallelTests (it must change the thread count).
import Testing
@testable import MeanFieldCore

@Suite("PhiloxRandom")
struct PhiloxRandomTests {
    typealias Words = (UInt32, UInt32, UInt32, UInt32)

    static func equal(_ a: Words, _ b: Words) -> Bool { a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3 }

    @Test("Random123 known-answer vectors of Philox4x32-10")
    func knownAnswers() {
        #expect(Self.equal(PhiloxRandom.philox(counter: (0, 0, 0, 0), key: (0, 0)),
                           (0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8)))
        #expect(Self.equal(PhiloxRandom.philox(counter: (0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF), key: (0xFFFF_FFFF, 0xFFFF_FFFF)),
                           (0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD)))
        #expect(Self.equal(PhiloxRandom.philox(counter: (0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), key: (0xA409_3822, 0x299F_31D0)),
                           (0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1)))
    }

    @Test("block(j) of stream s under seed k is philox(counter: (j, s), key: k), low words first")
    func streamLayout() {
        // The pi-digits vector, reached through the public (seed, stream, block) coordinates.
        let generator = PhiloxRandom(seed: 0x299F_31D0_A409_3822, stream: 0x0370_7344_1319_8A2E)
        #expect(Self.equal(generator.block(0x85A3_08D3_243F_6A88), (0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1)))
        #expect(Self.equal(PhiloxRandom(seed: 0).block(0), (0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8)))
        #expect(Self.equal(PhiloxRandom(seed: .max, stream: .max).block(.max), (0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD)))
        #expect(generator.stream(5).seed == generator.seed && generator.stream(5).stream == 5)
    }

    @Test("Float draws take 4 values per block, Double 2, in order, and advance past whole blocks")
    func drawsFollowTheBlocks() {
        var generator = PhiloxRandom(seed: 99, stream: 3)
        let reference = PhiloxRandom(seed: 99, stream: 3)
        let floats: Tensor<Float> = generator.uniform([5])
        let b0 = reference.block(0), b1 = reference.block(1)
        #expect(floats.scalars == [b0.0, b0.1, b0.2, b0.3, b1.0].map { Float.unitInterval($0, 0) })
        #expect(generator.blockOffset == 2)
        let doubles: Tensor<Double> = generator.uniform([3])
        let b2 = reference.block(2), b3 = reference.block(3)
        #expect(doubles.scalars == [Double.unitInterval(b2.0, b2.1), Double.unitInterval(b2.2, b2.3), Double.unitInterval(b3.0, b3.1)])
        #expect(generator.blockOffset == 4)
        let word = generator.next()
        let b4 = reference.block(4)
        #expect(word == UInt64(b4.0) | UInt64(b4.1) << 32 && generator.blockOffset == 5)
    }

    @Test("normal is Box–Muller on consecutive uniform pairs, as documented")
    func boxMuller() {
        var generator = PhiloxRandom(seed: 7)
        var twin = PhiloxRandom(seed: 7)
        let z: Tensor<Double> = generator.normal([5], mean: 1, standardDeviation: 2)
        let u: Tensor<Double> = twin.uniform([6])  // 5 values use 3 pairs
        for pair in 0..<3 {
            let radius = (-2 * Double.log(1 - u.scalars[2 * pair])).squareRoot(), angle = 2 * Double.pi * u.scalars[2 * pair + 1]
            #expect(Swift.abs(z.scalars[2 * pair] - (1 + 2 * radius * Double.cos(angle))) <= 1e-14)
            if 2 * pair + 1 < 5 { #expect(Swift.abs(z.scalars[2 * pair + 1] - (1 + 2 * radius * Double.sin(angle))) <= 1e-14) }
        }
        #expect(generator.blockOffset == twin.blockOffset)
    }

    @Test("Same seed and stream give the same tensors; other streams and seeds differ")
    func reproducibility() {
        var a = PhiloxRandom(seed: 2024), b = PhiloxRandom(seed: 2024)
        let first: Tensor<Float> = a.normal([3, 50]), second: Tensor<Float> = b.normal([3, 50])
        #expect(bitwiseEqual(first, second))
        let firstUniform: Tensor<Double> = a.uniform([100]), secondUniform: Tensor<Double> = b.uniform([100])
        #expect(bitwiseEqual(firstUniform, secondUniform))

        var otherStream = PhiloxRandom(seed: 2024).stream(1), otherSeed = PhiloxRandom(seed: 2025)
        let fromStream: Tensor<Float> = otherStream.normal([3, 50]), fromSeed: Tensor<Float> = otherSeed.normal([3, 50])
        let matchesStream = zip(first.scalars, fromStream.scalars).filter { $0 == $1 }.count
        let matchesSeed = zip(first.scalars, fromSeed.scalars).filter { $0 == $1 }.count
        #expect(matchesStream == 0 && matchesSeed == 0)
    }

    @Test("Uniform moments: mean ½, variance 1/12, within 5 standard errors; range [low, high)", arguments: [1, 2, 3] as [UInt64])
    func uniformMoments(seed: UInt64) {
        var generator = PhiloxRandom(seed: seed)
        let n = 200_000
        let floats: Tensor<Float> = generator.uniform([n])
        let doubles: Tensor<Double> = generator.uniform([n])
        for values in [floats.scalars.map(Double.init), doubles.scalars] {
            #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
            let mean = values.reduce(0, +) / Double(n)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            #expect(Swift.abs(mean - 0.5) <= 5 * (1.0 / 12 / Double(n)).squareRoot())
            #expect(Swift.abs(variance - 1.0 / 12) <= 5 * ((1.0 / 80 - 1.0 / 144) / Double(n)).squareRoot())
            // Each tenth of [0, 1) holds a tenth of the values (binomial standard error).
            var bins = [Int](repeating: 0, count: 10)
            for value in values { bins[Int(value * 10)] += 1 }
            let expected = Double(n) / 10, binError = (Double(n) * 0.1 * 0.9).squareRoot()
            #expect(bins.allSatisfy { Swift.abs(Double($0) - expected) <= 5 * binError }, "bins \(bins)")
        }
        let shifted: Tensor<Double> = generator.uniform([10_000], low: -3, high: -1)
        #expect(shifted.scalars.allSatisfy { $0 >= -3 && $0 < -1 })
    }

    @Test("Empty draws have the requested shape and consume no blocks")
    func emptyDraws() {
        var generator = PhiloxRandom(seed: 1)
        let uniform: Tensor<Float> = generator.uniform([2, 0])
        let normal: Tensor<Double> = generator.normal([0])
        #expect(uniform.shape == [2, 0] && normal.shape == [0] && generator.blockOffset == 0)
    }

    @Test("uniform never returns high, even where low + (high − low)·u rounds up to it")
    func uniformExcludesHigh() {
        // With high − low = 2⁻²² above 1, a quarter of the unit draws round to high in Float.
        var generator = PhiloxRandom(seed: 8)
        let floatHigh: Float = 1 + 0x1p-22
        let floats: Tensor<Float> = generator.uniform([4096], low: 1, high: floatHigh)
        #expect(floats.scalars.allSatisfy { $0 >= 1 && $0 < floatHigh })
        let doubleHigh: Double = 1 + 0x1p-51
        let doubles: Tensor<Double> = generator.uniform([4096], low: 1, high: doubleHigh)
        #expect(doubles.scalars.allSatisfy { $0 >= 1 && $0 < doubleHigh })
    }

    @Test("Normal moments: mean, variance, kurtosis within 5 standard errors", arguments: [1, 2] as [UInt64])
    func normalMoments(seed: UInt64) {
        var generator = PhiloxRandom(seed: seed, stream: 4)
        let n = 200_001  // odd: the last Box–Muller pair is half used
        let floats: Tensor<Float> = generator.normal([n])
        let doubles: Tensor<Double> = generator.normal([n], mean: 0, standardDeviation: 1)
        let scaled: Tensor<Double> = generator.normal([n], mean: 3, standardDeviation: 0.5)
        for values in [floats.scalars.map(Double.init), doubles.scalars, scaled.scalars.map { ($0 - 3) / 0.5 }] {
            #expect(values.count == n && values.allSatisfy(\.isFinite))
            let mean = values.reduce(0, +) / Double(n)
            let variance = values.map { $0 * $0 }.reduce(0, +) / Double(n)
            let fourth = values.map { $0 * $0 * $0 * $0 }.reduce(0, +) / Double(n)
            #expect(Swift.abs(mean) <= 5 / Double(n).squareRoot())
            #expect(Swift.abs(variance - 1) <= 5 * (2 / Double(n)).squareRoot())
            #expect(Swift.abs(fourth - 3) <= 5 * (96 / Double(n)).squareRoot())
            let belowMinusOne = Double(values.filter { $0 < -1 }.count) / Double(n)  // Φ(−1) = 0.158655…
            #expect(Swift.abs(belowMinusOne - 0.15865525393145707) <= 5 * (0.1587 * 0.8413 / Double(n)).squareRoot())
        }
    }
}
