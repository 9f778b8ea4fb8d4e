// The input pipeline (Sources/MeanFieldModels/Data): seeded shuffling, the class-balanced subset,
// normalisation, augmentation, and background prefetching that yields the synchronous batches.
import Foundation
@testable import MeanField
@testable import MeanFieldModels
import MeanFieldCore
import Testing

@Suite("DataTests: pipeline")
struct DataTestsPipeline {
    @Test func shufflingIsAPermutationFixedBySeedAndEpoch() {
        let first = SeededShuffle.permutation(count: 1000, seed: 7, stream: DataStreams.shuffle(epoch: 0))
        #expect(first.sorted() == Array(0..<1000))
        #expect(first != Array(0..<1000))
        #expect(first == SeededShuffle.permutation(count: 1000, seed: 7, stream: DataStreams.shuffle(epoch: 0)))
        #expect(first != SeededShuffle.permutation(count: 1000, seed: 8, stream: DataStreams.shuffle(epoch: 0)))
        #expect(first != SeededShuffle.permutation(count: 1000, seed: 7, stream: DataStreams.shuffle(epoch: 1)))
        // Pinned values: the order must not change with the standard library or between releases.
        #expect(SeededShuffle.permutation(count: 8, seed: 1, stream: 0) == [1, 5, 4, 2, 0, 3, 6, 7])
        let loader = BatchLoader(dataset: SyntheticData.dataset(count: 50), batchSize: 8, normalization: .unit(channels: 1), seed: 3)
        #expect(loader.order(epoch: 2) == SeededShuffle.permutation(count: 50, seed: 3, stream: DataStreams.shuffle(epoch: 2)))
        let unshuffled = BatchLoader(dataset: SyntheticData.dataset(count: 50), batchSize: 8, shuffle: false,
                                     normalization: .unit(channels: 1), seed: 3)
        #expect(unshuffled.order(epoch: 2) == Array(0..<50))
    }

    @Test func uniformIntegersCoverTheirRangeEvenly() {
        var generator = PhiloxRandom(seed: 11, stream: 5)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[SeededShuffle.uniform(below: 7, using: &generator)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
    }

    @Test func subsetIsClassBalancedAndDeterministic() throws {
        // Unbalanced classes: class k has 20 + 5k images, in an interleaved order.
        let labels = (0..<10).flatMap { label in Array(repeating: label, count: 20 + 5 * label) }
        let dataset = SyntheticData.dataset(count: labels.count, labels: labels.enumerated().sorted { ($0.offset * 37) % labels.count < ($1.offset * 37) % labels.count }.map(\.element))
        let subset = try dataset.classBalancedSubset(size: 200, seed: 5)
        #expect(subset.count == 200)
        #expect(subset.countsPerClass() == Array(repeating: 20, count: 10))
        #expect(subset == (try dataset.classBalancedSubset(size: 200, seed: 5)))
        #expect(subset.pixels != (try dataset.classBalancedSubset(size: 200, seed: 6)).pixels)
        // Every image of the subset is an image of the dataset with its label.
        let original = Dictionary(uniqueKeysWithValues: (0..<dataset.count).map { (Array(dataset.image($0)), dataset.labels[$0]) }.map { ($0.0, $0.1) })
        for index in 0..<subset.count { #expect(original[Array(subset.image(index))] == subset.labels[index]) }
        // Uneven sizes: the first N mod C classes get one more.
        #expect(try dataset.classBalancedSubset(size: 23, seed: 1).countsPerClass() == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2])
        // Class 0 has only 20 images.
        let error = try #require(datasetError { _ = try dataset.classBalancedSubset(size: 250, seed: 1) })
        #expect(error.kind == .invalidRequest && error.description.contains("class 0"), "\(error)")
        #expect(datasetError { _ = try dataset.classBalancedSubset(size: 0, seed: 1) } != nil)
    }

    @Test func normalizationUsesTheTrainingSetStatisticsPerChannel() {
        let dataset = SyntheticData.dataset(count: 30, channels: 3, height: 4, width: 4)
        let normalization = ChannelNormalization.fitted(to: dataset)
        let images = dataset.floatImages(normalization: normalization)
        #expect(images.shape == [30, 3, 4, 4])
        for channel in 0..<3 {
            var values: [Double] = []
            var raw: [Double] = []
            for image in 0..<30 {
                for offset in 0..<16 {
                    values.append(Double(images.scalars[(image * 3 + channel) * 16 + offset]))
                    raw.append(Double(dataset.pixels[(image * 3 + channel) * 16 + offset]) / 255)
                }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-4, "channel \(channel): mean \(mean), variance \(variance)")
            let rawMean = raw.reduce(0, +) / Double(raw.count)
            #expect(abs(Double(normalization.mean[channel]) - rawMean) < 1e-6)
        }
        let unit = dataset.floatImages(normalization: .unit(channels: 3))
        #expect(unit.scalars[5] == Float(dataset.pixels[5]) / 255)
    }

    @Test func augmentationCropsZeroPaddedImagesAndFlipsDeterministically() {
        let dataset = SyntheticData.dataset(count: 40, channels: 2, height: 5, width: 6)
        let augmentation = Augmentation(cropPadding: 2, horizontalFlip: true)
        let assembler = BatchAssembler(dataset: dataset, normalization: .unit(channels: 2), augmentation: augmentation, seed: 9)
        let indices = Array(0..<40)
        let images = assembler.images(indices: indices, epoch: 3)
        #expect(images == assembler.images(indices: indices, epoch: 3))
        #expect(images != assembler.images(indices: indices, epoch: 4))
        // An image's transform depends on (seed, epoch, index), not on its batch or position.
        #expect(assembler.images(indices: [17], epoch: 3).scalars == Array(images.scalars[17 * 60..<18 * 60]))

        var flips = 0, offsets = Set<[Int]>()
        for index in indices {
            let draw = augmentation.draw(seed: 9, epoch: 3, index: index)
            flips += draw.flip ? 1 : 0
            offsets.insert([draw.top, draw.left])
            // Reference: pad by 2 explicitly, crop at (top, left), then mirror.
            for channel in 0..<2 {
                var padded = [[UInt8]](repeating: [UInt8](repeating: 0, count: 10), count: 9)
                for y in 0..<5 { for x in 0..<6 { padded[y + 2][x + 2] = dataset.pixels[(index * 2 + channel) * 30 + y * 6 + x] } }
                for y in 0..<5 {
                    var row = (0..<6).map { padded[y + draw.top][$0 + draw.left] }
                    if draw.flip { row.reverse() }
                    for x in 0..<6 {
                        #expect(images.scalars[(index * 2 + channel) * 30 + y * 6 + x] == Float(row[x]) / 255)
                    }
                }
            }
        }
        #expect(flips > 5 && flips < 35, "\(flips) flips of 40")
        #expect(offsets.count > 5)
        #expect(offsets.allSatisfy { $0.allSatisfy { (0...4).contains($0) } })

        // Pinned draws: the same crops and flips in every release.
        let pinned = Augmentation(cropPadding: 2, horizontalFlip: true)
        #expect((0..<4).map { pinned.draw(seed: 1, epoch: 0, index: $0) } == [
            .init(top: 2, left: 0, flip: true), .init(top: 4, left: 2, flip: false),
            .init(top: 1, left: 4, flip: true), .init(top: 3, left: 0, flip: true),
        ])

        // No augmentation: the images as they are.
        let plain = BatchAssembler(dataset: dataset, normalization: .unit(channels: 2), augmentation: .none, seed: 9)
        #expect(plain.images(indices: [3], epoch: 0).scalars == dataset.image(3).map { Float($0) / 255 })
    }

