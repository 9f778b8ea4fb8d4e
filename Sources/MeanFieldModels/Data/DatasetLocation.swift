import Foundation

/// The datasets the tool reads, and where it looks for them.
///
/// - Fashion-MNIST (the default): `/usr/share/datasets/fashion-mnist/` (Debian package
///   `dataset-fashion-mnist`), files `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
///   `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz` (also accepted uncompressed, and with
///   `.` instead of `-` before `idx`).
/// - MNIST: same file names, `/usr/share/datasets/mnist/` or `--data DIR`.
/// - CIFAR-10: no default location; `--data DIR` where DIR is the extracted `cifar-10-batches-bin/`
///   or the folder that contains it.
/// - CIFAR-100: likewise with `cifar-100-binary/`.
public enum DatasetName: String, CaseIterable, Codable, Sendable {
    case fashionMNIST = "fashion-mnist"
    case mnist
    case cifar10 = "cifar-10"
    case cifar100 = "cifar-100"

    public var displayName: String {
        switch self {
        case .fashionMNIST: "Fashion-MNIST"
        case .mnist: "MNIST"
        case .cifar10: "CIFAR-10"
        case .cifar100: "CIFAR-100"
        }
    }

    /// Where the dataset is looked for when no `--data DIR` is given.
    public var defaultDirectories: [String] {
        switch self {
        case .fashionMNIST: ["/usr/share/datasets/fashion-mnist"]
        case .mnist: ["/usr/share/datasets/mnist"]
        case .cifar10, .cifar100: []
        }
    }

    /// What to tell a user whose files are missing or damaged.
    public var remedy: String {
        switch self {
        case .fashionMNIST: "install it (apt install dataset-fashion-mnist) or pass --data DIR"
        case .mnist: "put the four MNIST IDX files (train-images-idx3-ubyte.gz, …) in a folder and pass --data DIR"
        case .cifar10: "download cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html), extract it (tar xzf cifar-10-binary.tar.gz) and pass --data DIR"
        case .cifar100: "download cifar-100-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html), extract it (tar xzf cifar-100-binary.tar.gz) and pass --data DIR"
        }
    }

    /// Which dataset a folder holds, judged by its file names (nil: none recognised). IDX files are
    /// taken as Fashion-MNIST unless the folder's name mentions MNIST without "fashion".
    public static func detect(in directory: String) -> DatasetName? {
        if DatasetLoader.cifarFolder(.cifar10, in: directory) != nil { return .cifar10 }
        if DatasetLoader.cifarFolder(.cifar100, in: directory) != nil { return .cifar100 }
        if DatasetLoader.idxFile("train-images-idx3-ubyte", in: directory) != nil {
            let folder = (directory as NSString).standardizingPath.lowercased()
            return folder.contains("mnist") && !folder.contains("fashion") ? .mnist : .fashionMNIST
        }
        return nil
    }
}

/// Finds and reads a dataset's training and test files (formats: `IDXReader`, `CIFARReader`).
public enum DatasetLoader {
    /// Reads `name` from `dataDirectory` (the `--data DIR` option) or, without one, from its default
    /// location. Throws a `DatasetError` naming the paths tried and the fix when nothing is found.
    public static func load(_ name: DatasetName = .fashionMNIST, dataDirectory: String? = nil) throws -> DatasetSplits {
        let candidates = dataDirectory.map { [$0] } ?? name.defaultDirectories
        for directory in candidates {
            switch name {
            case .fashionMNIST, .mnist:
                if idxFile("train-images-idx3-ubyte", in: directory) != nil {
                    return try loadIDX(name, directory: directory)
                }
            case .cifar10, .cifar100:
                let format: CIFARFormat = name == .cifar10 ? .cifar10 : .cifar100
                if let folder = cifarFolder(format, in: directory) {
                    return try loadCIFAR(format, directory: folder, remedy: name.remedy)
                }
            }
        }
        guard !candidates.isEmpty else {
            throw DatasetError(path: name.rawValue, kind: .missing,
                               detail: "no --data DIR given, and \(name.displayName) has no default location", remedy: name.remedy)
        }
        let tried = candidates.map { "\($0)/" }.joined(separator: ", ")
        let expected = switch name {
        case .fashionMNIST, .mnist: "train-images-idx3-ubyte.gz (or uncompressed)"
        case .cifar10: "cifar-10-batches-bin/data_batch_1.bin"
        case .cifar100: "cifar-100-binary/train.bin"
        }
        throw DatasetError(path: candidates[0], kind: .missing,
                           detail: "\(name.displayName) not found (looked for \(expected) in \(tried))", remedy: name.remedy)
    }

