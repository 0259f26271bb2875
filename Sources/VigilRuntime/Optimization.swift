import VigilExecutor
import VigilIR
import VigilOptimizer

/// The optimizer's default pipeline, with constant folding evaluated by the executor's kernels:
/// what ``Network`` applies to a model before running it (unless ``Network/Options/optimize`` is
/// `false`) and what `vigil run` and `vigil optimize` do.
public enum Optimization {
    /// The passes of the default pipeline, in order.
    public static var defaultPasses: [String] { OptimizerPipeline.defaultPasses }

    /// Every registered pass, in pipeline order (including the opt-in ones).
    public static var allPasses: [String] { OptimizerPipeline.passes.map(\.name) }

    /// Rewrites `model` with the given passes (the default pipeline when `nil`), repeated until
    /// nothing changes. The outputs stay the same up to float rounding.
    ///
    /// - Parameters:
    ///   - model: the model to rewrite in place.
    ///   - passes: pass names (see ``allPasses``); the default pipeline when `nil`.
    ///   - file: names the model in errors.
    /// - Throws: ``VigilError`` of kind ``VigilError/Kind/optimization`` naming the pass (or the node).
    public static func optimize(_ model: inout Model, passes: [String]? = nil, file: String? = nil) throws(VigilError) {
        do {
            let selected = try OptimizerPipeline.passes(passes ?? defaultPasses)
            _ = try PassManager(passes: selected, context: PassContext(evaluator: KernelEvaluator())).run(on: &model)
        } catch {
            throw VigilError(optimizing: error, file: file)
        }
    }
}
