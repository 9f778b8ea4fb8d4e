import RealModule

/// A seeded, counter-based random generator: Philox4x32-10 (Salmon et al., "Parallel random
/// numbers: as easy as 1, 2, 3", SC 2011), the generator of cuRAND, JAX and PyTorch's CUDA backend.
///
/// **Streams.** A generator is `(seed, stream)`. The 64-bit seed is the Philox key; the stream id is
/// the high 64 bits of the 128-bit counter, the block index the low 64 bits. Block `j` of stream `s`
/// under seed `k` is `philox(key: k, counter: (j, s))`: four 32-bit words. Value `i` of a draw that
/// starts at block `j₀` comes from block `j₀ + i / V` (V = 4 values per block for `Float`, 2 for
/// `Double`), so every value is a pure function of (seed, stream, position): draws are identical on
/// any number of threads and in any run. Distinct streams (e.g. one per layer, or per data loader
/// worker) never overlap.
///
/// **Distributions.** Uniform [0, 1): `Float` takes the top 24 bits of one word, `Double` 53 bits of
/// two words. Normal: Box–Muller on consecutive uniform pairs (u₁, u₂):
/// z₀ = √(−2 log(1 − u₁)) cos(2π u₂), z₁ = √(−2 log(1 − u₁)) sin(2π u₂).
public struct PhiloxRandom: Sendable, RandomNumberGenerator {
    /// The seed (Philox key).
    public let seed: UInt64
    /// The stream id (high half of the counter).
    public let stream: UInt64
    /// Index of the next unused 128-bit block in this stream.
    public private(set) var blockOffset: UInt64 = 0

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    /// A generator for another stream under the same seed.
    public func stream(_ id: UInt64) -> PhiloxRandom { PhiloxRandom(seed: seed, stream: id) }

    /// The four words of block `index` (no state change).
    public func block(_ index: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        Self.philox(counter: (UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                              UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
                    key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// `RandomNumberGenerator`: each call consumes one block and returns its first two words.
    public mutating func next() -> UInt64 {
        let words = block(blockOffset)
        blockOffset &+= 1
        return UInt64(words.0) | (UInt64(words.1) << 32)
    }

    /// Philox4x32 with 10 rounds. Round: (hi₀, lo₀) = M₀·c₀, (hi₁, lo₁) = M₁·c₂;
    /// c ← (hi₁ ⊕ c₁ ⊕ k₀, lo₁, hi₀ ⊕ c₃ ⊕ k₁, lo₀); k ← k + (W₀, W₁).
    public static func philox(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var c = counter, k = key
        for _ in 0..<10 {
            let product0 = UInt64(0xD251_1F53) &* UInt64(c.0)
            let product1 = UInt64(0xCD9E_8D57) &* UInt64(c.2)
            c = (UInt32(truncatingIfNeeded: product1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: product1),
                 UInt32(truncatingIfNeeded: product0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: product0))
            k = (k.0 &+ 0x9E37_79B9, k.1 &+ 0xBB67_AE85)
        }
        return c
    }

    /// `count` uniform values in [0, 1) starting at block `start` (pure function of the position).
    func unitUniforms<T: TensorScalar>(_ count: Int, startBlock start: UInt64, as _: T.Type) -> [T] {
        let perBlock = T.valuesPerRandomBlock
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let target = buffer.baseAddress!
            let blocks = (count + perBlock - 1) / perBlock
            forEachChunk(blocks, costPerIndex: 16) { range in
                for b in range {
                    let w = block(start &+ UInt64(b))
                    let base = b * perBlock
                    @inline(__always) func put(_ lane: Int, _ value: T) { if base + lane < count { target[base + lane] = value } }
                    if perBlock == 4 {
                        put(0, T.unitInterval(w.0, 0)); put(1, T.unitInterval(w.1, 0))
                        put(2, T.unitInterval(w.2, 0)); put(3, T.unitInterval(w.3, 0))
                    } else {
                        put(0, T.unitInterval(w.0, w.1)); put(1, T.unitInterval(w.2, w.3))
                    }
                }
            }
            initialized = count
        }
    }

    /// Advances past the blocks that `count` values of type `T` used.
    mutating func consume<T: TensorScalar>(_ count: Int, as _: T.Type) -> UInt64 {
        let start = blockOffset
        let perBlock = T.valuesPerRandomBlock
        blockOffset &+= UInt64((count + perBlock - 1) / perBlock)
        return start
    }

    /// A tensor of i.i.d. uniform values in [low, high).
    public mutating func uniform<T: TensorScalar>(_ shape: [Int], low: T = 0, high: T = 1) -> Tensor<T> {
        let count = shape.reduce(1, *)
        let start = consume(count, as: T.self)
        let unit = unitUniforms(count, startBlock: start, as: T.self)
        // low + (high − low)·u can round up to high; keep the documented half-open range.
        let largest = Swift.max(low, high.nextDown)
        return Tensor(shape: shape, scalars: unit.map { Swift.min(low + (high - low) * $0, largest) })
    }

    /// A tensor of i.i.d. normal values N(mean, standardDeviation²) (Box–Muller, see above).
    public mutating func normal<T: TensorScalar>(_ shape: [Int], mean: T = 0, standardDeviation: T = 1) -> Tensor<T> {
        let count = shape.reduce(1, *)
        let pairs = (count + 1) / 2
        let start = consume(2 * pairs, as: T.self)
        let unit = unitUniforms(2 * pairs, startBlock: start, as: T.self)
        var values = [T](repeating: 0, count: 2 * pairs)
        for pair in 0..<pairs {
            let radius = (-2 * T.log(1 - unit[2 * pair])).squareRoot()
            let angle = 2 * T.pi * unit[2 * pair + 1]
            values[2 * pair] = mean + standardDeviation * radius * T.cos(angle)
            values[2 * pair + 1] = mean + standardDeviation * radius * T.sin(angle)
        }
        return Tensor(shape: shape, scalars: Array(values.prefix(count)))
    }
}
