import Foundation
import MeanFieldCore

/// Dataset images as token sets for the injectivity check (E6): each image is one input, its tokens
/// are its non-overlapping `patch`×`patch` patches (pixels scaled to [0, 1]), mapped to R^d by one
/// fixed Gaussian random projection W (d × patch², entries N(0, 1/patch²), Philox stream of the seed)
/// — a data-independent choice, so the check sees the dataset's own geometry and nothing fitted to it.
public enum DatasetTokens {
    /// The first `sets` test images of `dataset` (MNIST-style grey images) as token measures.
    public static func measures(from dataset: Dataset, sets: Int, patch: Int = 7, dimension d: Int, seed: UInt64) throws -> [TokenMeasure] {
        guard dataset.channels == 1, dataset.height % patch == 0, dataset.width % patch == 0 else {
            throw RunError("\(dataset.name): images \(dataset.channels)×\(dataset.height)×\(dataset.width) do not split into \(patch)×\(patch) grey patches; use a grey dataset (fashion-mnist)")
        }
        guard sets <= dataset.count else {
            throw RunError("--sets \(sets) exceeds the \(dataset.count) images of \(dataset.name); pass --sets ≤ \(dataset.count)")
        }
        let patchSize = patch * patch
        var random = PhiloxRandom(seed: seed, stream: 0x7A7C4)
        let projection = (random.normal([d * patchSize]) as Tensor<Double>).scalars.map { $0 / Double(patchSize).squareRoot() }
        let rowsOfPatches = dataset.height / patch, columnsOfPatches = dataset.width / patch
        let tokenCount = rowsOfPatches * columnsOfPatches
        return (0..<sets).map { index in
            let image = Array(dataset.image(index))
            var tokens = [Double](repeating: 0, count: tokenCount * d)
            for pr in 0..<rowsOfPatches {
                for pc in 0..<columnsOfPatches {
                    let token = pr * columnsOfPatches + pc
                    for y in 0..<patch {
                        for x in 0..<patch {
                            let pixel = Double(image[(pr * patch + y) * dataset.width + pc * patch + x]) / 255
                            let position = y * patch + x
                            for c in 0..<d { tokens[token * d + c] += projection[c * patchSize + position] * pixel }
                        }
                    }
                }
            }
            return .empirical(tokens: tokens, count: tokenCount, dimension: d)
        }
    }
}
