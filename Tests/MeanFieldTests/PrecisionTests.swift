// `--precision float64` (TrainKeys `precision`, Sources/MeanFieldTraining/Training/Precision.swift):
// a float64 run against Euler steps computed directly on the autodiff engine in Double; resume of
// float64 runs byte for byte; float64 through `meanfield sweep` and the diagnostics; the refusals
// (another precision on --resume, a checkpoint of another scalar type); memory and disk estimates.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func folder(_ name: String) -> String { NSTemporaryDirectory() + "meanfield-precision-\(name)-\(UUID().uuidString)" }

private func config(_ task: String, model: ModelKind = .transformer, _ pairs: [(String, String)]) throws -> TrainConfig {
    var config = TrainConfig.defaults(task: task, model: model)
    try config.apply(pairs.map { (key: $0.0, text: $0.1) }, source: { "--\($0)" })
    return try config.resolved(defaultThreads: 1)
}

/// ‖a − b‖ / ‖b‖ over every tensor of two stores with the same names.
private func relativeDistance(_ a: ParameterStore<Double>, _ b: ParameterStore<Double>) -> Double {
    var difference = 0.0, norm = 0.0
    for name in b.names {
        for (x, y) in zip(a[name].scalars, b[name].scalars) {
            difference += (x - y) * (x - y)
            norm += y * y
        }
    }
    return (difference / norm).squareRoot()
}

/// Every tensor of a safetensors file, by name, as raw bytes.
private func tensorBytes(_ path: String) throws -> [String: [UInt8]] {
    let file = try SafeTensorsFile.read(path: path)
    return Dictionary(uniqueKeysWithValues: file.entries.map { ($0.name, $0.bytes) })
}

/// A float64 in-context regression run (4 heads, 4 units, L = 2; mini-batches of 8 of 16 prompts):
/// five Euler steps of the gradient flow θ ← θ − η·L·M·∇R.
private let eulerFlags = [("precision", "float64"), ("optimizer", "euler"), ("lr", "0.05"), ("steps", "5"), ("batch-size", "8"),
                          ("log-every", "1"), ("checkpoint-every", "1")]

/// The same steps computed directly: θ_k and R_k of the batch of step k, k = 0 … 5, on the autodiff
/// engine in Double, with the Euler update written out.
private func directEulerSteps(_ config: TrainConfig) -> (states: [ParameterStore<Double>], risks: [Double]) {
    var store: ParameterStore<Double> = config.initialParameters()
    var data = RegressionData<Double>(config: config)
    var engine = AutodiffEngine<Double>(config: config.transformer)
    var states = [store], risks: [Double] = []
    for step in 0...config.steps {
        let batch = data.batch(step: step)
        let (risk, gradients) = engine.riskAndGradients(store, tokens: batch.tokens,
                                                        targets: .regression(values: batch.targets, labelRow: data.task.labelRow))
        risks.append(risk)
        guard step < config.steps else { break }
        for (name, gradient) in zip(store.names, gradients) {
            let rate = config.lr * store.flowScales[name]!
            store[name] = Tensor(shape: gradient.shape, scalars: zip(store[name].scalars, gradient.scalars).map { $0 - rate * $1 })
        }
        states.append(store)
    }
    return (states, risks)
}

@Suite(.serialized) struct PrecisionTests {
    /// A float64 run of `meanfield train` (fused engine) and of the library (autodiff engine) against
    /// the same five Euler steps computed directly: parameters and logged R to ~1e-12 relative.
    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary"))
    func float64TrainingMatchesEulerStepsOnTheAutodiffEngineInDouble() throws {
        let settings = try config("icl-regression", eulerFlags)
        let reference = directEulerSteps(settings)
        let cli = folder("euler-cli"), library = folder("euler-library")
        defer { for path in [cli, library] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try meanfield(["train"] + eulerFlags.flatMap { ["--\($0.0)", $0.1] } + ["--threads", "1", "--out", cli])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("5 steps in float64"), "\(result.output)")
        var run = Trainer(config: settings, engine: AutodiffEngine<Double>(config: settings.transformer))
        run.showProgress = false
        _ = try run.run(directory: library)

        for (path, engine) in [(cli, "fused"), (library, "autodiff")] {
            let record = try RunRecord(path: path)
            #expect(record.manifest?.scalarType == "f64" && record.config.precision == .float64)
            #expect(record.checkpoints.map(\.step) == Array(0...5))
            var worstParameters = 0.0, worstRisk = 0.0
            for (step, checkpointPath) in record.checkpoints {
                let checkpoint = try TrainingCheckpoint<Double>.read(path: checkpointPath)
                worstParameters = max(worstParameters, relativeDistance(checkpoint.parameters, reference.states[step]))
            }
            for line in record.metrics {
                let step = try #require(line["step"].map { Int($0) }), risk = try #require(line["R"])
                worstRisk = max(worstRisk, abs(risk - reference.risks[step]) / abs(reference.risks[step]))
            }
            print("float64 \(engine) run vs direct autodiff Euler steps: parameters \(worstParameters), R \(worstRisk) (relative, worst of steps 0…5)")
            #expect(worstParameters < 1e-12 && worstRisk < 1e-12, "\(engine): parameters \(worstParameters), R \(worstRisk)")
            #expect(record.metrics.count == 6)
            // The parameters are Doubles, not widened Floats.
            let last = try TrainingCheckpoint<Double>.read(path: record.checkpoints.last!.path).parameters
            #expect(last.names.contains { name in last[name].scalars.contains { Double(Float($0)) != $0 } })
        }
        // The risk moved: the steps did something measurable.
        #expect(reference.risks.last! < 0.99 * reference.risks[0])
    }

