import Foundation

/// What `meanfield diagnose` writes to `DIR/diagnostics.json` and `meanfield report` draws: the
/// limit diagnostics of theory §1.5 (C1, C2) and the failure signatures of §6 for a sweep
/// (schema: docs/run-format.md). Reading is lenient, so an older or partial file still gives the
/// sections it can: a missing or mistyped number reads as NaN, a missing text as "", a missing
/// list as empty.
public struct DiagnosticsReport: Codable, Sendable {
    /// One finite-width run against its coupled large-M reference (same seed, same everything but M).
    public struct WidthEntry: Codable, Sendable {
        public var run: String
        public var reference: String
        public var heads: Int
        public var referenceHeads: Int
        public var layers: Int
        public var seed: Int
        public var weightDecay: Double
        public var lr: Double
        /// E_x |F_M(x) − F_ref(x)|² on the evaluation prompts at the last common checkpoint.
        public var functionDistance: Double
        /// E_x |F_ref(x)|² at the same checkpoint: the scale the distance is relative to.
        public var referenceMeanSquare: Double
        /// |R_M(t) − R_ref(t)| at the last common logged step.
        public var riskGap: Double
        /// Per layer: sliced W2, MMD² (Gaussian kernel) and debiased Sinkhorn divergence between the
        /// run's head particles and the reference's, at the last common checkpoint.
        public var particleSlicedW2: [Double]
        public var particleMMD: [Double]
        public var particleSinkhorn: [Double]
        /// The same distances over mean-field time (one point per common checkpoint / metrics step).
        public var curve: Curve
        /// The key the family varies: `heads` (Transformer, ViT: `heads`/`referenceHeads` are M) or
        /// `units` (ResNets: they hold the units per layer).
        public var widthKey: String = "heads"
        /// The run's task (`icl-regression`, `teacher-regression`, an image task).
        public var task: String = ""
        /// Samples of the evaluation set the distances are averaged over (``EvaluationSample``).
        public var evalSamples: Int = -1
        /// Standard error of `functionDistance` (of the mean over the samples).
        public var functionDistanceSE: Double = .nan
        /// Image tasks: test accuracy of the run minus the reference's on the same images, at the
        /// last common checkpoint, and its standard error (paired); NaN for regression.
        public var accuracyGap: Double = .nan
        public var accuracyGapSE: Double = .nan
        enum CodingKeys: String, CodingKey {
            case run, reference, heads, layers, seed, lr, curve, task
            case referenceHeads = "reference_heads", weightDecay = "weight_decay", functionDistance = "function_distance"
            case referenceMeanSquare = "reference_mean_square"
            case riskGap = "risk_gap", particleSlicedW2 = "particle_sliced_w2", particleMMD = "particle_mmd"
            case particleSinkhorn = "particle_sinkhorn"
            case widthKey = "width_key", evalSamples = "eval_samples", functionDistanceSE = "function_distance_se"
            case accuracyGap = "accuracy_gap", accuracyGapSE = "accuracy_gap_se"
        }
    }

    /// Distances over mean-field time t.
    public struct Curve: Codable, Sendable {
        public var t: [Double] = []
        public var functionDistance: [Double] = []
        public var riskGapT: [Double] = []
        public var riskGap: [Double] = []
        /// Standard error of each `functionDistance`.
        public var functionDistanceSE: [Double] = []
        enum CodingKeys: String, CodingKey {
            case t, functionDistance = "function_distance", riskGapT = "risk_gap_t", riskGap = "risk_gap"
            case functionDistanceSE = "function_distance_se"
        }
    }

    /// One run of a depth family against the deepest run (same seed, same everything but L).
    public struct DepthEntry: Codable, Sendable {
        public var run: String
        public var reference: String
        public var layers: Int
        public var referenceLayers: Int
        public var heads: Int
        public var seed: Int
        /// E_x |F_L(x) − F_ref(x)|² at initialization and at the end of training.
        public var initialFunctionDistance: Double
        public var functionDistance: Double
        public var riskGap: Double
        /// Samples of the evaluation set, and the standard errors of the two distances.
        public var evalSamples: Int = -1
        public var initialFunctionDistanceSE: Double = .nan
        public var functionDistanceSE: Double = .nan
        enum CodingKeys: String, CodingKey {
            case run, reference, layers, heads, seed
            case referenceLayers = "reference_layers", initialFunctionDistance = "initial_function_distance"
            case functionDistance = "function_distance", riskGap = "risk_gap"
            case evalSamples = "eval_samples", initialFunctionDistanceSE = "initial_function_distance_se"
            case functionDistanceSE = "function_distance_se"
        }
    }

