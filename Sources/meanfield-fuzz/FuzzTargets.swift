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
    /// Run configuration and sweep grid files in each format, then the key-by-key checks of
    /// `train --config`.
    case config

    /// Runs the reader on `bytes` and returns its answer: nil when the input was read, else the
    /// error's message (a refusal is the expected answer to a bad file, not a finding).
    @discardableResult
    func run(_ bytes: [UInt8]) -> String? {
        switch self {
        case .idx:
            // Read as images (rank 3), then as labels (rank 1, 10 classes): nil when either accepts the file.
            return withTemporaryFile(bytes, suffix: bytes.starts(with: [0x1f, 0x8b]) ? ".gz" : "") { path in
                let images = refusal { _ = try IDXReader.readImages(path: path) }
                let labels = refusal { _ = try IDXReader.readLabels(path: path, classCount: 10) }
                return images == nil || labels == nil ? nil : images
            }
        case .cifar:
            return withTemporaryFile(bytes, suffix: ".bin") { path in
                let ten = refusal { _ = try CIFARReader.read(path: path, format: .cifar10) }
                let hundred = refusal { _ = try CIFARReader.read(path: path, format: .cifar100) }
                return ten == nil || hundred == nil ? nil : ten
            }
        case .safetensors:
            return refusal { _ = try SafeTensorsFile.parse(bytes, name: "fuzz") }
        case .config:
            // The first byte picks the format, the rest is the file.
            guard let first = bytes.first else { return "empty input (the first byte picks the format)" }
            let formats = ConfigFile.Format.allCases
            let format = formats[Int(first) % formats.count]
            let file = Data(bytes.dropFirst())
            // As a sweep grid (lists are axes), then as a train config with every key checked.
            _ = try? ConfigFile.entries(file, format: format, name: "fuzz.\(format.rawValue)", lists: true)
            return refusal {
                let pairs = try ConfigFile.parse(file, format: format, name: "fuzz.\(format.rawValue)")
                var config = TrainConfig()
                try config.apply(pairs, source: { "fuzz: \($0)" })
            }
        }
    }
}

/// nil when `body` returns, else the message of the error it throws.
private func refusal(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// Writes `bytes` to a fresh file in the temporary folder, runs `body` on its path, removes it.
private func withTemporaryFile(_ bytes: [UInt8], suffix: String, _ body: (String) -> String?) -> String? {
    let path = NSTemporaryDirectory() + "meanfield-fuzz-\(getpid())\(suffix)"
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return "cannot write \(path)" }
    defer { unlink(path) }
    return body(path)
}
