import Foundation
import MeanFieldCore

/// A generated image-classification set for tests and quick trials (`--task synthetic-images`):
/// 1×8×8 grey images of 4 classes, class k a bright Gaussian blob centred near one corner of the
/// image (jittered by up to one pixel, random brightness), on a noisy background. Every image is a
/// pure function of (seed, index); labels cycle through the classes, so any prefix is balanced.
public enum SyntheticImages {
    public static let shape = (channels: 1, height: 8, width: 8, classes: 4)
    static let centres: [(Double, Double)] = [(2, 2), (2, 5), (5, 2), (5, 5)]

    /// `count` images under `seed` (train and test sets: different seeds).
    public static func make(count: Int, seed: UInt64, name: String = "synthetic-images") -> Dataset {
        let (_, H, W, classes) = shape
        var pixels = [UInt8](repeating: 0, count: count * H * W)
        var labels = [Int](repeating: 0, count: count)
        for index in 0..<count {
            var random = PhiloxRandom(seed: seed, stream: UInt64(index))
            let draws: Tensor<Double> = random.uniform([4 + H * W])
            let u = draws.scalars
            let label = index % classes
            labels[index] = label
            let (cy, cx) = centres[label]
            let y0 = cy + (u[0] * 2 - 1), x0 = cx + (u[1] * 2 - 1), brightness = 150 + 100 * u[2]
            for y in 0..<H {
                for x in 0..<W {
                    let d2 = (Double(y) - y0) * (Double(y) - y0) + (Double(x) - x0) * (Double(x) - x0)
                    let value = brightness * exp(-d2 / 3) + 40 * u[4 + y * W + x]
                    pixels[index * H * W + y * W + x] = UInt8(max(0, min(255, value.rounded())))
                }
            }
        }
        return Dataset(name: name, channels: 1, height: H, width: W, pixels: pixels, labels: labels,
                       classNames: (0..<classes).map { "blob \($0)" })
    }

    /// Train (`trainCount` images) and test (`testCount`) sets.
    public static func splits(trainCount: Int = 1000, testCount: Int = 200, seed: UInt64 = 0) -> DatasetSplits {
        DatasetSplits(train: make(count: trainCount, seed: seed &+ 1_000_003), test: make(count: testCount, seed: seed &+ 2_000_003),
                      directory: "(generated)")
    }
}
