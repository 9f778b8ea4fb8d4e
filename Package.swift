// swift-tools-version:6.0
// MeanField: training Transformers, ResNets and two-layer nets in the mean-field regime.
//
// Architecture (data flows one way, top to bottom; each arrow is a target dependency, so a back
// edge does not compile; docs/architecture.md draws the graph):
//   meanfield (CLI) → MeanField (experiments: metrics, diagnostics, sweeps, VarPro, injectivity,
//   adjoint, benchmarks, charts, reports; re-exports the two below)
//   → MeanFieldTraining (config, optimizers, the training driver, checkpoints, run folders)
//   → MeanFieldModels (Transformer, ResNets, ViT, fused engine, tasks, dataset readers)
//   → MeanFieldCore (tensors, autodiff) → MeanFieldKernels (GEMM, threads, BLAS loader)
//   → per-CPU micro-kernels + CMeanFieldSupport (C shims).
//
// Code generation for the host CPU (see docs/architecture.md, "Kernels and CPU dispatch"):
// the GEMM micro-kernels live in small targets compiled for a fixed instruction-set level
// (x86-64-v4 = AVX-512, x86-64-v3 = AVX2+FMA). The driver in MeanFieldKernels picks one at run time
// from CPUID, so one binary runs on any x86-64 CPU and uses AVX-512 where the CPU has it. On other
// architectures (arm64 Linux, macOS) only the portable kernel is built.
import PackageDescription

/// Kernel targets are optimized even in debug builds: `swift test` builds in debug, and an
/// unoptimized SIMD kernel runs ~500x slower (docs/architecture.md, "Kernels and CPU dispatch").
let kernelOptimization: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-num-threads", "1"]),
]

var targets: [Target] = [
    .target(
        name: "CMeanFieldSupport",
        cSettings: [.unsafeFlags(["-O2"])]
    ),
    .target(
        name: "MeanFieldCore",
        dependencies: [
            "MeanFieldKernels",
            .product(name: "Numerics", package: "swift-numerics"),
        ],
        swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
    ),
    // The system zlib: gzip-compressed datasets (Sources/MeanFieldModels/Data/GzipFile.swift).
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
    // Models, engines, tasks and dataset readers: everything a forward and backward pass needs.
    .target(
        name: "MeanFieldModels",
        dependencies: ["MeanFieldCore", "MeanFieldKernels", "CZlib"]
    ),
    // The commit the binary is built from, generated before every build by the plugin below
    // (Plugins/SourceCommitPlugin): recorded in every manifest and checkpoint, printed by --version.
    // A target of its own, so a new commit recompiles one small file.
    .target(name: "MeanFieldProvenance", plugins: ["SourceCommitPlugin"]),
    .plugin(name: "SourceCommitPlugin", capability: .buildTool()),
    // Train config, optimizers, the one training driver, checkpoints and run folders.
    .target(
        name: "MeanFieldTraining",
        dependencies: [
            "MeanFieldModels", "MeanFieldCore", "MeanFieldKernels", "CMeanFieldSupport", "MeanFieldProvenance",
            // Run configuration files (`meanfield train --config`): the YAML parser (TOML is parsed
            // in the target itself: Training/FlatTOML.swift).
            .product(name: "Yams", package: "Yams"),
            // TensorBoard events (Runs/TensorBoard): the Event messages, generated code committed.
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ],
        exclude: ["Runs/TensorBoard/TensorBoardEvent.proto"]
    ),
    // Experiments, metrics, diagnostics, sweeps and reports; `import MeanField` re-exports the
    // two targets above (Sources/MeanField/Exports.swift).
    .target(
        name: "MeanField",
        dependencies: [
            "MeanFieldTraining", "MeanFieldModels", "MeanFieldCore", "MeanFieldKernels", "MeanFieldProvenance",
            // Sweep manifests read YAML too.
            .product(name: "Yams", package: "Yams"),
        ]
    ),
    .executableTarget(
        name: "meanfield",
        dependencies: [
            "MeanField",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),
    // Fuzz targets for the readers of untrusted files (scripts/fuzz.sh builds it with libFuzzer;
    // the plain build replays the committed corpus).
    .executableTarget(name: "meanfield-fuzz", dependencies: ["MeanFieldTraining", "MeanFieldModels"]),
    .testTarget(name: "MeanFieldKernelsTests", dependencies: ["MeanFieldKernels"]),
    .testTarget(name: "MeanFieldCoreTests", dependencies: ["MeanFieldCore"], resources: [.copy("Fixtures")]),
    // Fixtures/ (safetensors written by scripts/safetensors_reference.py) is read through #filePath.
    // Support/PNGImage.swift decodes browser renders of the reports with the system zlib.
    .testTarget(name: "MeanFieldTests", dependencies: ["MeanField", "MeanFieldTraining", "MeanFieldModels", "CZlib"], exclude: ["Fixtures"]),
]

#if arch(x86_64)
// Micro-kernels compiled for x86-64-v4 (AVX-512) and x86-64-v3 (AVX2 + FMA). They are only ever
// called after a CPUID check (MeanFieldKernels/CPUDispatch.swift), so building them never makes the
// binary require these instruction sets.
targets += [
    .target(
        name: "MeanFieldKernelsAVX512",
        dependencies: ["CMeanFieldSupport"],
        swiftSettings: [.swiftLanguageMode(.v5), .unsafeFlags(["-Ounchecked", "-wmo", "-num-threads", "1", "-Xcc", "-march=x86-64-v4", "-Xcc", "-mprefer-vector-width=512"])]
    ),
    .target(
        name: "MeanFieldKernelsAVX2",
        dependencies: ["CMeanFieldSupport"],
        swiftSettings: [.swiftLanguageMode(.v5), .unsafeFlags(["-Ounchecked", "-wmo", "-num-threads", "1", "-Xcc", "-march=x86-64-v3"])]
    ),
    .target(
        name: "MeanFieldKernels",
        dependencies: ["CMeanFieldSupport", "MeanFieldKernelsAVX512", "MeanFieldKernelsAVX2"],
        swiftSettings: [.swiftLanguageMode(.v5)] + kernelOptimization
    ),
]
#else
targets += [
    .target(
        name: "MeanFieldKernels",
        dependencies: ["CMeanFieldSupport"],
        swiftSettings: [.swiftLanguageMode(.v5)] + kernelOptimization
    ),
]
#endif

let package = Package(
    name: "MeanField",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MeanFieldCore", targets: ["MeanFieldCore"]),
        .library(name: "MeanField", targets: ["MeanField"]),
        .executable(name: "meanfield", targets: ["meanfield"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: targets
)