    /// Final objective and risk of one run of a weight-decay family.
    public struct DecayEntry: Codable, Sendable {
        public var run: String
        public var weightDecay: Double
        public var heads: Int
        public var layers: Int
        public var seed: Int
        public var finalQ: Double
        public var finalR: Double
        enum CodingKeys: String, CodingKey {
            case run, heads, layers, seed, weightDecay = "weight_decay", finalQ = "final_Q", finalR = "final_R"
        }
    }

    /// A fitted log-log slope with its 95% interval and the slope the theory predicts.
    public struct Fit: Codable, Sendable {
        public var quantity: String
        public var against: String
        /// The family the fit was made on (the config values held fixed, e.g. "layers=2").
        public var family: String
        public var slope: Double
        public var confidence95: [Double]
        public var theory: Double
        public var points: Int
        public var seeds: Int
        enum CodingKeys: String, CodingKey { case quantity, against, family, slope, confidence95, theory, points, seeds }
    }

    /// A failure signature of theory §6 seen in a run, with the knob to turn.
    public struct Signature: Codable, Sendable {
        public var name: String
        public var run: String
        public var message: String
        public var knob: String
        enum CodingKeys: String, CodingKey { case name, run, message, knob }
    }

    /// Per-layer sizes of the residual stream (coordinate check): at step 0 and after `step` updates.
    public struct Coordinate: Codable, Sendable {
        public var run: String
        public var heads: Int
        public var layers: Int
        public var step: Int
        public var layer: Int
        /// RMS of H^{(ℓ)} on the evaluation prompts.
        public var activationRMS: Double
        /// RMS of H^{(ℓ)}(θ_step) − H^{(ℓ)}(θ_0).
        public var updateRMS: Double
        enum CodingKeys: String, CodingKey {
            case run, heads, layers, step, layer, activationRMS = "activation_rms", updateRMS = "update_rms"
        }
    }

    /// The first width reference (nil without a width family).
    public var reference: String?
    public var width: [WidthEntry] = []
    public var depth: [DepthEntry] = []
    public var decay: [DecayEntry] = []
    public var fits: [Fit] = []
    public var signatures: [Signature] = []
    public var coordinates: [Coordinate] = []
    /// Runs skipped, with the reason (no checkpoints, image task, …).
    public var skipped: [String] = []
    /// Distance of every checkpointed run from its linearized model (theory §1.6).
    public var linearization: [LinearizationEntry] = []
    /// The smallest evaluation sample `diagnose` asked for (`--eval-size`; ``EvaluationSample``).
    public var evalSize: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case reference, width, depth, decay, fits, signatures, coordinates, skipped, linearization
        case evalSize = "eval_size"
    }

    /// Writes `diagnostics.json` atomically into the sweep folder `directory`.
    public func write(to directory: String) throws {
        let file = directory + "/" + RunFormat.diagnosticsFile
        do {
            try RunFormat.encoder().encode(self).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw RunError("cannot write \(file): \(error.localizedDescription)")
        }
    }

    /// `diagnostics.json` of the sweep folder `directory`, nil when it has none; a file that is not
    /// a JSON object is a one-line error naming it.
    public static func read(from directory: String) throws -> DiagnosticsReport? {
        let file = directory + "/" + RunFormat.diagnosticsFile
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        guard case .object = try RunFormat.parse(data, file: file) else {
            throw RunError("\(file): not a JSON object (corrupt or truncated file)")
        }
        do {
            return try RunFormat.decoder().decode(DiagnosticsReport.self, from: data)
        } catch {
            throw RunError("\(file): \(RunFormat.describe(error))")
        }
    }
}

// Lenient reading (an older or hand-written file): see the type's comment.
extension KeyedDecodingContainer {
    func lenient<T: Decodable>(_ key: Key, _ fallback: T) -> T { ((try? decodeIfPresent(T.self, forKey: key)) ?? nil) ?? fallback }
    func lenientNumber(_ key: Key) -> Double { lenient(key, Double.nan) }
    func lenientText(_ key: Key) -> String { lenient(key, "") }
    /// An integer written as 4 or 4.0; -1 when missing.
    func lenientInteger(_ key: Key) -> Int {
        if let value = (try? decodeIfPresent(Int.self, forKey: key)) ?? nil { return value }
        let number = lenientNumber(key)
        return number.isFinite && number == number.rounded() && abs(number) < 1e15 ? Int(number) : -1
    }
}

