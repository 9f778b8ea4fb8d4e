import MeanFieldCore

/// A labelled image dataset held in memory as bytes: `pixels` is `[count, channels, height, width]`
/// row-major (0…255), `labels[i]` the class of image `i` in `0..<classCount`.
public struct Dataset: Sendable, Equatable {
    /// For messages and manifests, e.g. "Fashion-MNIST train".
    public var name: String
    public let channels: Int
    public let height: Int
    public let width: Int
    public private(set) var pixels: [UInt8]
    public private(set) var labels: [Int]
    /// Name of each class, indexed by label.
    public let classNames: [String]
    /// CIFAR-100 only: the superclass of each image.
    public private(set) var coarseLabels: [Int]?

    public init(name: String, channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int],
                classNames: [String], coarseLabels: [Int]? = nil) {
        precondition(channels > 0 && height > 0 && width > 0, "empty image shape")
        precondition(pixels.count == labels.count * channels * height * width,
                     "\(pixels.count) pixel bytes for \(labels.count) images of \(channels)×\(height)×\(width)")
        precondition(labels.allSatisfy { (0..<classNames.count).contains($0) }, "label outside 0..<\(classNames.count)")
        precondition(coarseLabels == nil || coarseLabels!.count == labels.count)
        self.name = name
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
        self.coarseLabels = coarseLabels
    }

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }
    /// Bytes (= values) per image: channels · height · width.
    public var imageSize: Int { channels * height * width }
    /// The shape of one image, `[channels, height, width]`.
    public var imageShape: [Int] { [channels, height, width] }

    /// The bytes of image `index`, `[channels, height, width]`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[index * imageSize..<(index + 1) * imageSize]
    }

    /// How many images each class has.
    public func countsPerClass() -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The images at `indices`, in that order.
    public func selecting(_ indices: [Int], name: String? = nil) -> Dataset {
        let size = imageSize
        var selected = [UInt8](repeating: 0, count: indices.count * size)
        selected.withUnsafeMutableBufferPointer { target in
            pixels.withUnsafeBufferPointer { source in
                for (row, index) in indices.enumerated() {
                    precondition((0..<count).contains(index), "index \(index) outside 0..<\(count)")
                    UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(target)[row * size..<(row + 1) * size])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(source)[index * size..<(index + 1) * size]))
                }
            }
        }
        return Dataset(name: name ?? self.name, channels: channels, height: height, width: width, pixels: selected,
                       labels: indices.map { labels[$0] }, classNames: classNames,
                       coarseLabels: coarseLabels.map { coarse in indices.map { coarse[$0] } })
    }

    /// All images as floats `[count, channels, height, width]`, normalised (e.g. for evaluation).
    public func floatImages(normalization: ChannelNormalization) -> Tensor<Float> {
        BatchAssembler(dataset: self, normalization: normalization, augmentation: .none, seed: 0)
            .images(indices: Array(0..<count), epoch: 0)
    }
}

/// The training and test parts of a dataset.
public struct DatasetSplits: Sendable, Equatable {
    public var train: Dataset
    public var test: Dataset
    /// Where the files were read from.
    public var directory: String

    public init(train: Dataset, test: Dataset, directory: String) {
        self.train = train
        self.test = test
        self.directory = directory
    }
}

/// Class names of the supported datasets, indexed by label.
public enum ClassNames {
    /// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, https://github.com/zalandoresearch/fashion-mnist).
    public static let fashionMNIST = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    /// MNIST digits.
    public static let mnist = (0...9).map(String.init)
    /// CIFAR-10 (`batches.meta.txt` of the binary archive).
    public static let cifar10 = ["airplane", "automobile", "bird", "cat", "deer",
                                 "dog", "frog", "horse", "ship", "truck"]
    /// CIFAR-100 fine labels (`fine_label_names.txt` of the binary archive).
    public static let cifar100 = [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ]
    /// CIFAR-100 coarse labels (`coarse_label_names.txt`).
    public static let cifar100Coarse = [
        "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
        "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
        "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
        "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
        "vehicles_1", "vehicles_2",
    ]
}
