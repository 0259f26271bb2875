import ArgumentParser
import Foundation
import VigilIR
import VigilKeras
import VigilONNX
import VigilFiles
import VigilVerifier

extension Vigil {
    /// `vigil check`: the static verifier. Reports every problem in one run.
    struct Check: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Verify a model: structure, operator schemas, types and shapes, and weight lint.",
            discussion: """
                Exits 0 when no errors are found (warnings are allowed unless --strict), 1 when errors are \
                found or the file cannot be read as a model, 2 on usage errors. Codes are listed in \
                Formats/diagnostics.md.
                """)

        static let examples = [
            Example(what: "Check a model and list every problem", command: "vigil check model.onnx"),
            Example(what: "Fail on warnings too, and write a SARIF log for code scanning", command: "vigil check model.onnx --strict --sarif check.sarif"),
            Example(what: "A Keras weights file with its config, as JSON", command: "vigil check model.weights.h5 --config config.json --json"),
        ]

        @OptionGroup var input: ModelOptions

        var model: String { input.model }

        @Flag(help: "Treat warnings (weight lint, dead code, unimplemented ops) as errors.")
        var strict = false

        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Also write the diagnostics as a SARIF 2.1.0 log to this file.", valueName: "file"))
        var sarif: String?

        @Option(help: "Stop reporting after this many errors.")
        var maxErrors: Int?

        func validate() throws {
            if let maxErrors, maxErrors < 1 { throw ValidationError("--max-errors must be at least 1") }
            if let sarif, sarif.isEmpty { throw ValidationError("--sarif needs a file name") }
        }

        func run() throws {
            try CommandFiles.checkOutputs([sarif], inputs: [model, input.config])
            let diagnostics: [Diagnostic]
            let start = DispatchTime.now().uptimeNanoseconds
            var loadSeconds: Double?
            var checkSeconds: Double?
            let read = Progress.activity("reading \(model)") { Self.read(model, kerasConfig: input.config) }
            switch read {
            case .success(let loaded):
                let loadedAt = DispatchTime.now().uptimeNanoseconds
                loadSeconds = Double(loadedAt - start) / 1e9
                diagnostics = Verifier(options: .init(strict: strict)).verify(loaded)
                checkSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadedAt) / 1e9
            case .failure(let failure):
                diagnostics = [failure]
            }
            let report = DiagnosticReport(file: model, diagnostics: diagnostics, maxErrors: maxErrors)
            if output.json {
                var object = report.json
                if let loadSeconds, let checkSeconds {
                    object["load_seconds"] = loadSeconds
                    object["check_seconds"] = checkSeconds
                }
                try output.printJSON(object)
            } else {
                print(report.text)
            }
            if let sarif {
                let log = report.sarif(toolVersion: Vigil.configuration.version, fileURI: Self.fileURI(model))
                let data = try JSONSerialization.data(withJSONObject: log, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                do {
                    try OutputFile.write(data, to: sarif, protecting: CommandFiles.inputs)
                } catch {
                    throw CommandFiles.failure(error)
                }
            }
            if report.hasErrors { throw ExitCode(Vigil.Exit.failure) }
        }

        /// A read model, or the diagnostic for a file that could not be read as one.
        enum Read {
            case success(Model)
            case failure(Diagnostic)
        }

        /// Reads an ONNX or Keras file; a reader error becomes its load diagnostic.
        static func read(_ path: String, kerasConfig: String?) -> Read {
            if KerasImporter.isKerasFile(path) || kerasConfig != nil {
                do throws(KerasImportError) {
                    let model = try KerasImporter.importModel(at: path, config: kerasConfig)
                    CommandFiles.record(path)
                    if let kerasConfig { CommandFiles.record(kerasConfig) }
                    return .success(model)
                } catch {
                    let location = Location(kerasLayer: error.layer)
                    return .failure(Verifier.loadDiagnostic(kind: loadFailureKind(error), reason: error.message, at: location))
                }
            }
            do throws(ONNXError) {
                return .success(try ONNXReader.readModel(at: path, recordingInputsIn: CommandFiles.inputs))
            } catch {
                return .failure(Verifier.loadDiagnostic(kind: loadFailureKind(error), reason: error.reason))
            }
        }

        static func loadFailureKind(_ error: KerasImportError) -> LoadFailureKind {
            switch error.kind {
            case .cannotRead: .unreadable
            case .notKerasFile, .hdf5, .archive: .malformed
            case .noModelConfig, .invalidConfig, .weightShapeMismatch, .missingWeights: .invalid
            case .unsupportedLayer, .customLayer, .unsupportedOption: .unsupported
            }
        }

        static func loadFailureKind(_ error: ONNXError) -> LoadFailureKind {
            switch error {
            case .unreadable: .unreadable
            case .malformed: .malformed
            case .invalid: .invalid
            case .externalData: .externalData
            case .unsupported, .writeFailed: .unsupported
            }
        }

        /// A relative path stays relative (SARIF resolves it against the scan root); absolute paths become file URIs.
        static func fileURI(_ path: String) -> String {
            path.hasPrefix("/") ? URL(fileURLWithPath: path).absoluteString : path
        }
    }
}
