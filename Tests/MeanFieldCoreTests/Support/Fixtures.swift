/// Loading the NumPy reference fixtures (Fixtures/*.json, written by scripts/make_core_fixtures.py)
/// and applying each case's op to its inputs in `Float` or `Double`.
import Foundation
import Testing
@testable import MeanFieldCore

/// A tensor as stored in a fixture: shape and row-major float64 data.
struct FixtureTensor: Decodable {
    let shape: [Int]
    let data: [Double]

    var tensor: Tensor<Double> { Tensor(shape: shape, scalars: data) }
}

/// One reference case: an op, its parameters, its inputs and NumPy's outputs.
struct FixtureCase: Decodable {
    let name: String
    let op: String
    let inputs: [FixtureTensor]
    let outputs: [FixtureTensor]
    var axes: [Int]?
    var axis: Int?
    var keepingDimensions: Bool?
    var transposeSelf: Bool?
    var transposeOther: Bool?
    var indices: [Int]?
    var sizes: [Int]?
    var labels: [Int]?
    var classes: Int?
    var range: [Int]?
    var shape: [Int]?
    var permutation: [Int]?
    var scalar: Double?
    var function: String?
    var epsilon: Double?
}

struct FixtureFile: Decodable {
    let generator: String
    let cases: [FixtureCase]

    /// Reads `Fixtures/<name>.json` from the test bundle.
    static func load(_ name: String) throws -> FixtureFile {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                               "fixture \(name).json missing: run scripts/make_core_fixtures.py")
        return try JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: url))
    }
}

extension FixtureCase {
    /// The case's op applied to its inputs converted to `T`.
    func evaluate<T: TensorScalar>(as _: T.Type) throws -> [Tensor<T>] {
        let x: [Tensor<T>] = inputs.map { $0.tensor.converted(to: T.self) }
        func scalarParameter() throws -> T { T(try #require(scalar, "\(name): no scalar")) }
        switch op {
        case "add": return [x[0] + x[1]]
        case "subtract": return [x[0] - x[1]]
        case "multiply": return [x[0] * x[1]]
        case "divide": return [x[0] / x[1]]
        case "addScalar": return [x[0] + (try scalarParameter())]
        case "subtractScalar": return [x[0] - (try scalarParameter())]
        case "multiplyScalar": return [x[0] * (try scalarParameter())]
        case "scalarMultiply": return [(try scalarParameter()) * x[0]]
        case "divideScalar": return [x[0] / (try scalarParameter())]
        case "unary":
            let function = try #require(UnaryFunction(rawValue: function ?? ""), "\(name): unknown function")
            return [x[0].map(function)]
        case "sum": return [x[0].sum(alongAxes: axes ?? [], keepingDimensions: keepingDimensions ?? false)]
        case "mean": return [x[0].mean(alongAxes: axes ?? [], keepingDimensions: keepingDimensions ?? false)]
        case "max": return [x[0].max(alongAxes: axes ?? [], keepingDimensions: keepingDimensions ?? false)]
        case "logSumExp": return [x[0].logSumExp(alongAxes: axes ?? [], keepingDimensions: keepingDimensions ?? false)]
        case "matmul":
            return [x[0].matmul(x[1], transposeSelf: transposeSelf ?? false, transposeOther: transposeOther ?? false)]
        case "reshape": return [x[0].reshaped(try #require(shape))]
        case "permute": return [x[0].permuted(try #require(permutation))]
        case "transpose": return [x[0].transposed()]
        case "slice":
            let bounds = try #require(range)
            return [x[0].slice(axis: try #require(axis), bounds[0]..<bounds[1])]
        case "concatenate": return [Tensor.concatenate(x, axis: try #require(axis))]
        case "split": return x[0].split(axis: try #require(axis), sizes: try #require(sizes))
        case "softmax": return [x[0].softmax(axis: try #require(axis))]
        case "logSoftmax": return [x[0].logSoftmax(axis: try #require(axis))]
        case "layerNorm": return [x[0].layerNormalized(epsilon: T(try #require(epsilon)))]
        case "gather": return [x[0].gathering(try #require(indices), alongAxis: try #require(axis))]
        case "oneHot": return [Tensor<T>.oneHot(try #require(labels), classes: try #require(classes))]
        case "meanSquaredError": return [x[0].meanSquaredError(x[1])]
        case "crossEntropy": return [x[0].crossEntropy(labels: try #require(labels))]
        default:
            Issue.record("\(name): unknown op \(op)")
            return []
        }
    }
}

/// Tolerances for comparing with float64 NumPy: `Double` results differ only by rounding order and
/// libm (a few ulps); `Float` results also carry the rounding of their inputs to `Float`, so the
/// absolute part scales with the largest reference value.
struct FixtureTolerance {
    var doubleRelative = 1e-12, doubleAbsolute = 1e-12
    var floatRelative = 2e-5, floatAbsolute = 2e-5
}

/// Checks every case of `Fixtures/<file>.json` in `Double` and in `Float`.
func checkFixtures(_ file: String, tolerance: FixtureTolerance = FixtureTolerance(),
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let fixture = try FixtureFile.load(file)
    #expect(!fixture.cases.isEmpty, "\(file).json has no cases", sourceLocation: sourceLocation)
    for fixtureCase in fixture.cases {
        let expected = fixtureCase.outputs.map(\.tensor)
        let scale = expected.flatMap(\.scalars).reduce(1.0) { Swift.max($0, Swift.abs($1)) }
        let doubles = try fixtureCase.evaluate(as: Double.self)
        let floats = try fixtureCase.evaluate(as: Float.self)
        #expect(doubles.count == expected.count && floats.count == expected.count,
                "\(fixtureCase.name): \(doubles.count) outputs, expected \(expected.count)", sourceLocation: sourceLocation)
        for (index, want) in expected.enumerated() where index < doubles.count && index < floats.count {
            expectClose(doubles[index], want, relative: tolerance.doubleRelative, absolute: tolerance.doubleAbsolute * scale,
                        "\(file): \(fixtureCase.name) output \(index)", sourceLocation: sourceLocation)
            expectClose(floats[index], want, relative: tolerance.floatRelative, absolute: tolerance.floatAbsolute * scale,
                        "\(file): \(fixtureCase.name) output \(index)", sourceLocation: sourceLocation)
        }
    }
}
