import VigilIR

/// The registry of optimization passes and the default pipeline.
/// Adding a pass: one file in `Passes/` plus one line in `registry`.
public enum OptimizerPipeline {
    /// Every pass, by name.
    public static let registry: [String: any OptimizationPass] = {
        let passes: [any OptimizationPass] = [
            InitializersNotInputs(),
            ConstantFolding(),
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
        return Dictionary(uniqueKeysWithValues: passes.map { ($0.name, $0) })
    }()

    /// The default order.
    public static let defaultPasses = [
        "initializers-not-inputs", "fold-constants", "eliminate-no-ops", "fold-batchnorm", "fold-batchnorm-forward", "fold-affine-into-conv",
        "matmul-add-to-gemm", "sink-transposes", "merge-layout-ops", "cse", "dedupe-initializers", "dead-code", "fuse-activations",
    ]

    /// The passes for a list of names, or an error naming the unknown ones.
    public static func passes(_ names: [String]) throws -> [any OptimizationPass] {
        let unknown = names.filter { registry[$0] == nil }
        guard unknown.isEmpty else {
            throw OptimizerError(pass: unknown.joined(separator: ", "), message: "unknown pass (known: \(defaultPasses.joined(separator: ", ")))")
        }
        return names.map { registry[$0]! }
    }
}
