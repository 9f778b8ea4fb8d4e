// Moving parameters between the ParameterStore (MeanFieldTransformer's names and layouts) and the
// fused engine's packed buffers, and gradients back.
import MeanFieldCore

enum FusedParameters {
    typealias Names = MeanFieldTransformer

    /// Copies every parameter of `store` into the workspace's packed layouts:
    /// Wcat = [W_KQ; W_OV] or [Q; K; V] (row-major concatenation along the heads axis), Ocat[p, j·d_h + h] = O_j[p, h].
    static func load<T: TensorScalar>(_ store: ParameterStore<T>, into w: FusedWorkspace<T>) {
        let shape = w.shape, config = shape.config
        let D = shape.dimension, M = shape.heads, width = config.headDimension
        func copy(_ name: String, _ target: UnsafeMutablePointer<T>, expected: [Int]) {
            let tensor = store[name]
            precondition(tensor.shape == expected, "FusedTransformerEngine: parameter '\(name)' has shape \(tensor.shape), expected \(expected)")
            tensor.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
        }
        for layer in 0..<config.layers {
            let packed = w.projectionWeights[layer].pointer
            switch config.attention {
            case .merged:
                copy(Names.keyQueryName(layer), packed, expected: [M, D, D])
                copy(Names.outputValueName(layer), packed + M * D * D, expected: [M, D, D])
            case .factored:
                copy(Names.queryName(layer), packed, expected: [M, width, D])
                copy(Names.keyName(layer), packed + M * width * D, expected: [M, width, D])
                copy(Names.valueName(layer), packed + 2 * M * width * D, expected: [M, width, D])
                let output = store[Names.outputName(layer)]
                precondition(output.shape == [M, D, width], "FusedTransformerEngine: '\(Names.outputName(layer))' has shape \(output.shape)")
                let ocat = w.outputWeights[layer].pointer
                output.withUnsafeBufferPointer { o in
                    for j in 0..<M { for p in 0..<D { for h in 0..<width {
                        ocat[p * M * width + j * width + h] = o[(j * D + p) * width + h]
                    } } }
                }
            }
            if shape.units > 0 {
                copy(Names.ffnInName(layer), w.ffnIn[layer].pointer, expected: [shape.units, D])
                copy(Names.ffnBiasName(layer), w.ffnBias[layer].pointer, expected: [shape.units])
                copy(Names.ffnOutName(layer), w.ffnOut[layer].pointer, expected: [shape.units, D])
            }
        }
        if config.readout.isClassification {
            copy(Names.readoutWeightName, w.readoutWeight.pointer, expected: [config.classes, D])
            copy(Names.readoutBiasName, w.readoutBias.pointer, expected: [config.classes])
        }
    }

    /// The gradients in the workspace as tensors keyed by parameter name (store layouts).
    static func gradients<T: TensorScalar>(_ w: FusedWorkspace<T>) -> [String: Tensor<T>] {
        let shape = w.shape, config = shape.config
        let D = shape.dimension, M = shape.heads, width = config.headDimension, units = shape.units
        func tensor(_ shape: [Int], _ source: UnsafePointer<T>) -> Tensor<T> {
            Tensor(shape: shape) { out in out.baseAddress!.update(from: source, count: out.count) }
        }
        var result: [String: Tensor<T>] = [:]
        for layer in 0..<config.layers {
            let packed = w.projectionWeightGradients[layer].pointer
            switch config.attention {
            case .merged:
                result[Names.keyQueryName(layer)] = tensor([M, D, D], packed)
                result[Names.outputValueName(layer)] = tensor([M, D, D], packed + M * D * D)
            case .factored:
                result[Names.queryName(layer)] = tensor([M, width, D], packed)
                result[Names.keyName(layer)] = tensor([M, width, D], packed + M * width * D)
                result[Names.valueName(layer)] = tensor([M, width, D], packed + 2 * M * width * D)
                let ocat = w.outputWeightGradients[layer].pointer
                result[Names.outputName(layer)] = Tensor(shape: [M, D, width]) { o in
                    for j in 0..<M { for p in 0..<D { for h in 0..<width {
                        o[(j * D + p) * width + h] = ocat[p * M * width + j * width + h]
                    } } }
                }
            }
            if units > 0 {
                result[Names.ffnInName(layer)] = tensor([units, D], w.ffnInGradients[layer].pointer)
                result[Names.ffnBiasName(layer)] = tensor([units], w.ffnBiasGradients[layer].pointer)
                result[Names.ffnOutName(layer)] = tensor([units, D], w.ffnOutGradients[layer].pointer)
            }
        }
        if config.readout.isClassification {
            result[Names.readoutWeightName] = tensor([config.classes, D], w.readoutWeightGradient.pointer)
            result[Names.readoutBiasName] = tensor([config.classes], w.readoutBiasGradient.pointer)
        }
        return result
    }
}