    @Test func batchesCoverTheEpochWithTheRightSizes() {
        let dataset = SyntheticData.dataset(count: 50)
        let loader = BatchLoader(dataset: dataset, batchSize: 16, normalization: .fitted(to: dataset), seed: 1)
        let batches = Array(loader.batches(epoch: 0))
        #expect(batches.map(\.count) == [16, 16, 16, 2])
        #expect(batches.flatMap(\.indices) == loader.order(epoch: 0))
        #expect(batches[1].images.shape == [16, 1, 4, 5])
        #expect(batches[1].labels == batches[1].indices.map { dataset.labels[$0] })
        let dropping = BatchLoader(dataset: dataset, batchSize: 16, dropLast: true, normalization: .fitted(to: dataset), seed: 1)
        #expect(Array(dropping.batches(epoch: 0)).map(\.count) == [16, 16, 16])
    }

    @Test(arguments: [1, 2])
    func prefetchingYieldsTheSynchronousBatches(depth: Int) {
        let dataset = SyntheticData.dataset(count: 203, channels: 3, height: 8, width: 8)
        let loader = BatchLoader(dataset: dataset, batchSize: 10, normalization: .fitted(to: dataset),
                                 augmentation: Augmentation(cropPadding: 1, horizontalFlip: true), seed: 42)
        for epoch in 0..<3 {
            let synchronous = Array(loader.batches(epoch: epoch))
            var prefetched: [Batch] = []
            for batch in loader.prefetchingBatches(epoch: epoch, depth: depth) {
                if prefetched.count % 5 == 0 { usleep(2000) }  // a slow consumer: the queue fills up
                prefetched.append(batch)
            }
            #expect(prefetched.count == 21)
            #expect(prefetched == synchronous)
        }
        // A consumer that stops early releases the producer (no hang, no leak of a blocked thread).
        for _ in 0..<5 {
            let batches = loader.prefetchingBatches(epoch: 0, depth: 1)
            #expect(batches.next() == loader.batch(0, of: loader.order(epoch: 0), epoch: 0))
        }
    }

    /// A data-parallel process assembles only its share of each batch; with augmentation on, the share
    /// must be exactly those rows of the whole batch (images are a function of seed, epoch and index).
    @Test func aShareOfABatchIsThoseRowsOfTheWholeBatch() {
        let dataset = SyntheticData.dataset(count: 61, channels: 3, height: 8, width: 8)
        let loader = BatchLoader(dataset: dataset, batchSize: 10, normalization: .fitted(to: dataset),
                                 augmentation: Augmentation(cropPadding: 1, horizontalFlip: true), seed: 5)
        let processes = 3
        for epoch in 1...2 {
            let whole = Array(loader.batches(epoch: epoch))
            for rank in 0..<processes {
                let shard = BatchShard(index: rank, count: processes)
                let shares = Array(loader.prefetchingBatches(epoch: epoch, shard: shard))
                #expect(shares.count == whole.count)
                for (share, batch) in zip(shares, whole) {
                    let range = batch.count * rank / processes ..< batch.count * (rank + 1) / processes  // docs/distributed.md
                    #expect(share.indices == Array(batch.indices[range]))
                    #expect(share.labels == Array(batch.labels[range]))
                    #expect(share.images == batch.images.slice(axis: 0, range), "epoch \(epoch) rank \(rank)")
                }
            }
        }
    }
}
