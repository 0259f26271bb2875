import ArgumentParser
import Foundation
import VigilCodegen
import VigilIR
import VigilNumpy

extension Vigil {
    /// `vigil swift`: generate a SwiftPM package with a typed wrapper for a model.
    struct Swift: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Generate a Swift package with a typed wrapper, a runner and a test for a model.",
            discussion: """
                The package in DIR has a library NAME (a type NAME with one typed property per model input and \
                output, symbolic dims as parameters, init(modelURL:) and init() for the model copied into the \
                package), an executable NAME-run (--input [NAME=]FILE.npy ... -o OUT.npz) and a test target that \
                checks the outputs the executor computes now on sample inputs: --input, or seeded random values \
                (floating point in [-1, 1), other types zero) with symbolic dims from --dim (default 1). It depends \
                on Vigil by path (--vigil-path, default: the checkout this vigil was built from) or by URL and version.
                """)

        static let examples = [
            Example(what: "A package for an ONNX model, depending on this checkout of Vigil", command: "vigil swift embedding.onnx --name Embedding -o Embedding"),
            Example(what: "A Keras model, its test recorded on given inputs", command: "vigil swift model.h5 --name Classifier -o Classifier --input images=batch.npy"),
            Example(what: "Depend on Vigil by URL and version", command:
                        "vigil swift net.onnx --name Net -o Net --vigil-url https://github.com/example/vigil --vigil-version 0.1.0"),
        ]

        @OptionGroup var modelOptions: ModelOptions

        @Option(help: "The package, library, module and type name: a Swift identifier such as Embedding.")
        var name: String

        @Option(name: .shortAndLong, help: "The package folder to create (it must not exist or be empty, unless --force).")
        var output: String

        @Option(name: .customLong("vigil-path"), help: "Depend on the Vigil checkout at this path (default: the one this vigil was built from).")
        var vigilPath: String?

        @Option(name: .customLong("vigil-url"), help: "Depend on Vigil by this Git URL instead (with --vigil-version).")
        var vigilURL: String?

        @Option(name: .customLong("vigil-version"), help: "The lowest Vigil version to accept from --vigil-url.")
        var vigilVersion: String?

        @Flag(help: "Replace the output folder if it exists and is not empty.")
        var force = false

        @OptionGroup var inputs: InputOptions

        @Option(name: .customLong("dim"), parsing: .singleValue, help: "SYMBOL=SIZE for a symbolic dim of the random sample inputs (default 1); repeatable.")
        var dims: [String] = []

        @OptionGroup var outputOptions: OutputOptions

        /// A usage error prints one line (`vigil: error: …`) and exits 2 here, before anything is read or
        /// written (ArgumentParser would add the usage text to a thrown `ValidationError`).
        func validate() throws {
            do {
                if let problem = PackageSpec.problem(withName: name) { throw ValidationError("--name: \(problem)") }
                if vigilURL != nil && vigilPath != nil { throw ValidationError("give --vigil-path or --vigil-url, not both") }
                if (vigilURL == nil) != (vigilVersion == nil) { throw ValidationError("--vigil-url and --vigil-version go together") }
                _ = try symbolSizes()
            } catch let error as ValidationError {
                Vigil.printError(error.message)
                Foundation.exit(Vigil.Exit.usage)
            }
        }

        func run() throws {
            // --force never replaces a folder holding the model, the Vigil checkout, the working or the home folder.
            let protected = [modelOptions.model, FileManager.default.currentDirectoryPath, NSHomeDirectory()]
                + (modelOptions.config.map { [$0] } ?? []) + (Self.checkout.map { [$0] } ?? [])
            do { try PackageOutput.checkDestination(output, force: force, protecting: protected) } catch { throw CommandFailure(error) }
            let dependency = try self.dependency()
            let loaded = try modelOptions.load()
            let session = try ExecutionOptions.parse([]).session(for: loaded.model, file: modelOptions.model)
            let feeds = inputs.input.isEmpty
                ? try Self.sampleFeeds(for: loaded.model.graph.runtimeInputs, sizes: symbolSizes())
                : try inputs.feeds(for: loaded.model)
            let results: [String: Tensor]
            do { results = try session.run(feeds) } catch {
                throw CommandFailure("\(modelOptions.model): \(error)\(inputs.input.isEmpty ? " (on the random sample inputs; give --input or --dim)" : "")")
            }
            let spec = PackageSpec(
                name: name, modelFileName: URL(fileURLWithPath: modelOptions.model).lastPathComponent,
                kerasConfigFileName: modelOptions.config.map { URL(fileURLWithPath: $0).lastPathComponent },
                source: URL(fileURLWithPath: modelOptions.model).lastPathComponent, dependency: dependency,
                generator: "vigil \(Vigil.configuration.version)")
            let generator = PackageGenerator(spec: spec, model: loaded.model)
            let recordedInputs = generator.interface.inputs.map { ($0.name, feeds[$0.name]!) }
            let recordedOutputs = session.outputNames.map { ($0, results[$0]!) }
            do {
                try PackageOutput.write(to: output, force: force, protecting: protected) { folder in
                    try PackageOutput.writeFiles(generator.files(), into: folder)
                    for (source, path) in modelFiles(loaded.model) { try PackageOutput.copyFile(source, to: generator.modelFolder + "/" + path, into: folder) }
                    let recorded = folder.appendingPathComponent(generator.recordedFolder)
                    try FileManager.default.createDirectory(at: recorded, withIntermediateDirectories: true)
                    try NPZ.write(recordedInputs, to: recorded.appendingPathComponent(generator.recordedInputs).path)
                    try NPZ.write(recordedOutputs, to: recorded.appendingPathComponent(generator.recordedOutputs).path)
                }
            } catch {
                throw CommandFailure(error)
            }
            if outputOptions.json {
                try outputOptions.printJSON(Self.json(generator, folder: output, model: modelOptions.model))
            } else {
                print(Self.report(generator, folder: output))
            }
        }

        /// The checkout this binary was built from, when it is still there.
        static var checkout: String? {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return isVigilCheckout(root.path) ? root.path : nil
        }

        static func isVigilCheckout(_ path: String) -> Bool {
            let manifest = (try? String(contentsOfFile: path + "/Package.swift", encoding: .utf8)) ?? ""
            return manifest.contains("name: \"Vigil\"")
        }

        func dependency() throws -> VigilDependency {
            if let vigilURL, let vigilVersion { return .url(vigilURL, from: vigilVersion) }
            guard let path = vigilPath ?? Self.checkout else {
                throw CommandFailure("the Vigil checkout this vigil was built from is gone; give --vigil-path or --vigil-url")
            }
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            guard Self.isVigilCheckout(absolute) else { throw CommandFailure("\(path): not a Vigil checkout (no Package.swift of the package Vigil)") }
            return .path(absolute)
        }

        /// `--dim SYMBOL=SIZE` values.
        func symbolSizes() throws -> [String: Int] {
            var sizes: [String: Int] = [:]
            for item in dims {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, let size = Int(parts[1]), size >= 1 else {
                    throw ValidationError("--dim \(item): expected SYMBOL=SIZE with a size of at least 1")
                }
                sizes[parts[0]] = size
            }
            return sizes
        }

        /// The files to bundle, by path relative to the `Model` folder: the model, its external data
        /// files (as their locations name them) and the Keras config.
        func modelFiles(_ model: Model) -> [(URL, String)] {
            let file = URL(fileURLWithPath: modelOptions.model)
            var files = [(file, file.lastPathComponent)]
            for location in model.externalDataLocations {
                files.append((file.deletingLastPathComponent().appendingPathComponent(location), location))
            }
            if let config = modelOptions.config {
                let url = URL(fileURLWithPath: config)
                files.append((url, url.lastPathComponent))
            }
            return files
        }

        /// Seeded sample inputs: floating point uniform in [-1, 1), other types zero; symbolic and
        /// unknown dims from `sizes` (default 1).
        static func sampleFeeds(for inputs: [ValueInfo], sizes: [String: Int]) throws -> [String: Tensor] {
            var feeds: [String: Tensor] = [:]
            var random = SplitMix64(seed: 0x5EED)
            for info in inputs {
                guard let (dtype, shape) = info.type?.tensorType, let dtype, let shape else {
                    throw CommandFailure("input '\(info.name)' has no declared element type and shape; give --input")
                }
                let dims = shape.dims.map { dim -> Int in
                    switch dim {
                    case .fixed(let size): size
                    case .symbolic(let symbol): sizes[symbol] ?? 1
                    case .unknown: 1
                    }
                }
                let count = dims.reduce(1, *)
                let tensor: Tensor
                switch dtype {
                case .float32: tensor = try Tensor(float32: (0..<count).map { _ in Float(random.unit()) }, shape: dims)
                case .float64: tensor = try Tensor(.float64, shape: dims, scalars: (0..<count).map { _ in random.unit() })
                case .string: tensor = try Tensor(dtype: .string, shape: dims, contents: .strings(Array(repeating: [], count: count)))
                default:
                    let bytes = dtype.storageBytes(count: count) ?? 0
                    tensor = try Tensor(dtype: dtype, shape: dims, contents: .bytes(TensorBuffer(count: bytes) { $0.initializeMemory(as: UInt8.self, repeating: 0) }))
                }
                feeds[info.name] = tensor
            }
            return feeds
        }

        /// The `--json` object (keys in `Formats/json.md`).
        static func json(_ generator: PackageGenerator, folder: String, model: String) -> [String: Any] {
            func values(_ values: [ModelInterface.Value]) -> [[String: Any]] {
                values.map { value in
                    let shape: Any = value.shape.map { $0.dims.map { dim -> Any in dim.value ?? dim.description } } ?? NSNull()
                    return ["name": value.name, "property": value.property, "swift_type": value.swiftType,
                            "dtype": value.dtype?.rawValue ?? NSNull(), "shape": shape]
                }
            }
            let dependency: [String: String] = switch generator.spec.dependency {
            case .path(let path): ["path": path]
            case .url(let url, let version): ["url": url, "from": version]
            }
            return [
                "package": folder, "name": generator.spec.name, "model": model, "dependency": dependency,
                "inputs": values(generator.interface.inputs), "outputs": values(generator.interface.outputs),
                "dim_parameters": generator.interface.dimParameters.map { ["symbol": $0.symbol as Any? ?? NSNull(), "parameter": $0.parameter] as [String: Any] },
            ]
        }

        static func report(_ generator: PackageGenerator, folder: String) -> String {
            let spec = generator.spec
            func list(_ values: [ModelInterface.Value]) -> String {
                values.map { "\($0.property): \($0.swiftType) (\($0.name) \($0.typeDescription))" }.joined(separator: ", ")
            }
            return """
                wrote \(folder): library \(spec.name), executable \(spec.runnerProduct), tests \(spec.testTarget)
                  inputs:  \(list(generator.interface.inputs))
                  outputs: \(list(generator.interface.outputs))
                build and test: swift build --package-path \(folder) && swift test --package-path \(folder)
                """
        }
    }
}

/// A small seeded generator (SplitMix64), so that generated sample inputs are the same on every run.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
}
