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
        /// The coupled reference: the widest run of this run's family with the same seed.
        public var reference: String
        /// The family (runs equal in every setting but `heads` and the seed), e.g. "layers=2 lr=0.02".
        public var family: String = ""
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
            case run, reference, family, heads, layers, seed, lr, curve, task
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
        /// The family (runs equal in every setting but `layers` and the seed), e.g. "heads=16".
        public var family: String = ""
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
            case run, reference, family, layers, heads, seed
            case referenceLayers = "reference_layers", initialFunctionDistance = "initial_function_distance"
            case functionDistance = "function_distance", riskGap = "risk_gap"
            case evalSamples = "eval_samples", initialFunctionDistanceSE = "initial_function_distance_se"
            case functionDistanceSE = "function_distance_se"
        }
    }

    /// Final objective and risk of one run of a weight-decay family.
    public struct DecayEntry: Codable, Sendable {
        public var run: String
        /// The family (runs equal in every setting but `weight-decay` and the seed), e.g. "heads=8".
        public var family: String = ""
        public var weightDecay: Double
        public var heads: Int
        public var layers: Int
        public var seed: Int
        public var finalQ: Double
        public var finalR: Double
        enum CodingKeys: String, CodingKey {
            case run, family, heads, layers, seed, weightDecay = "weight_decay", finalQ = "final_Q", finalR = "final_R"
        }
    }

    /// A fitted log-log slope of one family with its 95% interval, the slope the theory predicts
    /// and the verdict (``SlopeVerdict``).
    public struct Fit: Codable, Sendable {
        public var quantity: String
        public var against: String
        /// The family the fit was made on (the config values held fixed, e.g. "layers=2 lr=0.02").
        public var family: String
        public var slope: Double
        public var confidence95: [Double]
        public var theory: Double
        public var points: Int
        public var seeds: Int
        /// The family's coupled reference runs (one per seed; empty for the λ fits, which have none).
        public var references: [String] = []
        /// ``SlopeVerdict/Kind`` as text ("consistent", "inconsistent", "inconclusive").
        public var verdict: String = ""
        enum CodingKeys: String, CodingKey { case quantity, against, family, slope, confidence95, theory, points, seeds, references, verdict }

        public init(quantity: String, against: String, family: String, slope: Double, confidence95: [Double], theory: Double,
                    points: Int, seeds: Int, references: [String] = [], verdict: String = "") {
            self.quantity = quantity
            self.against = against
            self.family = family
            self.slope = slope
            self.confidence95 = confidence95
            self.theory = theory
            self.points = points
            self.seeds = seeds
            self.references = references
            self.verdict = verdict
        }

        /// The verdict of this fit's interval against its theory (alternative 0), by the one rule.
        public func decide() throws -> SlopeVerdict {
            try SlopeVerdict.decide(slope: slope, confidence95: confidence95, theory: theory, points: points, seeds: max(1, seeds))
        }
    }

    /// A failure signature of theory §6 with the cause the runs' own data support and the knob to
    /// turn: one per (signature, cause), covering every run that shows it.
    public struct Signature: Codable, Sendable {
        public var name: String
        /// The cause named ("over-fitting", "decayed schedule", "weight decay", "capacity", …).
        public var cause: String = ""
        /// The runs it covers.
        public var runs: [String]
        /// One line: what was seen, with each run's evidence.
        public var message: String
        public var knob: String
        enum CodingKeys: String, CodingKey { case name, cause, runs, message, knob, run }

        public init(name: String, cause: String = "", runs: [String], message: String, knob: String) {
            self.name = name
            self.cause = cause
            self.runs = runs
            self.message = message
            self.knob = knob
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(cause, forKey: .cause)
            try c.encode(runs, forKey: .runs)
            try c.encode(message, forKey: .message)
            try c.encode(knob, forKey: .knob)
        }
    }

    /// Per-layer sizes of the residual stream (coordinate check): at step 0 and after `step` updates.
    public struct Coordinate: Codable, Sendable {
        public var run: String
        /// The family the run was measured in and what it varies ("heads" or "layers").
        public var family: String = ""
        public var against: String = "heads"
        public var seed: Int = 0
        public var heads: Int
        public var layers: Int
        public var step: Int
        public var layer: Int
        /// RMS of H^{(ℓ)} on the evaluation prompts.
        public var activationRMS: Double
        /// RMS of H^{(ℓ)}(θ_step) − H^{(ℓ)}(θ_0).
        public var updateRMS: Double
        enum CodingKeys: String, CodingKey {
            case run, family, against, seed, heads, layers, step, layer, activationRMS = "activation_rms", updateRMS = "update_rms"
        }
    }

    /// The coordinate check's fitted slope of one layer of one family against M (or L), with its
    /// verdict (theory: flat, slope 0 ± ¼; the alternative tested is the mis-scaling ±½ on the slope's side).
    public struct CoordinateFit: Codable, Sendable {
        public var family: String
        /// "heads" (width) or "layers" (depth).
        public var against: String
        /// "activation_rms" or "update_rms".
        public var quantity: String
        /// The layer ℓ (width families); for depth families −1, and the layers are those at
        /// `depthFraction` = ℓ/L in each run.
        public var layer: Int
        public var depthFraction: Double
        public var step: Int
        public var slope: Double
        public var confidence95: [Double]
        public var points: Int
        public var seeds: Int
        public var verdict: String
        enum CodingKeys: String, CodingKey {
            case family, against, quantity, layer, step, slope, confidence95, points, seeds, verdict
            case depthFraction = "depth_fraction"
        }

        /// Where in the network: "layer 2" or "ℓ/L = 0.5".
        public var position: String {
            layer >= 0 ? "layer \(layer)" : "ℓ/L = \(MarkupText.number(depthFraction, significantDigits: 3))"
        }

        /// The verdict by the one rule (``SlopeVerdict``): theory flat, 0 ± ``flatMargin``; alternative
        /// the 1/√M mis-scaling, ±½ on the slope's side.
        public func decide() throws -> SlopeVerdict {
            try SlopeVerdict.decide(slope: slope, confidence95: confidence95, theory: 0, margin: Self.flatMargin,
                                    alternative: slope < 0 ? -0.5 : 0.5, points: points, seeds: max(1, seeds))
        }

        /// How far from 0 a slope may be and still count as flat: half-way to the ½ of a 1/√M
        /// mis-scaling (finite-width corrections of a well-scaled layer are O(M^−1/2) and give small
        /// log-log slopes that are not a scaling).
        public static let flatMargin = 0.25
    }

    /// One family of the coordinate check: what was measured, and the layers the verdicts name.
    public struct CoordinateFamily: Codable, Sendable {
        public var family: String
        public var against: String
        public var runs: [String]
        /// The steps measured: 0 and checkpoint steps every run of the family has.
        public var steps: [Int]
        /// Which layers are checked, in words ("every layer ℓ = 0…2", "ℓ/L ∈ {0, 0.5, 1}").
        public var selection: String
        /// Positions ("layer 2") whose slope is inconsistent with flat, in network order.
        public var misScaled: [String]
        /// Positions whose slope is inconclusive.
        public var inconclusive: [String]
        /// Anything left out, in words (no common checkpoint after step 0, …); "" when nothing.
        public var note: String
        enum CodingKeys: String, CodingKey {
            case family, against, runs, steps, selection, note
            case misScaled = "mis_scaled", inconclusive
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
    public var coordinateFits: [CoordinateFit] = []
    public var coordinateFamilies: [CoordinateFamily] = []
    /// Runs skipped, with the reason (no checkpoints, image task, …).
    public var skipped: [String] = []
    /// Fits the runs suggest but cannot give, one line each with what to add.
    public var unfitted: [String] = []
    /// Distance of every checkpointed run from its linearized model (theory §1.6).
    public var linearization: [LinearizationEntry] = []
    /// The smallest evaluation sample `diagnose` asked for (`--eval-size`; ``EvaluationSample``).
    public var evalSize: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case reference, width, depth, decay, fits, signatures, coordinates, skipped, unfitted, linearization
        case coordinateFits = "coordinate_fits", coordinateFamilies = "coordinate_families", evalSize = "eval_size"
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
        coordinateFits = c.lenient(.coordinateFits, [])
        coordinateFamilies = c.lenient(.coordinateFamilies, [])
        skipped = c.lenient(.skipped, [])
        unfitted = c.lenient(.unfitted, [])
        linearization = c.lenient(.linearization, [])
        evalSize = c.lenient(.evalSize, nil as Int?)
    }
}

