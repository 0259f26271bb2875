import VigilIR
import VigilOps

/// What one pass application changed.
public struct PassStats: Sendable, Equatable {
    /// Nodes removed outright (dead, no-op, folded into constants).
    public var nodesRemoved = 0
    /// Nodes merged into another node (BatchNorm into Conv, MatMul+Add into Gemm, …).
    public var nodesFused = 0
    /// Initializer bytes no longer stored.
    public var bytesSaved = 0
    /// Other edits that remove nothing (renames, interface cleanups, rewrites to cheaper ops).
    public var otherChanges = 0

    public init(nodesRemoved: Int = 0, nodesFused: Int = 0, bytesSaved: Int = 0, otherChanges: Int = 0) {
        self.nodesRemoved = nodesRemoved
        self.nodesFused = nodesFused
        self.bytesSaved = bytesSaved
        self.otherChanges = otherChanges
    }

    /// Whether anything changed.
    public var changed: Bool { nodesRemoved > 0 || nodesFused > 0 || bytesSaved != 0 || otherChanges > 0 }

    public static func += (lhs: inout PassStats, rhs: PassStats) {
        lhs.nodesRemoved += rhs.nodesRemoved
        lhs.nodesFused += rhs.nodesFused
        lhs.bytesSaved += rhs.bytesSaved
        lhs.otherChanges += rhs.otherChanges
    }
}

/// What every pass may use besides the model: the op registry and, for constant folding, an
/// evaluator of all-constant nodes (the executor's kernels, wired in by the command line; without
/// one, only values that inference computes fold).
public struct PassContext: Sendable {
    public var registry: OpRegistry
    public var evaluator: (any ConstantEvaluator)?

    public init(registry: OpRegistry = .standard, evaluator: (any ConstantEvaluator)? = nil) {
        self.registry = registry
        self.evaluator = evaluator
    }
}

/// A small rewrite of a model. Passes are pure functions of the model: they read it, edit the graph
/// through its consistent editing API, and report what they changed (an unchanged model must report
/// `changed == false`, which is how the manager finds the fixed point). Most passes are
/// ``GraphRewritePass``es, which get the analysis and the clean-up from a shared helper.
public protocol OptimizationPass: Sendable {
    /// The pass's name, as used by `--passes` and `--print-after`.
    var name: String { get }
    /// Whether the default pipeline runs it (``OptimizerPipeline/passes`` gives the order).
    var inDefaultPipeline: Bool { get }
    /// Rewrites `model` in place.
    func run(on model: inout Model, context: PassContext) throws -> PassStats
}

extension OptimizationPass {
    public var inDefaultPipeline: Bool { true }

    /// Runs the pass with the standard registry and no evaluator.
    public func run(on model: inout Model) throws -> PassStats { try run(on: &model, context: PassContext()) }
}

/// A pass failed, or the model became inconsistent after it.
public struct OptimizerError: Error, CustomStringConvertible, Equatable {
    /// The pass that failed or broke the model.
    public let pass: String
    /// The problem.
    public let message: String

    public init(pass: String, message: String) {
        self.pass = pass
        self.message = message
    }

    public var description: String { "after pass \(pass): \(message)" }
}