    /// Resuming a float64 run from a checkpoint gives the uninterrupted run's metrics log, byte for
    /// byte, and the same tensors (parameters and optimizer state) in its last checkpoint: in-context
    /// regression (fused engine, AdamW), teacher regression (ResNet, momentum SGD), images (ViT).
    @Test func resumeOfAFloat64RunIsByteIdenticalToTheUninterruptedRun() throws {
        let regression = try config("icl-regression", [("precision", "float64"), ("steps", "12"), ("train-size", "16"), ("batch-size", "4"),
                                                        ("log-every", "2"), ("checkpoint-every", "3")])
        let teacher = try config("teacher-regression", model: .resnet, [("precision", "float64"), ("steps", "12"), ("optimizer", "sgd"),
                                                                        ("train-size", "20"), ("batch-size", "5"), ("eval-size", "20"),
                                                                        ("units", "8"), ("layers", "3"), ("log-every", "2"),
                                                                        ("checkpoint-every", "3"), ("ntk-every", "4")])
        let images = try config("synthetic-images", [("precision", "float64"), ("subset", "60"), ("test-subset", "20"), ("epochs", "4"),
                                                     ("log-every", "2"), ("checkpoint-every", "5"), ("checkpoint-every-epochs", "0")])
        let splits = try TrainingRun<ImageClassificationTask<Double>>.loadSplits(images)
        func regressionRun(_ path: String, resume: Bool, halt: Int?) throws {
            var run = Trainer(config: regression, engine: AnyTransformerEngine<Double>(config: regression.transformer, kind: .fused))
            (run.showProgress, run.haltAfterStep) = (false, halt)
            _ = try run.run(directory: path, resume: resume)
        }
        func teacherRun(_ path: String, resume: Bool, halt: Int?) throws {
            var run = TrainingRun<TeacherRegressionTask<Double>>(config: teacher)
            (run.showProgress, run.haltAfterStep) = (false, halt)
            _ = try run.run(directory: path, resume: resume)
        }
        func imageRun(_ path: String, resume: Bool, halt: Int?) throws {
            var run = TrainingRun<ImageClassificationTask<Double>>(config: images, splits: splits)
            (run.showProgress, run.printReport, run.haltAfterStep) = (false, false, halt)
            _ = try run.run(directory: path, resume: resume)
        }
        // Image runs log the wall time of their steps (train_seconds): every other byte must agree.
        func metrics(_ path: String) throws -> String {
            try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8)
                .replacingOccurrences(of: #","train_seconds":[^,}]*"#, with: "", options: .regularExpression)
        }
        let runs: [(name: String, train: (String, Bool, Int?) throws -> Void)] = [("regression", regressionRun), ("teacher", teacherRun),
                                                                                   ("images", imageRun)]
        for (name, train) in runs {
            let whole = folder("resume-\(name)-whole"), parts = folder("resume-\(name)-parts")
            defer { for path in [whole, parts] { try? FileManager.default.removeItem(atPath: path) } }
            try train(whole, false, nil)
            try train(parts, false, 7)
            try train(parts, true, nil)
            #expect(try metrics(parts) == (try metrics(whole)), "\(name)")
            let file = "/checkpoints/" + TrainingCheckpoint<Double>.fileName(step: 12)
            let (a, b) = (try tensorBytes(whole + file), try tensorBytes(parts + file))
            #expect(!a.isEmpty && a == b, "\(name)")
            #expect(try SafeTensorsFile.read(path: whole + file).entries.allSatisfy { $0.dtype == .F64 }, "\(name)")
            #expect(try RunFolder.readMetrics(in: whole).count >= 7, "\(name)")
        }
    }