extension DiagnosticsReport.WidthEntry {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(run: c.lenientText(.run), reference: c.lenientText(.reference), family: c.lenientText(.family), heads: c.lenientInteger(.heads),
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
        self.init(run: c.lenientText(.run), reference: c.lenientText(.reference), family: c.lenientText(.family), layers: c.lenientInteger(.layers),
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
        self.init(run: c.lenientText(.run), family: c.lenientText(.family), weightDecay: c.lenientNumber(.weightDecay), heads: c.lenientInteger(.heads),
                  layers: c.lenientInteger(.layers), seed: c.lenientInteger(.seed), finalQ: c.lenientNumber(.finalQ), finalR: c.lenientNumber(.finalR))
    }
}

extension DiagnosticsReport.Fit {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(quantity: c.lenientText(.quantity), against: c.lenientText(.against), family: c.lenientText(.family),
                  slope: c.lenientNumber(.slope), confidence95: c.lenient(.confidence95, []), theory: c.lenientNumber(.theory),
                  points: max(0, c.lenientInteger(.points)), seeds: max(0, c.lenientInteger(.seeds)),
                  references: c.lenient(.references, []), verdict: c.lenientText(.verdict))
    }
}

extension DiagnosticsReport.Signature {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Files before one-line-per-signature name one run under "run".
        let run = c.lenientText(.run)
        self.init(name: c.lenientText(.name), cause: c.lenientText(.cause), runs: c.lenient(.runs, run.isEmpty ? [] : [run]),
                  message: c.lenientText(.message), knob: c.lenientText(.knob))
    }
}

