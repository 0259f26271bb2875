import VigilIR

import Foundation

/// BatchNormalization (inference: a per-channel scale and shift on any axis) and LayerNormalization.
enum Normalization {
    /// The shape `[1, …, size, …, 1]` that broadcasts a per-axis vector against a tensor of `rank`.
    static func broadcastShape(rank: Int, axes: [Int], sizes: [Int]) -> [Int] {
        var shape = [Int](repeating: 1, count: rank)
        for (axis, size) in zip(axes, sizes) { shape[axis] = size }
        return shape
    }

    static func sizes(_ x: KTensor, axes: [Int], _ call: LayerCall) throws -> [Int] {
        try axes.map { axis in
            guard axis > 0 else { throw call.error(.unsupportedOption, "normalizing over the batch axis is not supported") }
            guard let size = x.shape[axis] else { throw call.error(.invalidConfig, "the input's dimension \(axis) is unknown") }
            return size
        }
    }

    /// y = x · γ/√(σ² + ε) + (β − μ · γ/√(σ² + ε)), folded into two constants as Keras's backend computes it.
    static func batch(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let axes = try call.axes("axis", rank: x.rank, [-1])
        let sizes = try sizes(x, axes: axes, call)
        let count = sizes.reduce(1, *)
        let scale = try call.bool("scale", true), center = try call.bool("center", true)
        let epsilon = try call.double("epsilon", 1e-3)
        var expected: [(role: String, shape: [Int])] = []
        if scale { expected.append(("gamma", sizes)) }
        if center { expected.append(("beta", sizes)) }
        expected += [("moving_mean", sizes), ("moving_variance", sizes)]
        let weights = try call.weights(expected)
        var index = 0
        let gamma = scale ? weights[index].values : [Float](repeating: 1, count: count)
        if scale { index += 1 }
        let beta = center ? weights[index].values : [Float](repeating: 0, count: count)
        if center { index += 1 }
        let mean = weights[index].values, variance = weights[index + 1].values
        var multiplier = [Float](repeating: 0, count: count), shift = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let inv = Float(1 / (Double(variance[i]) + epsilon).squareRoot()) * gamma[i]
            multiplier[i] = inv
            shift[i] = beta[i] - mean[i] * inv
        }
        let shape = broadcastShape(rank: x.rank, axes: axes, sizes: sizes)
        let a = try call.constant("scale", shape: shape) { multiplier }
        let b = try call.constant("shift", shape: shape) { shift }
        let y = try call.op("Add", [try call.op("Mul", [x.name, a]), b])
        return [KTensor(name: y, shape: x.shape)]
    }

    /// ONNX LayerNormalization when the axes are the trailing ones, else mean/variance ops.
    static func layer(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        guard try !call.bool("rms_scaling", false) else { throw call.error(.unsupportedOption, "rms_scaling is not supported") }
        let axes = try call.axes("axis", rank: x.rank, [-1])
        let sizes = try sizes(x, axes: axes, call)
        let count = sizes.reduce(1, *)
        let scale = try call.bool("scale", true), center = try call.bool("center", true)
        let epsilon = try call.double("epsilon", 1e-3)
        var expected: [(role: String, shape: [Int])] = []
        if scale { expected.append(("gamma", sizes)) }
        if center { expected.append(("beta", sizes)) }
        let weights = try call.weights(expected)
        let gammaValues = scale ? weights[0].values : [Float](repeating: 1, count: count)
        let betaValues = center ? weights[scale ? 1 : 0].values : nil
        let trailing = axes == Array((x.rank - axes.count)..<x.rank)
        if trailing {
            let gamma = try call.constant("gamma", shape: sizes) { gammaValues }
            var inputs = [x.name, gamma]
            if let betaValues { inputs.append(try call.constant("beta", shape: sizes) { betaValues }) }
            let y = try call.op("LayerNormalization", inputs, [.int("axis", axes[0]), .float("epsilon", epsilon)])
            return [KTensor(name: y, shape: x.shape)]
        }
        let shape = broadcastShape(rank: x.rank, axes: axes, sizes: sizes)
        let reduce: [Attribute] = [.ints("axes", axes), .int("keepdims", 1)]
        let mean = try call.op("ReduceMean", [x.name], reduce)
        let centered = try call.op("Sub", [x.name, mean])
        let variance = try call.op("ReduceMean", [try call.op("Mul", [centered, centered])], reduce)
        let std = try call.op("Sqrt", [try call.op("Add", [variance, try call.builder.scalar(Float(epsilon))])])
        var y = try call.op("Div", [centered, std])
        y = try call.op("Mul", [y, try call.constant("gamma", shape: shape) { gammaValues }])
        if let betaValues { y = try call.op("Add", [y, try call.constant("beta", shape: shape) { betaValues }]) }
        return [KTensor(name: y, shape: x.shape)]
    }
}
