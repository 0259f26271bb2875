import VigilExecutor
import VigilOptimizer

extension PassContext {
    /// What the command line gives the passes: constant folding evaluates with the executor's kernels.
    static let executor = PassContext(evaluator: KernelEvaluator())
}
