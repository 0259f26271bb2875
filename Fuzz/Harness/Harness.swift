import Foundation
import VigilDetector
import VigilFiles
import VigilHDF5
import VigilIR
import VigilKeras
import VigilNumpy
import VigilONNX
import VigilVerifier

// libFuzzer entry points for every reader of untrusted input. One binary, `vigil-fuzz`, built only
// when VIGIL_FUZZ=1 (with -sanitize=fuzzer,address); `VIGIL_FUZZ_TARGET` picks the harness.
// `scripts/fuzz TARGET SECONDS` builds and runs one. Every harness must reject bad input with a
// thrown error: a crash, trap, leak or sanitizer report is a bug.

/// The harnesses, by the name `scripts/fuzz` takes.
let harnesses: [String: @Sendable (Data) -> Void] = [
    "onnx": Targets.onnx,
    "onnx-external": Targets.onnxExternal,
    "keras-h5": Targets.kerasH5,
    "keras-zip": Targets.kerasZip,
    "keras-weights": Targets.kerasWeights,
    "npy": Targets.npy,
    "npz": Targets.npz,
    "detector": Targets.detector,
    "verifier": Targets.verifier,
]

nonisolated(unsafe) var selected: (@Sendable (Data) -> Void)?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["VIGIL_FUZZ_TARGET"] ?? ""
    guard let harness = harnesses[name] else {
        FileHandle.standardError.write(Data("set VIGIL_FUZZ_TARGET to one of: \(harnesses.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    selected = harness
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? Data() : Data(bytes: data!, count: size)
    selected?(bytes)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// SwiftPM links executables with `main` renamed to `<module>_main`; this is that entry point. It
/// hands control to libFuzzer's driver, as libFuzzer's own `main` would.
@_cdecl("vigil_fuzz_main")
public func vigilFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}
