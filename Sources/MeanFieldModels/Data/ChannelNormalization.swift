/// Per-channel normalisation of pixels: x = (p / 255 − mean[c]) / standardDeviation[c], with mean and
/// standard deviation those of the training set's pixels scaled to [0, 1] (or given).
public struct ChannelNormalization: Sendable, Codable, Equatable {
    public var mean: [Float]
    public var standardDeviation: [Float]

    public init(mean: [Float], standardDeviation: [Float]) {
        precondition(mean.count == standardDeviation.count && !mean.isEmpty)
        precondition(standardDeviation.allSatisfy { $0 > 0 }, "standard deviations must be positive")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Pixels scaled to [0, 1] and otherwise unchanged.
    public static func unit(channels: Int) -> ChannelNormalization {
        ChannelNormalization(mean: Array(repeating: 0, count: channels), standardDeviation: Array(repeating: 1, count: channels))
    }

    /// Mean and (population) standard deviation of each channel over all of `dataset`'s pixels,
    /// accumulated exactly as integer histograms (Fashion-MNIST train: mean 0.2860, std 0.3530).
    public static func fitted(to dataset: Dataset) -> ChannelNormalization {
        let plane = dataset.height * dataset.width
        var histograms = [[Int]](repeating: [Int](repeating: 0, count: 256), count: dataset.channels)
        dataset.pixels.withUnsafeBufferPointer { pixels in
            for channel in 0..<dataset.channels {
                histograms[channel].withUnsafeMutableBufferPointer { histogram in
                    for image in 0..<dataset.count {
                        let start = (image * dataset.channels + channel) * plane
                        for offset in start..<start + plane { histogram[Int(pixels[offset])] += 1 }
                    }
                }
            }
        }
        var means: [Float] = [], deviations: [Float] = []
        for histogram in histograms {
            let total = Double(histogram.reduce(0, +))
            var sum = 0.0, squares = 0.0
            for (byte, frequency) in histogram.enumerated() {
                let value = Double(byte) / 255
                sum += value * Double(frequency)
            }
            let mean = sum / total
            for (byte, frequency) in histogram.enumerated() {
                let deviation = Double(byte) / 255 - mean
                squares += deviation * deviation * Double(frequency)
            }
            let variance = squares / total
            means.append(Float(mean))
            deviations.append(Float(max(variance.squareRoot(), 1e-6)))
        }
        return ChannelNormalization(mean: means, standardDeviation: deviations)
    }

    /// The normalised value of every byte, per channel: `table[c][p]`.
    func lookupTable() -> [[Float]] {
        zip(mean, standardDeviation).map { mean, deviation in
            (0..<256).map { (Float($0) / 255 - mean) / deviation }
        }
    }
}
