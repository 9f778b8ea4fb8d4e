import Foundation
import MeanFieldModels
import MeanFieldTraining

/// The readers that take untrusted bytes, as fuzz targets (docs/reliability.md, "Fuzzing"). Each
/// target feeds one input to a reader; a thrown error is the expected answer to a bad file, while a
/// trap, a crash, a leak or a hang is a finding.
enum FuzzTarget: String, CaseIterable {
    /// IDX (MNIST / Fashion-MNIST) image and label files, plain or gzip.
    case idx
    /// CIFAR-10 and CIFAR-100 binary batches.
    case cifar
    /// safetensors checkpoints (header JSON, dtypes, shapes, offsets, content hash).
    case safetensors
    /// Run configuration files in each format, then the key-by-key checks of `train --config`.
    case config

    /// Runs the reader on `bytes`; errors are swallowed (they are answers, not findings).
    func run(_ bytes: [UInt8]) {
        switch self {
        case .idx:
            withTemporaryFile(bytes, suffix: bytes.starts(with: [0x1f, 0x8b]) ? ".gz" : "") { path in
                _ = try? IDXReader.read(path: path)
                _ = try? IDXReader.readLabels(path: path, classCount: 10)
            }
        case .cifar:
            withTemporaryFile(bytes, suffix: ".bin") { path in
                _ = try? CIFARReader.read(path: path, format: .cifar10)
                _ = try? CIFARReader.read(path: path, format: .cifar100)
            }
        case .safetensors:
            _ = try? SafeTensorsFile.parse(bytes, name: "fuzz")
        case .config:
            // The first byte picks the format, the rest is the file.
            guard let first = bytes.first else { return }
            let formats = ConfigFile.Format.allCases
            let format = formats[Int(first) % formats.count]
            guard let pairs = try? ConfigFile.parse(Data(bytes.dropFirst()), format: format, name: "fuzz.\(format.rawValue)") else { return }
            var config = TrainConfig()
            try? config.apply(pairs, source: { "fuzz: \($0)" })
        }
    }
}

/// Writes `bytes` to a fresh file in the temporary folder, runs `body` on its path, removes it.
private func withTemporaryFile(_ bytes: [UInt8], suffix: String, _ body: (String) -> Void) {
    let path = NSTemporaryDirectory() + "/meanfield-fuzz-\(getpid())\(suffix)"
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
    defer { unlink(path) }
    body(path)
}
