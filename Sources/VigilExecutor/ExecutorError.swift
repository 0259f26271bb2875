import VigilIR
import VigilOps

/// Errors from building or running an ``InferenceSession``. Each names the input, op or node.
public enum ExecutorError: Error, CustomStringConvertible, Equatable {
    /// The model uses ops with no CPU implementation: every such op type, with the nodes using it.
    case unsupportedOps([UnsupportedOp])
    /// A graph input was not supplied.
    case missingInput(name: String)
    /// A supplied name is not a graph input.
    case unknownInput(name: String, expected: [String])
    /// A supplied tensor has the wrong element type.
    case inputTypeMismatch(name: String, expected: DType, actual: DType)
    /// A supplied tensor's shape does not fit the declared shape (or a symbol bound elsewhere).
    case inputShapeMismatch(name: String, expected: Shape, actual: [Int], reason: String)
    /// A node failed inference, validation or kernel construction.
    case node(OpError)
    /// A node's output shape could not be determined before running.
    case unresolvedShape(node: String, output: String, shape: Shape)
    /// The graph cannot be scheduled (a cycle, or a value nothing produces).
    case invalidGraph(String)
    /// Running the model would need more memory than allowed, from this node on.
    case memoryLimit(node: String, bytes: Int, limit: Int)

    /// One unsupported op type and the nodes that use it.
    public struct UnsupportedOp: Equatable, Sendable {
        public var opType: String
        public var domain: String
        public var nodes: [String]
    }

    public var description: String {
        switch self {
        case .unsupportedOps(let ops):
            let list = ops.map { op in
                let name = op.domain.isEmpty ? op.opType : "\(op.domain)::\(op.opType)"
                let nodes = op.nodes.prefix(3).joined(separator: ", ") + (op.nodes.count > 3 ? ", …" : "")
                return "\(name) (\(op.nodes.count) node\(op.nodes.count == 1 ? "" : "s"): \(nodes))"
            }
            return "unsupported ops: " + list.joined(separator: "; ")
        case .missingInput(let name): return "missing input '\(name)'"
        case .unknownInput(let name, let expected):
            return "'\(name)' is not an input of the model (inputs: \(expected.map { "'\($0)'" }.joined(separator: ", ")))"
        case .inputTypeMismatch(let name, let expected, let actual):
            return "input '\(name)' has type \(actual) but the model expects \(expected)"
        case .inputShapeMismatch(let name, let expected, let actual, let reason):
            return "input '\(name)' has shape \(actual) but the model expects \(expected): \(reason)"
        case .node(let error): return error.description
        case .unresolvedShape(let node, let output, let shape):
            return "node \(node): the shape of output '\(output)' is \(shape), which is not known before running"
        case .invalidGraph(let message): return "invalid graph: \(message)"
        case .memoryLimit(let node, let bytes, let limit):
            return "node \(node) needs \(MemoryLimit.describe(bytes)) of memory for values and scratch, more than the limit of \(MemoryLimit.describe(limit))"
        }
    }
}