extension DiagnosticsReport {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        reference = c.lenient(.reference, nil as String?)
        width = c.lenient(.width, [])
        depth = c.lenient(.depth, [])
        decay = c.lenient(.decay, [])
        fits = c.lenient(.fits, [])
        signatures = c.lenient(.signatures, [])
        coordinates = c.lenient(.coordinates, [])
        skipped = c.lenient(.skipped, [])
        linearization = c.lenient(.linearization, [])
        evalSize = c.lenient(.evalSize, nil as Int?)
    }
}

extension DiagnosticsReport.WidthEntry {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(run: c.lenientText(.run), reference: c.lenientText(.reference), heads: c.lenientInteger(.heads),
                  referenceHeads: c.lenientInteger(.referenceHeads), layers: c.lenientInteger(.layers), seed: c.lenientInteger(.seed),
                  weightDecay: c.lenientNumber(.weightDecay), lr: c.lenientNumber(.lr), functionDistance: c.lenientNumber(.functionDistance),
                  referenceMeanSquare: c.lenientNumber(.referenceMeanSquare), riskGap: c.lenientNumber(.riskGap),
                  particleSlicedW2: c.lenient(.particleSlicedW2, []), particleMMD: c.lenient(.particleMMD, []),
                  particleSinkhorn: c.lenient(.particleSinkhorn, []), curve: c.lenient(.curve, DiagnosticsReport.Curve()))
        widthKey = c.lenient(.widthKey, "heads")
        task = c.lenientText(.task)
        evalSamples = c.lenientInteger(.evalSamples)
        functionDistanceSE = c.lenientNumber(.functionDistanceSE)
        accuracyGap = c.lenientNumber(.accuracyGap)
        accuracyGapSE = c.lenientNumber(.accuracyGapSE)
    }
}

extension DiagnosticsReport.Curve {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        t = c.lenient(.t, [])
        functionDistance = c.lenient(.functionDistance, [])
        riskGap = c.lenient(.riskGap, [])
        // Files without risk_gap_t share the distance's times.
        riskGapT = c.lenient(.riskGapT, t)
        functionDistanceSE = c.lenient(.functionDistanceSE, [])
    }
}

extension DiagnosticsReport.DepthEntry {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(run: c.lenientText(.run), reference: c.lenientText(.reference), layers: c.lenientInteger(.layers),
                  referenceLayers: c.lenientInteger(.referenceLayers), heads: c.lenientInteger(.heads), seed: c.lenientInteger(.seed),
                  initialFunctionDistance: c.lenientNumber(.initialFunctionDistance), functionDistance: c.lenientNumber(.functionDistance),
                  riskGap: c.lenientNumber(.riskGap))
        evalSamples = c.lenientInteger(.evalSamples)
        initialFunctionDistanceSE = c.lenientNumber(.initialFunctionDistanceSE)
        functionDistanceSE = c.lenientNumber(.functionDistanceSE)
    }
}

extension DiagnosticsReport.DecayEntry {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(run: c.lenientText(.run), weightDecay: c.lenientNumber(.weightDecay), heads: c.lenientInteger(.heads),
                  layers: c.lenientInteger(.layers), seed: c.lenientInteger(.seed), finalQ: c.lenientNumber(.finalQ), finalR: c.lenientNumber(.finalR))
    }
}

extension DiagnosticsReport.Fit {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(quantity: c.lenientText(.quantity), against: c.lenientText(.against), family: c.lenientText(.family),
                  slope: c.lenientNumber(.slope), confidence95: c.lenient(.confidence95, []), theory: c.lenientNumber(.theory),
                  points: max(0, c.lenientInteger(.points)), seeds: max(0, c.lenientInteger(.seeds)))
    }
}

extension DiagnosticsReport.Signature {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: c.lenientText(.name), run: c.lenientText(.run), message: c.lenientText(.message), knob: c.lenientText(.knob))
    }
}

extension DiagnosticsReport.Coordinate {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(run: c.lenientText(.run), heads: c.lenientInteger(.heads), layers: c.lenientInteger(.layers), step: c.lenientInteger(.step),
                  layer: c.lenientInteger(.layer), activationRMS: c.lenientNumber(.activationRMS), updateRMS: c.lenientNumber(.updateRMS))
    }
}
