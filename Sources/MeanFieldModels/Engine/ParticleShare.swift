// One process's share of every layer's particles in particle-parallel training (docs/distributed.md):
// which heads and units it holds, how a store is cut to that share and gathered back, and the
// rank-ordered sum of the layers' partial outputs that the fused engine calls.
import MeanFieldCore
import MeanFieldKernels

/// Rank r's share of the particles of every layer when one run is split over the K processes of an
/// MPI job by particles (`--distributed particle`, docs/distributed.md): heads ⌊M·r/K⌋ ..< ⌊M·(r+1)/K⌋
/// and units ⌊M′·r/K⌋ ..< ⌊M′·(r+1)/K⌋ of each layer. A block's output is an average over its
/// particles (theory §1.2), so it is the sum over ranks of each rank's partial average taken with the
/// whole model's divisors 1/M and 1/M′; the engine forms that sum in rank order after every block,
/// forward and backward (``sumOverRanks(_:count:)``). Embeddings and the read-out are replicated:
/// they see only summed activations, so every rank computes the same risk and the same gradients for them.
public struct ParticleShare: Sendable {
    /// The MPI job.
    public let group: ProcessGroup
    /// The whole model.
    public let model: TransformerConfig
    /// The engine's model on this rank: its heads and units (the divisors stay the whole model's).
    public let localModel: TransformerConfig
    /// For each particle tensor of the model (by parameter name): whether its rows are heads (true)
    /// or units (false). Every other tensor is replicated.
    private let axes: [String: Bool]

    /// Fails with a one-line reason when some rank would hold no head or no unit of a layer.
    public init(group: ProcessGroup, model: TransformerConfig) throws {
        let K = group.size
        guard model.heads >= K, model.ffnUnits == 0 || model.ffnUnits >= K else {
            let most = model.ffnUnits == 0 ? model.heads : min(model.heads, model.ffnUnits)
            throw RunError("--distributed particle over \(K) processes: each rank holds a share of every layer's M = \(model.heads) heads and "
                           + "M′ = \(model.ffnUnits) units, so both must be at least \(K); start at most \(most) processes or raise --heads / --ffn-units")
        }
        (self.group, self.model) = (group, model)
        var local = model
        let share = BatchShard(index: group.rank, count: K)
        local.heads = share.range(of: model.heads).count
        local.ffnUnits = share.range(of: model.ffnUnits).count
        localModel = local
        typealias Names = MeanFieldTransformer
        var axes: [String: Bool] = [:]
        for layer in 0..<model.layers {
            for name in [Names.keyQueryName(layer), Names.outputValueName(layer), Names.queryName(layer), Names.keyName(layer),
                         Names.valueName(layer), Names.outputName(layer)] { axes[name] = true }
            for name in [Names.ffnInName(layer), Names.ffnBiasName(layer), Names.ffnOutName(layer)] { axes[name] = false }
        }
        self.axes = axes
    }

    /// Whether `name` (a parameter, or its optimizer state `optimizer.<kind>.<parameter>`) is a particle
    /// tensor, and then whether its rows are heads.
    private func headsAxis(of name: String) -> Bool? {
        if let axis = axes[name] { return axis }
        let parts = name.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "optimizer" else { return nil }
        return axes[String(parts[2])]
    }

    /// Rank `rank`'s rows of the tensor `name`: nil for a replicated tensor.
    private func rows(of name: String, rank: Int) -> Range<Int>? {
        headsAxis(of: name).map { BatchShard(index: rank, count: group.size).range(of: $0 ? model.heads : model.ffnUnits) }
    }

    /// This rank's rows of a whole-model tensor (itself for a replicated one, or one already cut).
    public func local<T: TensorScalar>(_ name: String, _ tensor: Tensor<T>) -> Tensor<T> {
        guard let heads = headsAxis(of: name), tensor.shape.first == (heads ? model.heads : model.ffnUnits) else { return tensor }
        return tensor.slice(axis: 0, rows(of: name, rank: group.rank)!)
    }

