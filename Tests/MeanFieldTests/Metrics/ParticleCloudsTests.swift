// Particle clouds of a layer and ParticleDistances (Sources/MeanField/Metrics/ParticleClouds.swift).
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct ParticleCloudsTests {
    /// Layer 0 merged (2 heads, D = 2, here W_KQ and W_OV as [2, 1, 2]), layer 1 factored, both with
    /// 3 feed-forward units of D = 2.
    private func handStore() -> ParameterStore<Double> {
        var store = ParameterStore<Double>()
        store.set("layer0.attention.keyQuery", Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4]), flowScale: 4)
        store.set("layer0.attention.outputValue", Tensor(shape: [2, 1, 2], scalars: [5, 6, 7, 8]), flowScale: 4)
        store.set("layer0.ffn.in", Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]), flowScale: 6)
        store.set("layer0.ffn.bias", Tensor(shape: [3], scalars: [-1, -2, -3]), flowScale: 6)
        store.set("layer0.ffn.out", Tensor(shape: [3, 2], scalars: [10, 20, 30, 40, 50, 60]), flowScale: 6)
        store.set("layer1.attention.query", Tensor(shape: [2, 1, 1], scalars: [1, 2]), flowScale: 4)
        store.set("layer1.attention.key", Tensor(shape: [2, 1, 1], scalars: [3, 4]), flowScale: 4)
        store.set("layer1.attention.value", Tensor(shape: [2, 1, 1], scalars: [5, 6]), flowScale: 4)
        store.set("layer1.attention.output", Tensor(shape: [2, 1, 1], scalars: [7, 8]), flowScale: 4)
        store.set("readout.weight", Tensor(shape: [1, 2], scalars: [0, 0]), flowScale: 1)
        return store
    }

    @Test func cloudsFromAHandBuiltStore() throws {
        let store = handStore()
        let merged = try ParticleClouds.heads(store, layer: 0)
        #expect(merged.shape == [2, 4] && merged.scalars == [1, 2, 5, 6, 3, 4, 7, 8])
        let factored = try ParticleClouds.heads(store, layer: 1)
        #expect(factored.shape == [2, 4] && factored.scalars == [1, 3, 5, 7, 2, 4, 6, 8])
        let units = try ParticleClouds.units(store, layer: 0)
        #expect(units.shape == [3, 5] && units.scalars == [1, 2, -1, 10, 20, 3, 4, -2, 30, 40, 5, 6, -3, 50, 60])
        #expect(ParticleClouds.layers(in: store) == 2)
        #expect(throws: RunError.self) { try ParticleClouds.units(store, layer: 1) }
        #expect(throws: RunError.self) { try ParticleClouds.heads(store, layer: 2) }
        // Float stores give the same cloud in Double.
        var floats = ParameterStore<Float>()
        floats.set("layer0.attention.keyQuery", Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4]), flowScale: 4)
        #expect(try ParticleClouds.heads(floats, layer: 0).scalars == [1, 2, 3, 4])
    }

    @Test func modelCloudShapesMatchTheConfig() throws {
        let merged = TransformerConfig(dimension: 3, heads: 5, ffnUnits: 7, layers: 2)
        let store: ParameterStore<Double> = MeanFieldTransformer(config: merged).initialParameters(seed: 1)
        #expect(try ParticleClouds.heads(store, layer: 1).shape == [5, 2 * 9])
        #expect(try ParticleClouds.units(store, layer: 1).shape == [7, 2 * 3 + 1])
        #expect(try ParticleClouds.heads(store, layer: 1)[2, 4] == store["layer1.attention.keyQuery"][2, 1, 1])
        let factored = TransformerConfig(dimension: 4, heads: 3, ffnUnits: 2, layers: 1, attention: .factored, headDimension: 2)
        let other: ParameterStore<Double> = MeanFieldTransformer(config: factored).initialParameters(seed: 1)
        #expect(try ParticleClouds.heads(other, layer: 0).shape == [3, 4 * 2 * 4])
    }

    @Test func distancesVanishOnTheSameStoreAndSeeATranslate() throws {
        let config = TransformerConfig(dimension: 3, heads: 24, ffnUnits: 20, layers: 2)
        let store: ParameterStore<Double> = MeanFieldTransformer(config: config).initialParameters(seed: 7)
        let same = try ParticleDistances.between(store, store, layer: 1)
        for distances in [same.heads, same.units] {
            #expect(distances.marginalW2 == 0 && distances.normW2 == 0 && distances.slicedW2 == 0)
            #expect(abs(distances.sinkhorn) < 1e-8 && distances.sinkhornConverged)
            #expect(distances.mmdSquaredBiased < 1e-12)
        }
        // Shift every W_KQ entry by c: the head cloud moves by v with c on 9 of its 18 coordinates,
        // so the coordinate-marginal W2² is exactly c²·9/18 and S_ε ≈ W2² = |v|² = 9c².
        let c = 0.5
        var moved = store
        moved["layer1.attention.keyQuery"] = Tensor(shape: store["layer1.attention.keyQuery"].shape,
                                                    scalars: store["layer1.attention.keyQuery"].scalars.map { $0 + c })
        let apart = try ParticleDistances.between(moved, store, layer: 1)
        #expect(abs(apart.heads.marginalW2 - (c * c / 2).squareRoot()) < 1e-12)
        #expect(apart.heads.slicedW2 > 0 && apart.heads.mmdSquaredBiased > 0)
        #expect(abs(apart.heads.sinkhorn - 9 * c * c) < 0.1 * 9 * c * c, "S = \(apart.heads.sinkhorn) vs |v|² = \(9 * c * c)")
        #expect(apart.units.slicedW2 == 0 && apart.units.marginalW2 == 0)
        #expect(apart.layer == 1 && apart.heads.particles == 24 && apart.heads.dimension == 18)
    }
}
