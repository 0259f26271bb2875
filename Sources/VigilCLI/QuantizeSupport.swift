import ArgumentParser
import Foundation
import VigilDetector
import VigilIR
import VigilQuantizer

/// `vigil quantize`'s inputs: sample files and the names `--exclude` gives.
enum QuantizeSupport {
    /// Every `--exclude` value must name a node or an op type of the model (a usage error otherwise).
    static func checkExclusions(_ values: [String], in model: Model) throws {
        let names = Set(model.graph.nodes.flatMap { [$0.name, $0.opType] + ($0.name.isEmpty ? $0.outputs.prefix(1) : []) })
        for value in values where !names.contains(value) {
            throw ValidationError("--exclude '\(value)' names no node and no op type of the model")
        }
    }

    /// Reads sample files for a model: `.npy` (one input) or `.npz` keyed by input name, concatenated
    /// along the first dimension, checked against the inputs; with a detector, images preprocessed by
    /// its rule.
    struct SampleReader {
        let model: Model
        let file: String
        let detector: String?

        func read(_ files: [String]) throws -> SampleSet {
            let inputs = model.graph.runtimeInputs
            var parts: [String: [(file: String, tensor: Tensor)]] = [:]
            for path in files {
                for (name, tensor) in try TensorFiles.read(path) {
                    let key: String
                    if let name, path.lowercased().hasSuffix(".npz") || path.lowercased().hasSuffix(".pb") {
                        guard inputs.contains(where: { $0.name == name }) else {
                            throw CommandFailure("\(path): array '\(name)' is not an input of the model (inputs: \(inputs.map { "'\($0.name)'" }.joined(separator: ", ")))")
                        }
                        key = name
                    } else {
                        guard inputs.count == 1 else {
                            throw CommandFailure("\(path): a .npy gives one input but the model has \(inputs.count); use an .npz keyed by input name")
                        }
                        key = inputs[0].name
                    }
                    parts[key, default: []].append((path, try prepared(tensor, file: path, input: inputs.first { $0.name == key }!)))
                }
            }
            for input in inputs where parts[input.name] == nil {
                throw CommandFailure("\(files.joined(separator: ", ")): no samples for the model input '\(input.name)'")
            }
            do {
                return try SampleSet(parts.mapValues { try join($0) })
            } catch let error as QuantizationError {
                throw CommandFailure("\(files.joined(separator: ", ")): \(error.message)")
            }
        }

        /// A file's array as the input takes it (images through the detector's preprocessing), checked.
        func prepared(_ tensor: Tensor, file path: String, input: ValueInfo) throws -> Tensor {
            var tensor = tensor
            if let detector {
                let fitted = try DetectSupport.detector(detector)
                let sample = input.type?.tensorType?.shape?.dims.dropFirst().map { $0.value ?? 0 } ?? []
                guard !sample.contains(0) else { throw CommandFailure("\(file): --detector needs an input of static sample shape, '\(input.name)' is \(input.type?.description ?? "undeclared")") }
                do {
                    let rule = try (fitted.model?.preprocessing ?? Preprocessing()).resolved(sampleShape: sample)
                    tensor = try Tensor(float32: try rule.apply(tensor, sampleShape: sample), shape: [tensor.shape.first ?? 0] + sample)
                } catch {
                    throw CommandFailure("\(path): \(error)")
                }
            }
            var perSample = input
            if case .tensor(let dtype, let shape?)? = input.type, shape.rank > 0 {
                perSample.type = .tensor(dtype, Shape([.unknown] + shape.dims.dropFirst()))
            }
            if let problem = InputOptions.mismatch(tensor, perSample) {
                throw CommandFailure("\(path): the model cannot take it as input '\(input.name)': \(problem)")
            }
            return tensor
        }

        /// Arrays of one input joined along the first dimension (their other dimensions must agree).
        func join(_ parts: [(file: String, tensor: Tensor)]) throws -> Tensor {
            guard let first = parts.first?.tensor else { throw CommandFailure("no samples") }
            var bytes: [UInt8] = []
            for (path, tensor) in parts {
                guard tensor.dtype == first.dtype, Array(tensor.shape.dropFirst()) == Array(first.shape.dropFirst()) else {
                    throw CommandFailure("\(path): \(tensor.dtype)\(tensor.shape) does not match \(parts[0].file)'s \(first.dtype)\(first.shape)")
                }
                bytes += Array(tensor.buffer!.bytes)
            }
            let count = parts.reduce(0) { $0 + ($1.tensor.shape.first ?? 0) }
            return try Tensor(dtype: first.dtype, shape: [count] + first.shape.dropFirst(), contents: .bytes(bytes.withUnsafeBytes { TensorBuffer(copying: $0) }))
        }
    }

    /// Shows each phase the quantizer reports as a progress line, finishing the previous one.
    final class Phases {
        private var current: Progress?
        let enabled: Bool

        init(enabled: Bool) { self.enabled = enabled }

        func start(_ message: String) {
            current?.finish()
            current = enabled ? Progress(message, total: nil) : nil
        }

        func finish() {
            current?.finish()
            current = nil
        }
    }
}
