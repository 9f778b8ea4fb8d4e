// The particle clouds of a mean-field Transformer layer, and the distances between two models'
// clouds, layer by layer, that the limit diagnostics track (theory §1.2: a layer is M heads and M′
// units, each a particle; §1.5: the limit is a statement about their empirical measures).
import MeanFieldCore

/// Extracts a layer's particles from a ``ParameterStore`` as a `[n, p]` `Tensor<Double>` (one particle
/// per row), the representation every metric in this folder takes.
///
/// - Head particle i of layer ℓ: row i (axis 0) of every attention tensor of the layer, flattened and
///   concatenated in the order keyQuery, outputValue (merged heads, p = 2D²) or query, key, value,
///   output (factored heads, p = 4·d_h·D), as named by ``MeanFieldTransformer``.
/// - Unit particle i of layer ℓ: `(ffn.in[i], ffn.bias[i], ffn.out[i])`, p = 2D + 1.
public enum ParticleClouds {
    /// The attention tensor names of a layer in particle order (merged first, then factored).
    static func attentionNames(_ layer: Int) -> [String] {
        [MeanFieldTransformer.keyQueryName(layer), MeanFieldTransformer.outputValueName(layer),
         MeanFieldTransformer.queryName(layer), MeanFieldTransformer.keyName(layer),
         MeanFieldTransformer.valueName(layer), MeanFieldTransformer.outputName(layer)]
    }

    /// The feed-forward tensor names of a layer in particle order.
    static func unitNames(_ layer: Int) -> [String] {
        [MeanFieldTransformer.ffnInName(layer), MeanFieldTransformer.ffnBiasName(layer), MeanFieldTransformer.ffnOutName(layer)]
    }

    /// The `[M, p]` cloud of layer `layer`'s attention heads.
    /// - Throws: ``RunError`` when the store has no attention tensor for the layer or their first axes differ.
    public static func heads<Scalar: TensorScalar>(_ store: ParameterStore<Scalar>, layer: Int) throws -> Tensor<Double> {
        try cloud(store, names: attentionNames(layer).filter(store.contains), what: "attention heads", layer: layer)
    }

    /// The `[M′, 2D + 1]` cloud of layer `layer`'s feed-forward units.
    /// - Throws: ``RunError`` when a feed-forward tensor of the layer is missing or their first axes differ.
    public static func units<Scalar: TensorScalar>(_ store: ParameterStore<Scalar>, layer: Int) throws -> Tensor<Double> {
        let names = unitNames(layer)
        if let missing = names.first(where: { !store.contains($0) }) {
            throw RunError("particle cloud: layer \(layer) has no '\(missing)' (layers in this store: \(layers(in: store)))")
        }
        return try cloud(store, names: names, what: "feed-forward units", layer: layer)
    }

    /// How many layers the store holds (layers 0, 1, … with any attention or feed-forward tensor).
    public static func layers<Scalar: TensorScalar>(in store: ParameterStore<Scalar>) -> Int {
        var count = 0
        while (attentionNames(count) + unitNames(count)).contains(where: store.contains) { count += 1 }
        return count
    }

    /// Row i of the result = the concatenation of row i of each named tensor, flattened.
    private static func cloud<Scalar: TensorScalar>(_ store: ParameterStore<Scalar>, names: [String], what: String,
                                                    layer: Int) throws -> Tensor<Double> {
        guard let first = names.first else {
            throw RunError("particle cloud: layer \(layer) has no \(what) (layers in this store: \(layers(in: store)))")
        }
        let particles = store[first].shape.first ?? 0
        let tensors = names.map { store[$0] }
        for (name, tensor) in zip(names, tensors) where tensor.rank == 0 || tensor.shape[0] != particles {
            throw RunError("particle cloud: '\(name)' has shape \(tensor.shape) but '\(first)' has \(particles) particles on axis 0")
        }
        let widths = tensors.map { particles == 0 ? 0 : $0.count / particles }
        let dimension = widths.reduce(0, +)
        var scalars = [Double]()
        scalars.reserveCapacity(particles * dimension)
        for i in 0..<particles {
            for (tensor, width) in zip(tensors, widths) {
                for k in 0..<width { scalars.append(Double(tensor.scalars[i * width + k])) }
            }
        }
        return Tensor(shape: [particles, dimension], scalars: scalars)
    }
}

/// The distances between the particle measures of one layer of two models (typically a finite-M run
/// and a large-M reference, theory §1.5 claim C1), for its heads and its units.
public struct ParticleDistances: Sendable, Codable, Equatable {
    /// How the distances are computed.
    public struct Options: Sendable, Codable, Equatable {
        /// Directions of the sliced W2 (drawn from `seed`, the same for every comparison).
        public var directions: Int
        public var seed: UInt64
        /// Sinkhorn ε as a fraction of the reference cloud's mean squared pairwise distance
        /// `E|X − X′|² = 2 tr Cov` (so it is fixed by the reference, the same for every compared run).
        public var sinkhornEpsilonFraction: Double
        public var sinkhornTolerance: Double
        public var sinkhornMaxIterations: Int
        /// MMD bandwidth; `nil`: the median heuristic on the reference cloud alone (again fixed by the reference).
        public var mmdBandwidth: Double?

