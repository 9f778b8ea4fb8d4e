/// How one run is spread over the processes of an MPI job (`mpirun -np K meanfield train …`;
/// docs/distributed.md): `none`, one process; `data`, data-parallel — each rank computes R and ∇R
/// on its contiguous share of every batch, the shares are summed in rank order (weights n_r/B, so
/// the sum is the whole batch's mean, theory §1.3) and every rank applies the same update;
/// `particle`, particle-parallel — each rank holds a share of every layer's heads and units
/// (``ParticleShare``), every block's output is the rank-ordered sum of the ranks' partial averages,
/// and each rank updates its own particles.
public enum DistributedMode: String, Codable, Sendable, CaseIterable {
    case none, data, particle
}
