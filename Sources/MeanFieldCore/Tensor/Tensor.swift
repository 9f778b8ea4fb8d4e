/// A dense, row-major, contiguous n-dimensional array of `Float` or `Double`.
///
/// `Tensor` is a value type: copies share storage until one is written (copy-on-write through
/// `Array`). Every op returns a new contiguous tensor; views such as transposes are materialised,
/// which keeps kernels simple (one layout) and makes every result safe to hand to another thread.
/// Gradients are taken through ``Variable``, which wraps a tensor.
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The extent of each axis, outermost first. A scalar tensor has shape `[]` and one element.
    public let shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public internal(set) var scalars: [Scalar]

    /// Wraps `scalars` (row-major) with `shape`. Fails if the counts disagree.
    public init(shape: [Int], scalars: [Scalar]) {
        checkShape(shape, op: "Tensor(shape:scalars:)")
        let count = shape.reduce(1, *)
        guard scalars.count == count else {
            shapeFailure("Tensor(shape:scalars:)", "shape \(shape) needs \(count) elements, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` with every element equal to `value`.
    public init(shape: [Int], repeating value: Scalar) {
        checkShape(shape, op: "Tensor(shape:repeating:)")
        self.shape = shape
        self.scalars = [Scalar](repeating: value, count: shape.reduce(1, *))
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Scalar) {
        self.shape = []
        self.scalars = [value]
    }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Scalar]) {
        self.shape = [values.count]
        self.scalars = values
    }

    /// A tensor of `shape` whose elements are written by `initializer` into uninitialized storage
    /// of exactly `count` elements (every element must be written).
    @inlinable
    public init(shape: [Int], unsafeUninitialized initializer: (inout UnsafeMutableBufferPointer<Scalar>) -> Void) {
        let count = shape.reduce(1, *)
        self.init(validatedShape: shape, scalars: [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            initializer(&buffer)
            initialized = count
        })
    }

    @usableFromInline
    init(validatedShape shape: [Int], scalars: [Scalar]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// All zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// All ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { scalars.count }
    /// The single element of a one-element tensor.
    public var scalar: Scalar {
        guard scalars.count == 1 else { shapeFailure("scalar", "tensor of shape \(shape) has \(scalars.count) elements, not 1") }
        return scalars[0]
    }

    /// Element access by full index, e.g. `t[i, j]` (bounds-checked; for tests and small code).
    public subscript(_ index: Int...) -> Scalar {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        guard index.count == shape.count else {
            shapeFailure("subscript", "index \(index) has \(index.count) components for shape \(shape)")
        }
        var flat = 0
        for (axis, i) in index.enumerated() {
            guard i >= 0 && i < shape[axis] else { shapeFailure("subscript", "index \(index) out of range for shape \(shape)") }
            flat = flat * shape[axis] + i
        }
        return flat
    }

    /// Calls `body` with the elements' memory (read-only).
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the elements' memory (writable); the shape cannot change.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// The same elements converted to another scalar type.
    public func converted<Other: TensorScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(validatedShape: shape, scalars: scalars.map { Other($0) })
    }
}

extension Tensor: Equatable {
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool { lhs.shape == rhs.shape && lhs.scalars == rhs.scalars }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Scalar.dtypeName)>\(shape)[\(shown)\(scalars.count > 8 ? ", …" : "")]"
    }
}

/// Stops with a one-line message naming the op and the shapes involved (the
/// rule for all bad-input errors in the core is "name the op and both shapes").
func shapeFailure(_ op: String, _ detail: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("MeanFieldCore.\(op): \(detail)", file: file, line: line)
}

func checkShape(_ shape: [Int], op: String) {
    for extent in shape where extent < 0 {
        shapeFailure(op, "negative extent in shape \(shape)")
    }
}

/// Normalises a possibly negative axis (`-1` = last) and checks it is in range.
func normalizedAxis(_ axis: Int, rank: Int, op: String, shape: [Int]) -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    guard resolved >= 0 && resolved < rank else {
        shapeFailure(op, "axis \(axis) out of range for shape \(shape) (rank \(rank))")
    }
    return resolved
}

/// Splits `shape` around `axis` into (product of outer extents, extent, product of inner extents):
/// the (outer, length, inner) layout every along-an-axis kernel uses.
func axisLayout(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
}
