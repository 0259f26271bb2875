import VigilIR
import VigilOps

/// Runs a pipeline of passes to a fixed point, checking the model after every pass.
///
/// Each round runs every pass in order; rounds repeat until no pass changes anything or `maxRounds`
/// is reached. After each pass application the graph must still sort topologically and every node
/// input must be defined; `check` (the static verifier, in tests and debug builds) may add more.
/// `stopAfter` halts after that many pass applications, to bisect a bad rewrite.
public struct PassManager {
    /// One pass application, for `--stats` and `--print-after`.
    public struct Step: Sendable {
        public var round: Int
        public var pass: String
        public var stats: PassStats
        public var nodeCount: Int
    }

    public var passes: [any OptimizationPass]
    /// What the passes may use besides the model (the evaluator constant folding runs).
    public var context: PassContext
    public var maxRounds: Int
    /// Stop after this many pass applications (`nil`: run to the fixed point).
    public var stopAfter: Int?
    /// Called after every pass application; throw to reject the result.
    public var check: ((Model) throws -> Void)?
    /// Called after each application of a pass whose name is in `printAfter`.
    public var printAfter: Set<String> = []
    public var onPrint: ((String, Model) -> Void)?

    public init(passes: [any OptimizationPass], context: PassContext = PassContext(), maxRounds: Int = 8, stopAfter: Int? = nil,
                check: ((Model) throws -> Void)? = nil) {
        self.passes = passes
        self.context = context
        self.maxRounds = maxRounds
        self.stopAfter = stopAfter
        self.check = check
    }

    /// Optimizes `model`, returning every pass application in order.
    @discardableResult
    public func run(on model: inout Model) throws -> [Step] {
        var steps: [Step] = []
        for round in 1...max(maxRounds, 1) {
            var changed = false
            for pass in passes {
                if let stopAfter, steps.count >= stopAfter { return steps }
                let stats: PassStats
                do {
                    stats = try pass.run(on: &model, context: context)
                } catch let error as OptimizerError {
                    throw error
                } catch {
                    throw OptimizerError(pass: pass.name, message: "\(error)")
                }
                try Self.checkConsistency(&model, after: pass.name)
                if let check {
                    do { try check(model) } catch { throw OptimizerError(pass: pass.name, message: "\(error)") }
                }
                steps.append(Step(round: round, pass: pass.name, stats: stats, nodeCount: model.graph.nodeCount))
                if printAfter.contains(pass.name) { onPrint?(pass.name, model) }
                changed = changed || stats.changed
            }
            if !changed { break }
        }
        return steps
    }

    /// Every node input and graph output must be defined, and the nodes must sort topologically.
    static func checkConsistency(_ model: inout Model, after pass: String) throws {
        do {
            try model.graph.sortTopologically()
        } catch {
            throw OptimizerError(pass: pass, message: "\(error)")
        }
        let graph = model.graph
        var defined = Set(graph.inputs.map(\.name)).union(graph.initializerNames).union(graph.sparseInitializers.map(\.name))
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty && !defined.contains(input) {
                throw OptimizerError(pass: pass, message: "node \(node.label) reads '\(input)', which nothing defines")
            }
            defined.formUnion(node.outputs)
        }
        for output in graph.outputs where !defined.contains(output.name) {
            throw OptimizerError(pass: pass, message: "graph output '\(output.name)' is no longer produced")
        }
    }
}

/// Per-pass totals of a run.
public func summarize(_ steps: [PassManager.Step]) -> [(pass: String, stats: PassStats, applications: Int)] {
    var order: [String] = []
    var totals: [String: (PassStats, Int)] = [:]
    for step in steps {
        if totals[step.pass] == nil { order.append(step.pass) }
        var entry = totals[step.pass] ?? (PassStats(), 0)
        entry.0 += step.stats
        entry.1 += 1
        totals[step.pass] = entry
    }
    return order.map { ($0, totals[$0]!.0, totals[$0]!.1) }
}
