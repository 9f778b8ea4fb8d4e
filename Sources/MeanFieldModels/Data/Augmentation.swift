import MeanFieldCore

/// Optional data augmentation of training images: a random crop after zero padding (the image is
/// padded by `cropPadding` black pixels on every side and an image of the original size is cut at a
/// uniform offset), then a horizontal flip with probability 1/2 — the CIFAR recipe of He et al. 2016.
/// Draws come from the Philox stream `DataStreams.augmentation(epoch:index:)`, so an image gets the
/// same crop and flip in a given epoch whatever thread prepares it.
public struct Augmentation: Sendable, Codable, Equatable {
    /// Pixels of zero padding on each side before the random crop (0: no crop).
    public var cropPadding: Int
    /// Whether images are mirrored left–right with probability 1/2.
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        precondition(cropPadding >= 0)
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// No augmentation.
    public static let none = Augmentation()

    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }

    /// The transform applied to one image: its crop offset (each in 0…2·cropPadding, padded
    /// coordinates) and whether it is flipped.
    public struct Draw: Sendable, Equatable {
        public var top: Int
        public var left: Int
        public var flip: Bool
    }

    /// The crop and flip of image `index` in `epoch` under `seed`.
    public func draw(seed: UInt64, epoch: Int, index: Int) -> Draw {
        guard !isIdentity else { return Draw(top: cropPadding, left: cropPadding, flip: false) }
        var generator = PhiloxRandom(seed: seed, stream: DataStreams.augmentation(epoch: epoch, index: index))
        let top = SeededShuffle.uniform(below: 2 * cropPadding + 1, using: &generator)
        let left = SeededShuffle.uniform(below: 2 * cropPadding + 1, using: &generator)
        let flip = horizontalFlip && generator.next() & 1 == 1
        return Draw(top: top, left: left, flip: flip)
    }
}