    /// Reads the four IDX files of MNIST or Fashion-MNIST from `directory`.
    public static func loadIDX(_ name: DatasetName, directory: String) throws -> DatasetSplits {
        let classNames = name == .mnist ? ClassNames.mnist : ClassNames.fashionMNIST
        func split(_ prefix: String, _ title: String) throws -> Dataset {
            let imagesBase = "\(prefix)-images-idx3-ubyte", labelsBase = "\(prefix)-labels-idx1-ubyte"
            let imagesPath = idxFile(imagesBase, in: directory) ?? "\(directory)/\(imagesBase).gz"
            let labelsPath = idxFile(labelsBase, in: directory) ?? "\(directory)/\(labelsBase).gz"
            let images = try IDXReader.readImages(path: imagesPath, remedy: name.remedy)
            let labels = try IDXReader.readLabels(path: labelsPath, classCount: classNames.count, remedy: name.remedy)
            guard labels.count == images.dimensions[0] else {
                throw DatasetError(path: labelsPath, kind: .mismatch,
                                   detail: "\(labels.count) labels for the \(images.dimensions[0]) images of \(imagesPath)",
                                   remedy: name.remedy)
            }
            return Dataset(name: "\(name.displayName) \(title)", channels: 1, height: images.dimensions[1],
                           width: images.dimensions[2], pixels: images.bytes, labels: labels, classNames: classNames)
        }
        return DatasetSplits(train: try split("train", "train"), test: try split("t10k", "test"), directory: directory)
    }

    /// Reads CIFAR-10 (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`) or CIFAR-100
    /// (`train.bin`, `test.bin`) from `directory`, the folder that holds the `.bin` files. With
    /// `requireOfficialCounts`, every file must hold its official number of records.
    public static func loadCIFAR(_ format: CIFARFormat, directory: String, requireOfficialCounts: Bool = true,
                                 remedy: String? = nil) throws -> DatasetSplits {
        let remedy = remedy ?? (format == .cifar10 ? DatasetName.cifar10 : DatasetName.cifar100).remedy
        let files = cifarFiles(format)
        func split(_ names: [String], records: Int, title: String) throws -> Dataset {
            var labels: [Int] = [], coarse: [Int] = [], pixels: [UInt8] = []
            for file in names {
                let part = try CIFARReader.read(path: "\(directory)/\(file)", format: format,
                                                expectedRecords: requireOfficialCounts ? records : nil, remedy: remedy)
                labels += part.labels
                coarse += part.coarseLabels ?? []
                pixels += part.pixels
            }
            return Dataset(name: "\(format.displayName) \(title)", channels: 3, height: 32, width: 32, pixels: pixels,
                           labels: labels, classNames: format == .cifar10 ? ClassNames.cifar10 : ClassNames.cifar100,
                           coarseLabels: format == .cifar100 ? coarse : nil)
        }
        let trainRecords = format == .cifar10 ? 10_000 : 50_000
        return DatasetSplits(train: try split(files.train, records: trainRecords, title: "train"),
                             test: try split([files.test], records: 10_000, title: "test"), directory: directory)
    }

    /// The file names of the official binary archives.
    public static func cifarFiles(_ format: CIFARFormat) -> (train: [String], test: String) {
        switch format {
        case .cifar10: ((1...5).map { "data_batch_\($0).bin" }, "test_batch.bin")
        case .cifar100: (["train.bin"], "test.bin")
        }
    }

    /// The folder holding the `.bin` files: `directory` itself or its `cifar-10-batches-bin/`
    /// (`cifar-100-binary/`) subfolder.
    static func cifarFolder(_ format: CIFARFormat, in directory: String) -> String? {
        let subfolder = format == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary"
        let marker = cifarFiles(format).train[0]
        for folder in [directory, "\(directory)/\(subfolder)"]
        where FileManager.default.fileExists(atPath: "\(folder)/\(marker)") {
            return folder
        }
        return nil
    }

    /// `base.gz`, `base`, or the variants with `.idx` (e.g. `train-images.idx3-ubyte`), whichever exists.
    static func idxFile(_ base: String, in directory: String) -> String? {
        let dotted = base.replacingOccurrences(of: "-idx", with: ".idx")
        for name in [base + ".gz", base, dotted + ".gz", dotted]
        where FileManager.default.fileExists(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        return nil
    }
}