extension DiagnosticsReport.Coordinate {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(run: c.lenientText(.run), family: c.lenientText(.family), against: c.lenient(.against, "heads"), seed: max(0, c.lenientInteger(.seed)),
                  heads: c.lenientInteger(.heads), layers: c.lenientInteger(.layers), step: c.lenientInteger(.step),
                  layer: c.lenientInteger(.layer), activationRMS: c.lenientNumber(.activationRMS), updateRMS: c.lenientNumber(.updateRMS))
    }
}

extension DiagnosticsReport.CoordinateFit {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(family: c.lenientText(.family), against: c.lenientText(.against), quantity: c.lenientText(.quantity),
                  layer: c.lenientInteger(.layer), depthFraction: c.lenientNumber(.depthFraction), step: c.lenientInteger(.step),
                  slope: c.lenientNumber(.slope), confidence95: c.lenient(.confidence95, []), points: max(0, c.lenientInteger(.points)),
                  seeds: max(0, c.lenientInteger(.seeds)), verdict: c.lenientText(.verdict))
    }
}

extension DiagnosticsReport.CoordinateFamily {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(family: c.lenientText(.family), against: c.lenientText(.against), runs: c.lenient(.runs, []), steps: c.lenient(.steps, []),
                  selection: c.lenientText(.selection), misScaled: c.lenient(.misScaled, []), inconclusive: c.lenient(.inconclusive, []),
                  note: c.lenientText(.note))
    }
}
