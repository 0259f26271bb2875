// swift-tools-version:6.0
import Foundation
import PackageDescription

// Module direction (bottom to top):
//   C system libraries (CProtobufC, CHDF5, COpenBLAS, CZlib), the generated ONNX schema (COnnxProto) and
//   Vigil's own thin C (CVigilKernels, CVigilCleanup: the async-signal-safe temporary-file cleanup)
//   → VigilFiles: safe file I/O every reader and writer uses (the one output writer, input
//     identities, temporary files, non-blocking regular-file opening, a strict zip reader and
//     writer); imports only CVigilCleanup and zlib (CZlib)
//   → one Swift wrapper per C library (VigilONNX, …), the only Swift code that imports C
//   → VigilIR (pure Swift, imports nothing) sits beside them and is what every wrapper produces
//   → VigilCLI (commands) → the `vigil` executable.
let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        // What an app needs (README "Use it from Swift"): everything below in one product, or the
        // finer products one by one. None of their targets uses unsafeFlags, so another package can
        // depend on Vigil by version.
        .library(name: "Vigil", targets: ["VigilRuntime", "VigilDetector", "VigilNumpy", "VigilVerifier", "VigilOptimizer", "VigilFiles"]),
        // Load ONNX/Keras, optimize, plan and run; typed tensors and errors (re-exports VigilIR).
        .library(name: "VigilRuntime", targets: ["VigilRuntime"]),
        .library(name: "VigilDetector", targets: ["VigilDetector"]),
        .library(name: "VigilNumpy", targets: ["VigilNumpy"]),
        // Safe file I/O: the one output writer (never over a symlink, device or input) and `InputFiles`,
        // which the writers of the other products take as `protecting:`.
        .library(name: "VigilFiles", targets: ["VigilFiles"]),
        // For tools: static checks, and the optimizer's passes.
        .library(name: "VigilVerifier", targets: ["VigilVerifier"]),
        .library(name: "VigilOptimizer", targets: ["VigilOptimizer"]),
        // Parses untrusted HDF5 files in its own process for VigilHDF5's HDF5Reader; ship it next to
        // any program that reads Keras or detector files.
        .executable(name: "vigil-hdf5-reader", targets: ["vigil-hdf5-reader"]),
        .library(name: "VigilIR", targets: ["VigilIR"]),
        .library(name: "VigilONNX", targets: ["VigilONNX"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Only for `swift package generate-documentation` (DocC catalogs in Sources/*/*.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: C at the bottom
        .systemLibrary(
            name: "CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"]), .brew(["protobuf-c"])]
        ),
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5-serial",
            providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),
        // Vigil's own AVX2 + FMA convolution kernel (runtime-dispatched). No unsafeFlags (SwiftPM refuses
        // them in a package depended on by version): release builds compile it at SwiftPM's -O2.
        .target(name: "CVigilKernels"),
        // Unlinks registered temporary files on SIGINT/SIGTERM/SIGHUP/SIGQUIT, then re-raises.
        .target(name: "CVigilCleanup"),
        // protobuf-c code generated from Formats/onnx/onnx.proto, plus a wire-format depth guard.
        .target(
            name: "COnnxProto",
            dependencies: ["CProtobufC"],
            path: "Formats/onnx/protobuf-c"
        ),

        // MARK: Swift
        .target(name: "VigilIR"),
        .target(
            name: "VigilFiles",
            dependencies: ["CVigilCleanup", "CZlib"]
        ),
        .target(name: "VigilONNX", dependencies: ["VigilIR", "VigilFiles", "COnnxProto", "CProtobufC"]),
        .target(name: "VigilBLAS", dependencies: ["COpenBLAS", "CVigilKernels"]),
        .target(
            name: "VigilNumpy",
            dependencies: ["VigilIR", "VigilFiles"]
        ),
        .target(name: "VigilHDF5", dependencies: ["CHDF5"]),
        .target(
            name: "VigilKeras",
            dependencies: ["VigilIR", "VigilHDF5", "VigilFiles"]
        ),
        .target(name: "VigilOps", dependencies: ["VigilIR"]),
        .target(name: "VigilExecutor", dependencies: ["VigilIR", "VigilOps", "VigilBLAS"]),
        .target(name: "VigilVerifier", dependencies: ["VigilIR", "VigilOps"]),
        .target(name: "VigilParity", dependencies: ["VigilIR"]),
        .target(name: "VigilDetector", dependencies: ["VigilIR", "VigilExecutor", "VigilBLAS", "VigilHDF5", "VigilFiles"]),
        .target(name: "VigilOptimizer", dependencies: ["VigilIR", "VigilOps"]),
        .target(name: "VigilQuantizer", dependencies: ["VigilIR", "VigilOps", "VigilOptimizer", "VigilExecutor", "VigilParity"]),
        // The library API for apps: loading, in-memory optimization, running, typed tensors and errors.
        .target(name: "VigilRuntime", dependencies: ["VigilIR", "VigilONNX", "VigilKeras", "VigilExecutor", "VigilOps", "VigilOptimizer"]),
        // `vigil swift`: a SwiftPM package with a typed wrapper generated from a model's interface.
        .target(name: "VigilCodegen", dependencies: ["VigilIR", "VigilFiles"]),
        .target(
            name: "VigilCLI",
            dependencies: [
                "VigilIR", "VigilFiles", "VigilONNX", "VigilKeras", "VigilBLAS", "VigilOps", "VigilVerifier", "VigilNumpy", "VigilExecutor", "VigilParity", "VigilOptimizer", "VigilDetector",
                "VigilQuantizer", "VigilCodegen",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "vigil", dependencies: ["VigilCLI"]),
        .executableTarget(name: "vigil-hdf5-reader", dependencies: ["VigilHDF5"]),

        // MARK: Tests
        // Shared by the test targets: fixture paths, tolerance comparisons, a protobuf wire writer.
        .target(name: "VigilTestSupport", dependencies: ["VigilIR"], path: "Tests/VigilTestSupport"),
        .testTarget(name: "VigilIRTests", dependencies: ["VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilFilesTests", dependencies: ["VigilFiles", "VigilTestSupport"]),
        .testTarget(name: "VigilHDF5Tests", dependencies: ["VigilHDF5", "VigilTestSupport"]),
        .testTarget(name: "VigilParityTests", dependencies: ["VigilParity", "VigilNumpy", "VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilNumpyTests", dependencies: ["VigilNumpy", "VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilONNXTests", dependencies: ["VigilONNX", "VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilCLITests", dependencies: ["VigilCLI", "VigilONNX", "VigilNumpy", "VigilExecutor", "VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilExecutorTests", dependencies: ["VigilExecutor", "VigilBLAS", "VigilOps", "VigilONNX", "VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilKerasTests", dependencies: ["VigilKeras", "VigilHDF5", "VigilExecutor", "VigilNumpy", "VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilVerifierTests", dependencies: ["VigilVerifier", "VigilOps", "VigilONNX", "VigilIR", "VigilTestSupport"]),
        .testTarget(
            name: "VigilOptimizerTests",
            dependencies: ["VigilOptimizer", "VigilVerifier", "VigilExecutor", "VigilONNX", "VigilKeras", "VigilNumpy", "VigilIR", "VigilTestSupport"]
        ),
        .testTarget(name: "VigilDetectorTests", dependencies: ["VigilDetector", "VigilNumpy", "VigilONNX", "VigilExecutor", "VigilIR", "VigilTestSupport"]),
        .testTarget(name: "VigilOpsTests", dependencies: ["VigilOps", "VigilVerifier", "VigilIR"]),
        .testTarget(name: "VigilBLASTests", dependencies: ["VigilBLAS"]),
        .testTarget(
            name: "VigilQuantizerTests",
            dependencies: ["VigilQuantizer", "VigilExecutor", "VigilOptimizer", "VigilVerifier", "VigilBLAS", "VigilONNX", "VigilNumpy", "VigilIR", "VigilTestSupport"]
        ),
        .testTarget(name: "VigilRuntimeTests", dependencies: ["VigilRuntime", "VigilNumpy", "VigilTestSupport"]),
        .testTarget(name: "VigilCodegenTests", dependencies: ["VigilCodegen", "VigilRuntime", "VigilNumpy", "VigilTestSupport"]),
        .testTarget(name: "ArchitectureTests"),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer harnesses (Fuzz/Harness), built only for `scripts/fuzz`: VIGIL_FUZZ=1 with
// -sanitize=fuzzer,address, which supplies `main`, so that the binary cannot link in normal builds.
if ProcessInfo.processInfo.environment["VIGIL_FUZZ"] == "1" {
    package.products.append(.executable(name: "vigil-fuzz", targets: ["vigil-fuzz"]))
    package.targets.append(
        .executableTarget(
            name: "vigil-fuzz",
            dependencies: ["VigilIR", "VigilFiles", "VigilONNX", "VigilNumpy", "VigilHDF5", "VigilKeras", "VigilDetector", "VigilVerifier"],
            path: "Fuzz/Harness"
        ))
}