        public init(directions: Int = 128, seed: UInt64 = 0, sinkhornEpsilonFraction: Double = 0.01,
                    sinkhornTolerance: Double = 1e-5, sinkhornMaxIterations: Int = 1_000, mmdBandwidth: Double? = nil) {
            self.directions = directions
            self.seed = seed
            self.sinkhornEpsilonFraction = sinkhornEpsilonFraction
            self.sinkhornTolerance = sinkhornTolerance
            self.sinkhornMaxIterations = sinkhornMaxIterations
            self.mmdBandwidth = mmdBandwidth
        }
    }

    /// The distances between one pair of clouds.
    public struct Distances: Sendable, Codable, Equatable {
        /// Points in the compared cloud and in the reference, and their dimension p.
        public var particles: Int, referenceParticles: Int, dimension: Int
        /// Exact 1-D W2 per coordinate, combined: `sqrt((1/p) Σ_k W2²(marginal_k))` (the sliced W2 over
        /// the coordinate axes; a lower bound on W2/√p).
        public var marginalW2: Double
        /// Exact 1-D W2 between the laws of the particle norms |θ|.
        public var normW2: Double
        /// Sliced W2 (``SlicedWasserstein``), ≈ W2/√p in scale.
        public var slicedW2: Double
        /// Debiased Sinkhorn divergence (units of squared distance) with its ε, iterations and convergence.
        public var sinkhorn: Double, sinkhornEpsilon: Double, sinkhornIterations: Int, sinkhornConverged: Bool
        /// MMD² (unbiased and biased) with the Gaussian kernel of bandwidth `mmdBandwidth`.
        public var mmdSquared: Double, mmdSquaredBiased: Double, mmdBandwidth: Double

        /// All four distances between `cloud` and `reference` (`[n, p]` and `[m, p]`).
        public static func between(_ cloud: Tensor<Double>, _ reference: Tensor<Double>, options: Options = Options()) throws -> Distances {
            let (n, m, p) = try PointCloud.sizes(cloud, reference, metric: "particle distances")
            var marginal = 0.0
            for k in 0..<p {
                marginal += try Wasserstein1D.cost((0..<n).map { cloud.scalars[$0 * p + k] },
                                                   (0..<m).map { reference.scalars[$0 * p + k] })
            }
            let normW2 = try Wasserstein1D.w2(PointCloud.squaredNorms(cloud).map { $0.squareRoot() },
                                              PointCloud.squaredNorms(reference).map { $0.squareRoot() })
            let sliced = try SlicedWasserstein.distance(cloud, reference, directions: options.directions, seed: options.seed)
            // E|X − X′|² = 2 (mean |x|² − |mean x|²) over the reference.
            let meanSquaredNorm = PointCloud.squaredNorms(reference).reduce(0, +) / Double(m)
            var mean = [Double](repeating: 0, count: p)
            for j in 0..<m { for k in 0..<p { mean[k] += reference.scalars[j * p + k] / Double(m) } }
            let spread = 2 * (meanSquaredNorm - mean.reduce(0) { $0 + $1 * $1 })
            let epsilon = options.sinkhornEpsilonFraction * (spread > 0 ? spread : 1)
            let sinkhorn = try SinkhornDivergence(epsilon: epsilon, tolerance: options.sinkhornTolerance,
                                                  maxIterations: options.sinkhornMaxIterations).divergence(cloud, reference)
            let bandwidth = try options.mmdBandwidth ?? (m >= 2 ? MaximumMeanDiscrepancy.medianBandwidth(reference) : 1)
            let mmd = try MaximumMeanDiscrepancy(bandwidth: bandwidth > 0 ? bandwidth : 1).compute(cloud, reference)
            return Distances(particles: n, referenceParticles: m, dimension: p,
                             marginalW2: (marginal / Double(p)).squareRoot(), normW2: normW2, slicedW2: sliced,
                             sinkhorn: sinkhorn.divergence, sinkhornEpsilon: epsilon,
                             sinkhornIterations: sinkhorn.totalIterations, sinkhornConverged: sinkhorn.converged,
                             mmdSquared: mmd.unbiased, mmdSquaredBiased: mmd.biased, mmdBandwidth: mmd.bandwidth)
        }
    }

    /// The layer compared.
    public var layer: Int
    /// Distances between the attention-head clouds and between the feed-forward-unit clouds.
    public var heads: Distances
    public var units: Distances

    /// The distances between layer `layer` of `store` and of `reference`, for heads and units.
    /// - Throws: ``RunError`` when a cloud is missing, shapes differ in p, or a cloud holds NaN.
    public static func between<A: TensorScalar, B: TensorScalar>(_ store: ParameterStore<A>, _ reference: ParameterStore<B>,
                                                                 layer: Int, options: Options = Options()) throws -> ParticleDistances {
        ParticleDistances(
            layer: layer,
            heads: try Distances.between(ParticleClouds.heads(store, layer: layer), ParticleClouds.heads(reference, layer: layer), options: options),
            units: try Distances.between(ParticleClouds.units(store, layer: layer), ParticleClouds.units(reference, layer: layer), options: options))
    }
}