    /// A float64 grid through `meanfield sweep`: every run trains in float64, and the diagnostics
    /// read their f64 checkpoints (the width study of heads 1 against heads 2). `--precision` is
    /// also a grid axis.
    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary"))
    func float64ThroughSweepAndItsDiagnostics() throws {
        let sweep = folder("sweep")
        defer { try? FileManager.default.removeItem(atPath: sweep) }
        let tiny = ["--heads", "1,2", "--layers", "1", "--ffn-units", "2", "--steps", "10", "--train-size", "8", "--eval-size", "8",
                    "--log-every", "5", "--checkpoint-every", "5", "--threads-per-run", "1", "--parallel", "2"]
        let result = try meanfield(["sweep", "--precision", "float64"] + tiny + ["--out", sweep])
        #expect(result.status == 0, "\(result.output)")
        for name in ["heads-1", "heads-2"] {
            let run = try RunRecord(path: sweep + "/runs/" + name)
            #expect(run.status == "completed" && run.config.precision == .float64 && run.manifest?.scalarType == "f64", "\(name)")
            #expect(try SafeTensorsFile.read(path: run.checkpoints.last!.path).entries.allSatisfy { $0.dtype == .F64 }, "\(name)")
        }
        let report = try #require(try DiagnosticsReport.read(from: sweep))
        #expect(!report.width.isEmpty && report.width.allSatisfy { $0.functionDistance.isFinite && $0.functionDistance > 0 }, "\(report.skipped)")

        let axis = try meanfield(["sweep", "--precision", "float32,float64", "--dry-run"] + tiny + ["--out", sweep + "-axis"])
        #expect(axis.status == 0 && axis.output.contains("4 runs"), "\(axis.output)")
        #expect(!FileManager.default.fileExists(atPath: sweep + "-axis"))
    }

    /// The diagnostics read a run's parameters in Double from f32 and f64 checkpoints, regenerate an
    /// unsaved step 0 and draw the run's evaluation prompts in the run's own precision.
    @Test func diagnosticsReadFloat32AndFloat64Runs() throws {
        for precision in Precision.allCases {
            let settings = try config("icl-regression", [("precision", precision.rawValue), ("steps", "4"), ("log-every", "2")])
            let path = folder("state-\(precision.rawValue)")
            defer { try? FileManager.default.removeItem(atPath: path) }
            switch precision {
            case .float32:
                var run = Trainer(config: settings, engine: AnyTransformerEngine<Float>(config: settings.transformer))
                run.showProgress = false
                _ = try run.run(directory: path)
            case .float64:
                var run = Trainer(config: settings, engine: AnyTransformerEngine<Double>(config: settings.transformer))
                run.showProgress = false
                _ = try run.run(directory: path)
            }
            let record = try RunRecord(path: path)
            #expect(record.checkpoints.map(\.step) == [4])
            let (final, time) = try record.state(atStep: 4)
            let expected: ParameterStore<Double> = switch precision {
            case .float32: try TrainingCheckpoint<Float>.read(path: record.checkpoints[0].path).parameters.converted(to: Double.self)
            case .float64: try TrainingCheckpoint<Double>.read(path: record.checkpoints[0].path).parameters
            }
            #expect(final == expected && abs(time - 4 * settings.lr) < 1e-12, "\(precision)")
            let initial: ParameterStore<Double> = switch precision {
            case .float32: (settings.initialParameters() as ParameterStore<Float>).converted(to: Double.self)
            case .float64: settings.initialParameters()
            }
            #expect(try record.state(atStep: 0).store == initial, "\(precision)")
            // The diagnostics' evaluation sample is the run's own evaluation set, drawn in its precision.
            let own: Tensor<Double> = switch precision {
            case .float32: RegressionData<Float>(config: settings).eval.tokens.converted(to: Double.self)
            case .float64: RegressionData<Double>(config: settings).eval.tokens
            }
            #expect(try EvaluationSample(config: settings).inputs == own, "\(precision)")
        }
    }

