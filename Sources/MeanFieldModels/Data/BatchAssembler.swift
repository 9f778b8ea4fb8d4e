import MeanFieldCore

/// Turns images of a `Dataset` into a float tensor `[B, C, H, W]`: augmentation (when enabled) then
/// per-channel normalisation through a 256-entry table per channel. A pure function of
/// (indices, epoch), safe to call from any thread.
struct BatchAssembler: Sendable {
    let dataset: Dataset
    let augmentation: Augmentation
    let seed: UInt64
    /// `table[c][p]`: the normalised value of byte p in channel c.
    let table: [[Float]]

    init(dataset: Dataset, normalization: ChannelNormalization, augmentation: Augmentation, seed: UInt64) {
        precondition(normalization.mean.count == dataset.channels,
                     "normalisation for \(normalization.mean.count) channels, images have \(dataset.channels)")
        self.dataset = dataset
        self.augmentation = augmentation
        self.seed = seed
        self.table = normalization.lookupTable()
    }

    /// Images `indices` (in that order) as `[indices.count, C, H, W]`.
    func images(indices: [Int], epoch: Int) -> Tensor<Float> {
        let (channels, height, width) = (dataset.channels, dataset.height, dataset.width)
        let size = dataset.imageSize, plane = height * width
        return Tensor(shape: [indices.count, channels, height, width]) { output in
            dataset.pixels.withUnsafeBufferPointer { pixels in
                for (row, index) in indices.enumerated() {
                    let draw = augmentation.draw(seed: seed, epoch: epoch, index: index)
                    let rowShift = draw.top - augmentation.cropPadding, columnShift = draw.left - augmentation.cropPadding
                    for channel in 0..<channels {
                        table[channel].withUnsafeBufferPointer { values in
                            let source = index * size + channel * plane
                            let target = row * size + channel * plane
                            for y in 0..<height {
                                let sourceY = y + rowShift
                                guard sourceY >= 0 && sourceY < height else {
                                    for x in 0..<width { output[target + y * width + x] = values[0] }
                                    continue
                                }
                                for x in 0..<width {
                                    let sourceX = (draw.flip ? width - 1 - x : x) + columnShift
                                    let byte = sourceX >= 0 && sourceX < width ? pixels[source + sourceY * width + sourceX] : 0
                                    output[target + y * width + x] = values[Int(byte)]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
