import MeanFieldCore

/// The Philox streams of the input pipeline. Each random decision of the pipeline has its own stream
/// under the run's seed, tagged in the top byte so it never meets the streams of model initialisation
/// (small stream ids): shuffling per epoch, the subset, and augmentation per (epoch, image).
/// Every draw is thus a pure function of (seed, epoch, image), whatever the thread that makes it.
public enum DataStreams {
    static let shuffleTag: UInt64 = 0xD1 << 56
    static let subsetTag: UInt64 = 0xD2 << 56
    static let augmentationTag: UInt64 = 0xD3 << 56

    /// The order of the training set in `epoch`.
    public static func shuffle(epoch: Int) -> UInt64 {
        precondition(epoch >= 0 && epoch < 1 << 56)
        return shuffleTag | UInt64(epoch)
    }

    /// The shuffle that picks a class-balanced subset.
    public static let subset: UInt64 = subsetTag

    /// Crop offsets and flip of image `index` in `epoch` (epoch < 2²⁴, index < 2³²).
    public static func augmentation(epoch: Int, index: Int) -> UInt64 {
        precondition(epoch >= 0 && epoch < 1 << 24 && index >= 0 && index < 1 << 32)
        return augmentationTag | UInt64(epoch) << 32 | UInt64(index)
    }
}

/// Fisher–Yates shuffling and bounded integers drawn from a `PhiloxRandom`, written out here (rather
/// than `Array.shuffled(using:)`) so that the order depends only on the seed, not on the standard
/// library's implementation.
public enum SeededShuffle {
    /// A uniform integer in `0..<bound` (Lemire's multiply-shift with rejection, exact).
    public static func uniform(below bound: Int, using generator: inout PhiloxRandom) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        var product = generator.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = generator.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A permutation of `0..<count`: Fisher–Yates from the back, position i swapped with a uniform j ≤ i.
    public static func permutation(count: Int, seed: UInt64, stream: UInt64) -> [Int] {
        var generator = PhiloxRandom(seed: seed, stream: stream)
        var order = Array(0..<count)
        var position = count - 1
        while position > 0 {
            order.swapAt(position, uniform(below: position + 1, using: &generator))
            position -= 1
        }
        return order
    }
}
