// The Vision Transformer: patchify against a hand loop; the whole model's gradient (embedding,
// particles, readout) against central finite differences in Double, with a class token and with
// mean pooling, on both engines.
import MeanField
import MeanFieldCore
import Testing

@Test func patchifyMatchesHandLoop() {
    var random = PhiloxRandom(seed: 3)
    let (B, C, H, W, p) = (2, 3, 6, 9, 3)
    let images: Tensor<Double> = random.normal([B, C, H, W])
    let patches = PatchEmbedding.patches(images, patch: p)
    #expect(patches.shape == [B, (H / p) * (W / p), C * p * p])
    for b in 0..<B {
        for r in 0..<(H / p) {
            for c in 0..<(W / p) {
                var expected: [Double] = []
                for ch in 0..<C { for y in (r * p)..<(r * p + p) { for x in (c * p)..<(c * p + p) { expected.append(images[b, ch, y, x]) } } }
                let index = r * (W / p) + c
                let actual = (0..<(C * p * p)).map { patches[b, index, $0] }
                #expect(actual == expected)
            }
        }
    }
}

private func smallViT(classToken: Bool, attention: AttentionKind) -> VisionTransformerConfig {
    VisionTransformerConfig(channels: 1, height: 8, width: 8, patch: 4, classToken: classToken, classes: 3,
                            transformer: TransformerConfig(dimension: 6, heads: 2, ffnUnits: 3, layers: 2, attention: attention,
                                                           headDimension: 3, activation: .gelu, preNorm: attention == .factored, initStd: 0.5))
}

@Test(arguments: [(false, AttentionKind.factored, EngineKind.fused), (true, .factored, .fused), (true, .merged, .autodiff), (false, .merged, .fused)])
func visionTransformerGradientMatchesFiniteDifferences(classToken: Bool, attention: AttentionKind, engine: EngineKind) {
    let config = smallViT(classToken: classToken, attention: attention)
    var model = VisionTransformer<Double>(config: config, engine: engine)
    var store = model.initialParameters(seed: 7)
    var random = PhiloxRandom(seed: 11)
    // Move the readout, bias and class token off their starts so every gradient is non-trivial.
    store[MeanFieldTransformer.readoutWeightName] = random.normal([3, 6])
    store[MeanFieldTransformer.readoutBiasName] = random.normal([3])
    store[VisionTransformer<Double>.patchBiasName] = random.normal([6], standardDeviation: 0.3)
    store[VisionTransformer<Double>.positionName] = random.normal([6, config.tokens], standardDeviation: 0.3)
    let images: Tensor<Double> = random.normal([3, 1, 8, 8])
    let labels = [0, 2, 1]
    let (_, gradients) = model.riskAndGradients(store, images: images, labels: labels)
    #expect(gradients.count == store.names.count)
    let h = 1e-5
    var worst = 0.0, worstName = ""
    for (index, name) in store.names.enumerated() {
        let tensor = store[name]
        #expect(gradients[index].shape == tensor.shape)
        for entry in 0..<tensor.count {
            var plus = tensor.scalars, minus = tensor.scalars
            plus[entry] += h
            minus[entry] -= h
            var up = store, down = store
            up[name] = Tensor(shape: tensor.shape, scalars: plus)
            down[name] = Tensor(shape: tensor.shape, scalars: minus)
            let numeric = (model.evaluate(up, images: images, labels: labels).risk - model.evaluate(down, images: images, labels: labels).risk) / (2 * h)
            let error = abs(numeric - gradients[index].scalars[entry]) / max(1e-4, abs(numeric))
            if error > worst { worst = error; worstName = "\(name)[\(entry)]" }
        }
    }
    #expect(worst < 1e-5, "worst relative error \(worst) at \(worstName)")
}

@Test func visionTransformerStoreNamesShapesAndFlowScales() {
    let config = smallViT(classToken: true, attention: .factored)
    let store = VisionTransformer<Float>(config: config).initialParameters(seed: 1)
    #expect(Array(store.names.prefix(4)) == ["embedding.patch.weight", "embedding.patch.bias", "embedding.position", "embedding.classToken"])
    #expect(store["embedding.patch.weight"].shape == [6, 16])
    #expect(store["embedding.position"].shape == [6, 5])
    #expect(store.flowScales["embedding.patch.weight"] == 1)
    #expect(store.flowScales["layer0.attention.query"] == 4)   // L·M = 2·2
    #expect(config.transformer.readout == .classToken)
    #expect(smallViT(classToken: false, attention: .merged).transformer.readout == .classification)
    #expect(throws: RunError.self) { try VisionTransformerConfig(channels: 1, height: 28, width: 28, patch: 5, classes: 10, transformer: config.transformer).validate() }
}
