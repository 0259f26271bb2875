// Uses Vigil from another package: load the bundled embedding network (ONNX and Keras), run a batch,
// fit the novelty detector and flag out-of-distribution inputs.
import Foundation
import VigilDetector
import VigilNumpy
import VigilRuntime

/// Prints one line on stderr and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("EmbeddingExample: error: \(message)\n".utf8))
    exit(1)
}

// MARK: Arguments

var fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/detector")
var outputFolder: URL?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    guard ["--fixtures", "-o"].contains(argument), let value = arguments.popFirst() else {
        fail("unexpected argument '\(argument)' (usage: EmbeddingExample [--fixtures DIR] [-o OUT_DIR])")
    }
    if argument == "-o" { outputFolder = URL(fileURLWithPath: value) } else { fixtures = URL(fileURLWithPath: value) }
}

// MARK: Helpers

/// Images `[N, 28, 28]` (uint8) in `range` as the network's input `[n, 28, 28, 1]`, scaled to [0, 1],
/// written straight into the tensor's storage.
func batch(_ images: Tensor, _ range: Range<Int>) throws -> TypedTensor<Float> {
    let pixels = 28 * 28
    let bytes = try images.typed(as: UInt8.self)
    return try bytes.withUnsafeBufferPointer { source in
        try TypedTensor<Float>(shape: [range.count, 28, 28, 1]) { target in
            for i in 0..<(range.count * pixels) { target[i] = Float(source[range.lowerBound * pixels + i]) / 255 }
        }
    }
}

/// The network's only output for a batch of images, as detector embeddings.
func embed(_ network: Network, _ images: TypedTensor<Float>) throws -> Embeddings {
    let output = try network.run(images.tensor)[network.outputs[0].name]!
    return try Embeddings(output)
}

/// The largest absolute difference between two equally long arrays.
func maxDifference(_ a: [Float], _ b: some Collection<Float>) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

// MARK: Main

do {
    let onnx = try Network(contentsOf: fixtures.appendingPathComponent("embedding.onnx"))
    let keras = try Network(contentsOf: fixtures.appendingPathComponent("embedding.h5"))
    print("ONNX network:  \(onnx.inputs[0]) -> \(onnx.outputs[0]) (\(onnx.model.graph.nodeCount) nodes after optimization)")
    print("Keras network: \(keras.inputs[0]) -> \(keras.outputs[0]) (\(keras.model.graph.nodeCount) nodes after optimization)")

    // One batch through both networks, against onnxruntime's recorded embeddings.
    let testImages = try NPY.read(at: fixtures.appendingPathComponent("test_images.npy").path)
    let reference = try NPY.read(at: fixtures.appendingPathComponent("test_embedding.npy").path).typed(as: Float.self).scalars
    let first = try batch(testImages, 0..<64)
    let fromONNX = try embed(onnx, first), fromKeras = try embed(keras, first)
    let expected = reference.prefix(64 * fromONNX.dimension)
    let differences = (maxDifference(fromONNX.values, expected), maxDifference(fromKeras.values, expected))
    print(String(format: "batch of 64: embeddings [64, %d]; max |difference| to onnxruntime: ONNX %.2g, Keras %.2g",
                 fromONNX.dimension, differences.0, differences.1))
    let close = zip(fromONNX.values + fromKeras.values, Array(expected) + Array(expected)).allSatisfy { abs($0 - $1) <= 1e-5 + 1e-4 * abs($1) }
    guard close else { fail("the embeddings differ from onnxruntime's by more than atol 1e-5 + rtol 1e-4") }

    if let outputFolder {
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        try NPY.write(first.tensor, to: outputFolder.appendingPathComponent("batch.npy").path)
        for (name, network) in [("onnx", onnx), ("keras", keras)] {
            let outputs = try network.runOrdered([network.inputs[0].name: first.tensor])
            try NPZ.write(outputs, to: outputFolder.appendingPathComponent("\(name).npz").path)
        }
        print("wrote \(outputFolder.path)/{batch.npy,onnx.npz,keras.npz}")
    }

    // Fit the detector on the training digits 0–4, calibrate at 95% TPR on the validation digits.
    let trainImages = try NPY.read(at: fixtures.appendingPathComponent("train_images.npy").path)
    let labels = try NPY.read(at: fixtures.appendingPathComponent("train_labels.npy").path).typed(as: Int64.self).scalars.map { Int($0) }
    let train = try embed(onnx, batch(trainImages, 0..<labels.count))
    var detector = try Detector.fit(embeddings: train, labels: labels)
    let validationImages = try NPY.read(at: fixtures.appendingPathComponent("val_images.npy").path)
    let validation = try embed(onnx, batch(validationImages, 0..<validationImages.shape[0]))
    try detector.calibrate([.meanDistance: validation], tpr: 0.95)
    print(String(format: "detector: %d classes, %d training embeddings; mean_distance threshold %.4f",
                 detector.classCount, detector.trainingCount, detector.thresholds["mean_distance"]!))

    // Flag inputs: test digits (in distribution), uniform noise and digits 5–9 (out of distribution).
    var rates: [String: Double] = [:]
    for name in ["test", "uniform", "novelty"] {
        let images = try NPY.read(at: fixtures.appendingPathComponent("\(name)_images.npy").path)
        let flags = try detector.isOutOfDistribution(.meanDistance, embed(onnx, batch(images, 0..<images.shape[0])))
        rates[name] = Double(flags.filter { $0 }.count) / Double(flags.count)
        print(name.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: " %4d images, %5.1f%% flagged out of distribution", flags.count, 100 * rates[name]!))
    }
    let noise = try batch(NPY.read(at: fixtures.appendingPathComponent("uniform_images.npy").path), 0..<1)
    let flagged = try detector.isOutOfDistribution(.meanDistance, embed(keras, noise))[0]
    print("one uniform-noise image through the Keras network: \(flagged ? "flagged" : "not flagged") out of distribution")
    guard flagged, rates["uniform"]! > 0.9, rates["test"]! < 0.1 else { fail("the detector did not separate noise from test digits") }
} catch {
    fail("\(error)")
}
