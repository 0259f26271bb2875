/// Where the generated package gets Vigil from.
public enum VigilDependency: Sendable, Equatable {
    /// A local checkout: `.package(name: "Vigil", path: PATH)`.
    case path(String)
    /// A Git URL and the lowest version to accept: `.package(url: URL, from: VERSION)`.
    case url(String, from: String)
}

/// What `vigil swift` generates: the package's name, the model files it bundles and its dependency.
public struct PackageSpec: Sendable {
    /// The package, library, module and wrapper type name (a Swift identifier).
    public var name: String
    /// The model's file name in the wrapper's bundled `Model` folder.
    public var modelFileName: String
    /// The Keras config JSON bundled next to a weights-only Keras file.
    public var kerasConfigFileName: String?
    /// The model file as the user named it, for the generated documentation.
    public var source: String
    public var dependency: VigilDependency
    /// The generating tool and version (`vigil 0.1.0`).
    public var generator: String

    public init(
        name: String, modelFileName: String, kerasConfigFileName: String? = nil, source: String, dependency: VigilDependency,
        generator: String
    ) {
        self.name = name
        self.modelFileName = modelFileName
        self.kerasConfigFileName = kerasConfigFileName
        self.source = source
        self.dependency = dependency
        self.generator = generator
    }

    /// The executable product that runs the model from the shell.
    public var runnerProduct: String { "\(name)-run" }
    /// Its target (and module) name.
    public var runnerTarget: String { "\(name)Run" }
    /// The test target.
    public var testTarget: String { "\(name)Tests" }

    /// Modules the generated code imports or its package depends on: a package of that name would shadow them.
    static let takenModuleNames: Set<String> = [
        "Foundation", "XCTest", "Swift", "Dispatch", "Glibc", "Darwin", "VigilRuntime", "VigilNumpy", "VigilIR", "Vigil",
        "VigilONNX", "VigilKeras", "VigilExecutor", "VigilOptimizer", "VigilOps", "VigilBLAS", "VigilHDF5", "VigilDetector",
        "VigilVerifier", "VigilFiles", "VigilParity", "VigilCodegen", "PackageDescription",
    ]

    /// Types the generated code names: a wrapper type of that name would shadow them in its module.
    static let takenTypeNames: Set<String> = [
        "Tensor", "TypedTensor", "TensorScalar", "Network", "VigilError", "DType", "Shape", "Model", "NPY", "NPZ", "NumpyError",
        "URL", "Bundle", "Data", "FileHandle", "CommandLine", "String", "Int", "Int8", "Int16", "Int32", "Int64", "UInt8",
        "UInt16", "UInt32", "UInt64", "Float", "Double", "Bool", "Array", "Dictionary", "Optional", "Sendable", "Error",
        "Never", "Void", "Input", "Output", "XCTestCase",
    ]

    /// Why `name` cannot name the package, or `nil` when it can: it must be a Swift identifier and
    /// must not shadow a module the generated code imports or a type it uses.
    public static func problem(withName name: String) -> String? {
        guard SwiftNames.isIdentifier(name) else {
            return "'\(name)' is not a Swift identifier (letters, digits and _, not starting with a digit, not a keyword)"
        }
        if takenModuleNames.contains(name) { return "'\(name)' is the name of a module the generated code imports; choose another" }
        if takenTypeNames.contains(name) { return "'\(name)' is the name of a type the generated code uses; choose another" }
        return nil
    }
}
