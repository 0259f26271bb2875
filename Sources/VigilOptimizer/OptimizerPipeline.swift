import VigilIR

/// The registry of optimization passes, in the default pipeline's order: the only list of passes.
/// Adding a pass: one file in `Passes/` plus one line here.
public enum OptimizerPipeline {
    /// Every pass, in the order the default pipeline runs those marked ``OptimizationPass/inDefaultPipeline``.
    public static let passes: [any OptimizationPass] = [
        InitializersNotInputs(),
        ConstantFolding(),
        ConstantIfInlining(),
        NoOpElimination(),
        BatchNormFolding(),
        BatchNormIntoFollowingFolding(),
        AffineFolding(),
        MatMulAddToGemm(),
        TransposeSinking(),
        LayoutMerging(),
        CommonSubexpressionElimination(),
        DuplicateInitializerElimination(),
        DeadCodeElimination(),
        ActivationFusion(),
    ]

    /// Every pass, by name.
    public static let registry: [String: any OptimizationPass] = Dictionary(uniqueKeysWithValues: passes.map { ($0.name, $0) })

    /// The default pipeline's pass names, in order.
    public static var defaultPasses: [String] { passes.filter(\.inDefaultPipeline).map(\.name) }

    /// The passes for a list of names, or an error naming the unknown ones.
    public static func passes(_ names: [String]) throws -> [any OptimizationPass] {
        let unknown = names.filter { registry[$0] == nil }
        guard unknown.isEmpty else {
            throw OptimizerError(pass: unknown.joined(separator: ", "), message: "unknown pass (known: \(passes.map(\.name).joined(separator: ", ")))")
        }
        return names.map { registry[$0]! }
    }
}
