import ArgumentParser
import Foundation
import VigilExecutor
import VigilIR
import VigilOptimizer
import VigilVerifier

/// Flags shared by `vigil optimize` and `vigil convert --optimize`.
struct OptimizationOptions: ParsableArguments {
    @Option(help: "Comma-separated passes to run, in order (default: the standard pipeline).")
    var passes: String?

    @Option(help: "Print the model summary after each application of this pass.")
    var printAfter: [String] = []

    @Option(help: "Stop after this many pass applications (to bisect a bad rewrite).")
    var stopAfter: Int?

    func validate() throws {
        if let stopAfter, stopAfter < 0 { throw ValidationError("--stop-after must be 0 or more") }
        let names = passNames
        let unknown = (names + printAfter).filter { OptimizerPipeline.registry[$0] == nil }
        if !unknown.isEmpty {
            throw ValidationError("unknown pass \(unknown.joined(separator: ", ")) (known: \(OptimizerPipeline.defaultPasses.joined(separator: ", ")))")
        }
        if let idle = printAfter.first(where: { !names.contains($0) }) {
            throw ValidationError("--print-after \(idle) names a pass that --passes does not run")
        }
    }

    var passNames: [String] {
        passes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? OptimizerPipeline.defaultPasses
    }

    /// Runs the pipeline on `model`, showing progress per pass application; `--print-after` summaries
    /// are printed unless `printing` is false (JSON output).
    func optimize(_ model: inout Model, file: String, printing: Bool = true) throws -> [PassManager.Step] {
        var manager = try Self.manager(passes: passNames, stopAfter: stopAfter, model: model)
        let requested = Set(printAfter)
        let progress = Progress("optimizing \(file)", total: nil, unit: "pass applications")
        defer { progress.finish() }
        // The manager calls `onPrint` after each application of a pass in `printAfter`: every pass
        // is listed so that each application moves the progress on.
        manager.printAfter = Set(passNames)
        manager.onPrint = { pass, model in
            progress.advance()
            guard printing, requested.contains(pass) else { return }
            print("--- after \(pass) ---")
            print(ModelSummary(model).text(file: file))
        }
        do {
            return try manager.run(on: &model)
        } catch {
            throw CommandFailure("\(file): \(error)")
        }
    }

    /// A pass manager for `passes`; debug builds re-verify the model after every pass, so a bad
    /// rewrite is caught where it happens (unless the model had errors before optimizing, which are
    /// the model's, not a pass's).
    static func manager(passes: [String], stopAfter: Int? = nil, model: Model? = nil) throws -> PassManager {
        // Constant folding evaluates nodes with the executor's kernels; the optimizer itself only
        // knows the `ConstantEvaluator` protocol.
        var manager = PassManager(passes: try OptimizerPipeline.passes(passes), context: PassContext(evaluator: KernelEvaluator()),
                                  stopAfter: stopAfter)
        #if DEBUG
        let verifier = Verifier(options: .init(lint: false))
        if model.map({ Verifier.hasErrors(verifier.verify($0)) }) != true {
            manager.check = { model in
                let errors = verifier.verify(model).filter { $0.severity == .error }
                if !errors.isEmpty { throw CommandFailure(errors.map { "\($0)" }.joined(separator: "; ")) }
            }
        }
        #endif
        return manager
    }

    /// Optimizes a model in memory before it runs (what `--no-optimize` turns off), as onnxruntime
    /// applies its graph optimizations when it creates a session.
    static func optimizeForExecution(_ model: inout Model, file: String) throws {
        do {
            let manager = try manager(passes: OptimizerPipeline.defaultPasses, model: model)
            try Progress.activity("optimizing \(file) in memory") {
                _ = try manager.run(on: &model)
            }
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure("\(file): \(error)")
        }
    }
}
