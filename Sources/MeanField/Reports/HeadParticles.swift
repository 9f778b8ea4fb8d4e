import Foundation

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
            let values = decode(tensor)
            let rowLength = values.count / heads
            for head in 0..<heads {
                particles[head] += values[(head * rowLength)..<((head + 1) * rowLength)]
            }
        }
        return HeadParticles(particles: particles, step: Int(file.metadata["step"] ?? "") ?? 0,
                             meanFieldTime: file.metadata["t"].flatMap(Double.init))
    }

    /// The elements of a tensor as `Double` (F32 and F64, little-endian).
    static func decode(_ entry: SafeTensorsFile.Entry) -> [Double] {
        let bytes = entry.bytes
        switch entry.dtype {
        case .F32:
            return stride(from: 0, to: bytes.count - 3, by: 4).map { offset in
                let bits = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
                return Double(Float(bitPattern: bits))
            }
        case .F64:
            return stride(from: 0, to: bytes.count - 7, by: 8).map { offset in
                var bits: UInt64 = 0
                for byte in 0..<8 { bits |= UInt64(bytes[offset + byte]) << (8 * UInt64(byte)) }
                return Double(bitPattern: bits)
            }
        }
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
    public init(points: [[Double]], count: Int = 2, iterations: Int = 500) {
        let n = points.count, dimension = points.first?.count ?? 0
        let mean = (0..<dimension).map { j in points.reduce(0) { $0 + $1[j] } / Double(max(n, 1)) }
        let centred = points.map { point in zip(point, mean).map { $0 - $1 } }
        self.mean = mean
        totalVariance = centred.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } } / Double(max(n, 1))
        (components, variances) = Self.topComponents(centred, count: count, iterations: iterations)
    }

    /// The top eigenvectors of the covariance of the centred rows X (n × P) through the small Gram
    /// matrix G = X Xᵀ (n × n): if G u = μ u then v = Xᵀu / |Xᵀu| is a unit eigenvector of the
    /// covariance XᵀX / n with eigenvalue μ / n. G's eigenvectors come from power iteration with
    /// deflation. Cost O(n²P) once plus O(n²) per iteration, so thousands of dimensions are cheap.
    static func topComponents(_ centred: [[Double]], count: Int, iterations: Int) -> ([[Double]], [Double]) {
        let n = centred.count, dimension = centred.first?.count ?? 0
        guard n > 0, dimension > 0 else { return ([], []) }
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var sum = 0.0
            for index in a.indices { sum += a[index] * b[index] }
            return sum
        }
        var gram = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in i..<n {
                gram[i][j] = dot(centred[i], centred[j])
                gram[j][i] = gram[i][j]
            }
        }
        var components: [[Double]] = [], variances: [Double] = []
        var found: [[Double]] = []   // eigenvectors of G, for deflation
        for component in 0..<min(count, n, dimension) {
            // Deterministic start: a fixed, non-degenerate vector.
            var vector = (0..<n).map { 1 + 0.37 * sin(Double($0 * (component + 2) + 1)) }
            var eigenvalue = 0.0
            for _ in 0..<iterations {
                var next = gram.map { dot($0, vector) }
                for earlier in found {
                    let overlap = dot(next, earlier)
                    for i in 0..<n { next[i] -= overlap * earlier[i] }
                }
                let norm = dot(next, next).squareRoot()
                guard norm > 1e-300 else { eigenvalue = 0; break }
                let change = zip(next, vector).reduce(0) { $0 + abs($1.0 / norm - $1.1) }
                vector = next.map { $0 / norm }
                eigenvalue = norm
                if change < 1e-13 * Double(n) { break }
            }
            found.append(vector)
            // Back to parameter space: v = Xᵀu, normalised.
            var direction = [Double](repeating: 0, count: dimension)
            for (row, weight) in zip(centred, vector) where weight != 0 {
                for j in 0..<dimension { direction[j] += row[j] * weight }
            }
            let norm = dot(direction, direction).squareRoot()
            guard norm > 0 else { break }   // the cloud has rank < count
            direction = direction.map { $0 / norm }
            // Fix the sign: the largest entry positive, so reports are reproducible.
            if let largest = direction.indices.max(by: { abs(direction[$0]) < abs(direction[$1]) }), direction[largest] < 0 {
                direction = direction.map { -$0 }
            }
            components.append(direction)
            variances.append(eigenvalue / Double(n))
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
