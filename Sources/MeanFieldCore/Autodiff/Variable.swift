/// A node of a reverse-mode autodiff graph: a tensor value, the variables it was computed from,
/// and its *pullback* (vector-Jacobian product), which maps the gradient of a scalar with respect
/// to this value to the gradients with respect to each parent.
///
/// The mechanism is micrograd's (one screen): build the graph by calling ops on variables, then
/// ``gradients(of:withRespectTo:)`` walks it once in reverse topological order. The care lives in
/// each op's pullback (Autodiff/Variable+Ops.swift), each checked against finite differences.
public final class Variable<Scalar: TensorScalar> {
    /// The value computed by the forward pass.
    public let value: Tensor<Scalar>
    /// Whether any gradient flows into this node (a leaf created with `requiresGradient`, or a
    /// result of an op with such a parent).
    public let requiresGradient: Bool
    let parents: [Variable]
    let pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>])?

    /// A leaf: a parameter (`requiresGradient: true`) or a constant input.
    public init(_ value: Tensor<Scalar>, requiresGradient: Bool = true) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.parents = []
        self.pullback = nil
    }

    /// A constant: no gradient is ever computed for it.
    public static func constant(_ value: Tensor<Scalar>) -> Variable { Variable(value, requiresGradient: false) }

    /// The result of an op. `pullback` must return one gradient per parent, each of its parent's shape.
    init(_ value: Tensor<Scalar>, parents: [Variable], pullback: @escaping (Tensor<Scalar>) -> [Tensor<Scalar>]) {
        self.value = value
        self.parents = parents
        self.requiresGradient = parents.contains { $0.requiresGradient }
        self.pullback = requiresGradient ? pullback : nil
    }

    public var shape: [Int] { value.shape }
}

/// ∂loss/∂v for every v in `variables` (a zero tensor for a variable the loss does not depend on).
/// `loss` must have exactly one element.
public func gradients<Scalar: TensorScalar>(of loss: Variable<Scalar>, withRespectTo variables: [Variable<Scalar>]) -> [Tensor<Scalar>] {
    guard loss.value.count == 1 else {
        shapeFailure("gradients", "loss must have one element, got shape \(loss.shape)")
    }
    // Reverse topological order by an iterative depth-first search (deep models overflow recursion).
    var order: [Variable<Scalar>] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(node: Variable<Scalar>, expanded: Bool)] = [(loss, false)]
    while let (node, expanded) = stack.popLast() {
        if expanded { order.append(node); continue }
        guard node.requiresGradient, visited.insert(ObjectIdentifier(node)).inserted else { continue }
        stack.append((node, true))
        for parent in node.parents where parent.requiresGradient { stack.append((parent, false)) }
    }
    var accumulated: [ObjectIdentifier: Tensor<Scalar>] = [ObjectIdentifier(loss): Tensor.ones(loss.shape)]
    for node in order.reversed() {
        guard let pullback = node.pullback, let upstream = accumulated[ObjectIdentifier(node)] else { continue }
        let parentGradients = pullback(upstream)
        for (parent, gradient) in zip(node.parents, parentGradients) where parent.requiresGradient {
            let key = ObjectIdentifier(parent)
            if let existing = accumulated[key] {
                accumulated[key] = existing + gradient
            } else {
                accumulated[key] = gradient
            }
        }
    }
    return variables.map { accumulated[ObjectIdentifier($0)] ?? Tensor.zeros($0.shape) }
}