    /// One line naming --precision: another precision on --resume, a checkpoint of another scalar
    /// type than the run's config, an unknown value, a run built in the wrong scalar type.
    @Test(.enabled(if: meanfieldBinary != nil, "no meanfield binary"))
    func refusals() throws {
        let path = folder("refusals")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try meanfield(["train", "--steps", "4", "--threads", "1", "--out", path]).status == 0)
        let changed = try meanfield(["train", "--resume", path, "--steps", "8", "--precision", "float64"])
        #expect(changed.status != 0 && changed.output.contains("--precision cannot change when resuming"), "\(changed.output)")
        // A config.json edited to float64 over float32 checkpoints.
        let configPath = path + "/config.json"
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        #expect(text.contains("\"precision\" : \"float32\""))
        try text.replacingOccurrences(of: "\"precision\" : \"float32\"", with: "\"precision\" : \"float64\"")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let edited = try meanfield(["train", "--resume", path, "--steps", "8"])
        #expect(edited.status != 0 && edited.output.contains("a --precision float32 checkpoint (f32 tensors), read as --precision float64"),
                "\(edited.output)")
        let unknown = try meanfield(["train", "--precision", "float16", "--out", path + "-unknown"])
        #expect(unknown.status != 0 && unknown.output.contains("--precision: expected one of float32, float64, got 'float16'"), "\(unknown.output)")

        // The library: a Float engine for a float64 config.
        let settings = try config("icl-regression", [("precision", "float64"), ("steps", "2")])
        var mismatched = Trainer(config: settings, engine: AnyTransformerEngine<Float>(config: settings.transformer))
        mismatched.showProgress = false
        let mismatch = #expect(throws: RunError.self) { _ = try mismatched.run(directory: path + "-mismatched") }
        #expect(mismatch?.description.contains("--precision float64: this run was built to compute in float32") == true, "\(String(describing: mismatch))")
        #expect(!FileManager.default.fileExists(atPath: path + "-mismatched"))
        // A float64 checkpoint read as float32, and one whose own config names another precision.
        let parameters: ParameterStore<Double> = settings.initialParameters()
        let checkpoints = path + "-checkpoints"
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: checkpoints) }
        let good = checkpoints + "/" + TrainingCheckpoint<Double>.fileName(step: 0)
        try TrainingCheckpoint(config: settings, step: 0, meanFieldTime: 0, parameters: parameters, optimizerState: [:], optimizerKind: settings.optimizer,
                               optimizerUpdates: 0, initialRisk: 1, randomState: "{}")
            .write(to: good, optimizerTensors: settings.optimizerSettings.make(for: parameters).stateTensors)
        #expect(try TrainingCheckpoint<Double>.read(path: good).parameters == parameters)
        let asFloat = #expect(throws: RunError.self) { _ = try TrainingCheckpoint<Float>.read(path: good) }
        #expect(asFloat?.description.contains("a --precision float64 checkpoint (f64 tensors), read as --precision float32") == true,
                "\(String(describing: asFloat))")
        var float32Config = settings
        float32Config.precision = .float32
        let contradictory = checkpoints + "/" + TrainingCheckpoint<Double>.fileName(step: 1)
        try TrainingCheckpoint(config: float32Config, step: 1, meanFieldTime: 0.02, parameters: parameters, optimizerState: [:], optimizerKind: settings.optimizer,
                               optimizerUpdates: 1, initialRisk: 1, randomState: "{}")
            .write(to: contradictory, optimizerTensors: settings.optimizerSettings.make(for: parameters).stateTensors)
        let corrupt = #expect(throws: RunError.self) { _ = try TrainingCheckpoint<Double>.read(path: contradictory) }
        #expect(corrupt?.description.contains("its config says --precision float32 but its tensors are f64 (corrupt checkpoint)") == true,
                "\(String(describing: corrupt))")
    }

    /// Memory and checkpoint sizes count 8 bytes a scalar in float64, 4 in float32.
    @Test func memoryAndDiskEstimatesUseTheScalarSize() throws {
        let cases: [(String, ModelKind, [(String, String)])] = [
            ("icl-regression", .transformer, [("heads", "8"), ("train-size", "64"), ("batch-size", "16")]),
            ("teacher-regression", .resnet, []),
            ("synthetic-images", .transformer, [("optimizer", "sgd")]),
            ("fashion-mnist", .rffResnet, []),
        ]
        for (task, model, pairs) in cases {
            let single = try config(task, model: model, pairs), double = try config(task, model: model, pairs + [("precision", "float64")])
            let (a, b) = (MemoryEstimate(config: single), MemoryEstimate(config: double))
            #expect(b.parameterBytes == 2 * a.parameterBytes && b.optimizerBytes == 2 * a.optimizerBytes && b.activationBytes == 2 * a.activationBytes,
                    "\(task) \(model)")
            #expect(b.dataBytes > a.dataBytes, "\(task) \(model)")
            let header = 64.0 * 1024
            #expect(DiskSpaceCheck.checkpointBytes(double) - header == 2 * (DiskSpaceCheck.checkpointBytes(single) - header), "\(task) \(model)")
        }
    }
}