    /// This rank's share of a whole-model store (flow scales and decay factors kept).
    public func local<T: TensorScalar>(_ store: ParameterStore<T>) -> ParameterStore<T> {
        var result = ParameterStore<T>()
        for name in store.names {
            result.set(name, local(name, store[name]), flowScale: store.flowScales[name]!, decayFactor: store.decayFactors[name]!)
        }
        return result
    }

    /// The whole-model tensors from every rank's share (`tensors` in the same names and order on
    /// every rank): the particle tensors' rows gathered in rank order (exact; one MPI_Allgatherv for
    /// all of them), replicated tensors as they are. A collective: every rank calls it at the same point.
    public func gathered<T: TensorScalar>(_ tensors: [(name: String, tensor: Tensor<T>)]) -> [(name: String, tensor: Tensor<T>)] {
        let K = group.size
        // Elements per row of each particle tensor, and each rank's number of values.
        let particles = tensors.indices.filter { rows(of: tensors[$0].name, rank: group.rank) != nil }
        let rowSizes = particles.map { index in tensors[index].tensor.shape.dropFirst().reduce(1, *) }
        let counts = (0..<K).map { rank in
            zip(particles, rowSizes).reduce(0) { $0 + rows(of: tensors[$1.0].name, rank: rank)!.count * $1.1 }
        }
        var local: [Double] = []
        local.reserveCapacity(counts[group.rank])
        for index in particles { tensors[index].tensor.withUnsafeBufferPointer { for value in $0 { local.append(Double(value)) } } }
        let all = group.gatherInRankOrder(local, counts: counts)
        // Rank r's block holds its rows of each particle tensor in order; a whole tensor is the ranks' rows in rank order.
        var wholes: [Int: [T]] = [:]
        var offset = 0
        for rank in 0..<K {
            for (index, rowSize) in zip(particles, rowSizes) {
                let count = rows(of: tensors[index].name, rank: rank)!.count * rowSize
                wholes[index, default: []].append(contentsOf: all[offset ..< offset + count].lazy.map { T($0) })
                offset += count
            }
        }
        return tensors.enumerated().map { index, entry in
            guard let scalars = wholes[index] else { return entry }
            let shape = [scalars.count / max(1, entry.tensor.shape.dropFirst().reduce(1, *))] + entry.tensor.shape.dropFirst()
            return (entry.name, Tensor(shape: shape, scalars: scalars))
        }
    }

    /// The whole-model store from every rank's share (a collective, ``gathered(_:)-([(name:tensor:)])``).
    public func gathered<T: TensorScalar>(_ store: ParameterStore<T>) -> ParameterStore<T> {
        var result = ParameterStore<T>()
        for (name, tensor) in gathered(store.names.map { ($0, store[$0]) }) {
            result.set(name, tensor, flowScale: store.flowScales[name]!, decayFactor: store.decayFactors[name]!)
        }
        return result
    }

    /// The whole-model gradients from every rank's share of them (one per parameter of `store`, in its
    /// order; a collective, ``gathered(_:)-([(name:tensor:)])``).
    public func gathered<T: TensorScalar>(_ gradients: [Tensor<T>], of store: ParameterStore<T>) -> [Tensor<T>] {
        gathered(Array(zip(store.names, gradients))).map(\.tensor)
    }

    /// Replaces `values[0 ..< count]` on every rank by its sum over the ranks, in rank order (in the
    /// run's precision; the same bits on every rank): the block's output from the ranks' partial averages.
    func sumOverRanks<T: TensorScalar>(_ values: UnsafeMutablePointer<T>, count: Int) {
        func sumInPlace<S>(_ pointer: UnsafeMutablePointer<S>, _ sum: (inout [S]) -> Void) {
            var buffer = Array(UnsafeBufferPointer(start: pointer, count: count))
            sum(&buffer)
            buffer.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
        }
        if T.self == Float.self {
            sumInPlace(FusedKernels.float(values)) { group.sumInRankOrder(&$0) }
        } else if T.self == Double.self {
            sumInPlace(FusedKernels.double(values)) { group.sumInRankOrder(&$0) }
        } else {
            FusedKernels.unsupportedScalar(T.self)
        }
    }
}
