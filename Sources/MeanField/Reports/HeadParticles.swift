import Foundation
import MeanFieldCore

/// The attention-head particles of one layer read from a checkpoint, and their projection on the
/// principal components of the initial particles (theory §1.2: a layer's M heads are M samples of
/// the particle measure; training moves them as a cloud).
///
/// Head particle i of layer ℓ is the concatenation of row i (the slice along the heads axis) of
/// every `layerℓ.attention.*` tensor, in the file's order: (W_KQ, W_OV) for merged heads, (Q, K, V, O)
/// for factored ones (``MeanFieldTransformer``'s parameter names). For a ResNet (no attention
/// tensors) the particles are its units: row i of every `layerℓ.*` tensor, (w, b, u) or θ.
public struct HeadParticles: Sendable {
    /// `particles[i]` is head i's parameter vector.
    public var particles: [[Double]]
    public var step: Int
    /// Mean-field time of the checkpoint (nil if the file does not record it).
    public var meanFieldTime: Double?

    /// Reads layer `layer`'s head particles from the checkpoint at `path`.
    public static func read(path: String, layer: Int) throws -> HeadParticles {
        let file = try SafeTensorsFile.read(path: path)
        // Transformers: the attention heads; ResNets (no attention): the units, layerℓ.* (w, b, u or θ).
        var prefix = "layer\(layer).attention."
        var tensors = file.entries.filter { $0.name.hasPrefix(prefix) }
        if tensors.isEmpty && !file.entries.contains(where: { $0.name.contains(".attention.") }) {
            prefix = "layer\(layer)."
            tensors = file.entries.filter { $0.name.hasPrefix(prefix) }
        }
        guard let heads = tensors.first?.shape.first, heads > 0 else {
            throw RunError("\(path): no attention tensors for layer \(layer) (names \(prefix)*)")
        }
        var particles = Array(repeating: [Double](), count: heads)
        for tensor in tensors {
            guard tensor.shape.first == heads else {
                throw RunError("\(path): tensor '\(tensor.name)' has shape \(tensor.shape), expected \(heads) heads on axis 0")
            }
            let values = tensor.dtype == .F32 ? try file.tensor(tensor.name, as: Float.self, file: path).scalars.map(Double.init)
                : try file.tensor(tensor.name, as: Double.self, file: path).scalars
            let rowLength = values.count / heads
            for head in 0..<heads {
                particles[head] += values[(head * rowLength)..<((head + 1) * rowLength)]
            }
        }
        return HeadParticles(particles: particles, step: Int(file.metadata["step"] ?? "") ?? 0,
                             meanFieldTime: file.metadata["t"].flatMap(Double.init))
    }
}

/// The first principal components of a point cloud: the mean and the top unit eigenvectors of the
/// covariance (divisor n), found through the n × n Gram matrix (never forming the P × P covariance,
/// so ViT heads with P in the thousands are cheap).
public struct PrincipalComponents: Sendable {
    public var mean: [Double]
    /// Unit vectors, by decreasing variance.
    public var components: [[Double]]
    /// The variance along each component (eigenvalue of the covariance with divisor n).
    public var variances: [Double]
    /// The total variance (trace of the covariance).
    public var totalVariance: Double

    /// The top `count` components of `points` (all of the same length).
    public init(points: [[Double]], count: Int = 2) {
        let n = points.count, dimension = points.first?.count ?? 0
        let mean = (0..<dimension).map { j in points.reduce(0) { $0 + $1[j] } / Double(max(n, 1)) }
        let centred = points.map { point in zip(point, mean).map { $0 - $1 } }
        self.mean = mean
        totalVariance = centred.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } } / Double(max(n, 1))
        (components, variances) = Self.topComponents(centred, count: count)
    }

    /// The top eigenvectors of the covariance of the centred rows X (n × P) through the small Gram
    /// matrix G = X Xᵀ (n × n): if G u = μ u then v = Xᵀu / |Xᵀu| is a unit eigenvector of the
    /// covariance XᵀX / n with eigenvalue μ / n. G's eigenpairs come from ``SymmetricEigen``. Cost
    /// O(n²P + n³), so thousands of dimensions are cheap.
    static func topComponents(_ centred: [[Double]], count: Int) -> ([[Double]], [Double]) {
        let n = centred.count, dimension = centred.first?.count ?? 0
        guard n > 0, dimension > 0 else { return ([], []) }
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var sum = 0.0
            for index in a.indices { sum += a[index] * b[index] }
            return sum
        }
        var gram = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0...i { gram[i * n + j] = dot(centred[i], centred[j]) } }
        let eigen = SymmetricEigen.decompose(gram, dimension: n)   // ascending; vectors in columns
        var components: [[Double]] = [], variances: [Double] = []
        for column in (0..<n).reversed().prefix(min(count, dimension)) {
            // Back to parameter space: v = Xᵀu, normalised.
            var direction = [Double](repeating: 0, count: dimension)
            for (i, row) in centred.enumerated() where eigen.vectors[i * n + column] != 0 {
                for j in 0..<dimension { direction[j] += row[j] * eigen.vectors[i * n + column] }
            }
            let norm = dot(direction, direction).squareRoot()
            guard norm > 0 else { break }   // the cloud has rank < count
            direction = direction.map { $0 / norm }
            // Fix the sign: the largest entry positive, so reports are reproducible.
            if let largest = direction.indices.max(by: { abs(direction[$0]) < abs(direction[$1]) }), direction[largest] < 0 {
                direction = direction.map { -$0 }
            }
            components.append(direction)
            variances.append(max(0, eigen.values[column]) / Double(n))
        }
        return (components, variances)
    }

    /// The coordinates of `point` on the components (after subtracting the mean).
    public func project(_ point: [Double]) -> [Double] {
        components.map { component in
            zip(zip(point, mean), component).reduce(0) { $0 + ($1.0.0 - $1.0.1) * $1.1 }
        }
    }
}
