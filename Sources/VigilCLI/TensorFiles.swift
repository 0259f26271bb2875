import Foundation
import VigilIR
import VigilNumpy
import VigilONNX

/// Reads and writes tensors in the file formats the commands accept, as one-line failures.
enum TensorFiles {
    /// The arrays of a `.npy` (one, unnamed), `.npz` (named) or TensorProto `.pb` (named by its `name`).
    static func read(_ file: String) throws -> [(name: String?, tensor: Tensor)] {
        try ErrorText.requireReadableFile(file)
        do {
            let lower = file.lowercased()
            let inputs = CommandFiles.inputs
            if lower.hasSuffix(".npz") { return try NPZ.read(at: file, recordingInputsIn: inputs).map { ($0.name, $0.tensor) } }
            if lower.hasSuffix(".pb") {
                let (name, tensor) = try ONNXReader.readTensor(at: file, recordingInputsIn: inputs)
                return [(name.isEmpty ? nil : name, tensor)]
            }
            return [(nil, try NPY.read(at: file, recordingInputsIn: inputs))]
        } catch {
            throw CommandFailure(error)
        }
    }

    /// Writes named arrays to a `.npz` archive, whole or not at all.
    static func writeNPZ(_ arrays: [(name: String, tensor: Tensor)], to file: String) throws {
        do {
            try Progress.activity("writing \(file)") { try NPZ.write(arrays, to: file, protecting: CommandFiles.inputs) }
        } catch {
            throw CommandFailure(error)
        }
    }
}
