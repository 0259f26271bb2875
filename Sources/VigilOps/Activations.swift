import Foundation
import VigilIR

/// Elementwise functions of one float input: activations and unary math. Each is one descriptor
/// with its scalar function as data (``OpTraits/activation``): the executor runs it with its generic
/// unary kernel, `fuse-activations` fuses the fusable ones into Conv/Gemm epilogues, exporters write
/// them back, and `sink-transposes` moves layout ops past all of them. Adding one is one entry here.
public enum Activations {
    static var descriptors: [OpDescriptor] {
        activations + math + [clip]
    }

    /// Activation functions (fusable into a Conv/Gemm epilogue).
    static var activations: [OpDescriptor] {
        [
            unary("Relu", since: 6, types: TypeSets.float.union(TypeSets.signedNumeric),
                  .init(fusable: true, piecewiseLinear: { _ in PiecewiseLinear(low: 0) }) { _ in { $0 < 0 ? 0 : $0 } },
                  integer: { max($0, 0) }),
            unary("LeakyRelu", since: 6, attributes: [.float("alpha", 0.01)],
                  .init(parameters: ["alpha"], fusable: true, piecewiseLinear: { PiecewiseLinear(slope: $0[0]) }) { p in
                      let a = p[0]
                      return { $0 >= 0 ? $0 : a * $0 }
                  }),
            unary("Elu", since: 6, attributes: [.float("alpha", 1)], .init(parameters: ["alpha"], fusable: true) { p in
                let a = p[0]
                return { $0 >= 0 ? $0 : a * (expf($0) - 1) }
            }),
            unary("Selu", since: 6, attributes: [.float("alpha", 1.67326319217681884765625), .float("gamma", 1.05070102214813232421875)],
                  .init(parameters: ["alpha", "gamma"], fusable: true) { p in
                      let (a, g) = (p[0], p[1])
                      return { $0 > 0 ? g * $0 : g * a * (expf($0) - 1) }
                  }),
            unary("Celu", since: 12, attributes: [.float("alpha", 1)], .init(parameters: ["alpha"], fusable: true) { p in
                let a = p[0]
                return { max(0, $0) + min(0, a * (expf($0 / a) - 1)) }
            }),
            unary("Sigmoid", since: 6, .fixed(fusable: true, sigmoid)),
            unary("HardSigmoid", since: 6, attributes: [.float("alpha", 0.2), .float("beta", 0.5)],
                  .init(parameters: ["alpha", "beta"], fusable: true) { p in
                      let (a, b) = (p[0], p[1])
                      return { max(0, min(1, a * $0 + b)) }
                  }),
            unary("HardSwish", since: 14, .init(fusable: true, lower: lowerHardSwish) { _ in hardSwish }),
            unary("Tanh", since: 6, .fixed(fusable: true) { tanhf($0) }),
            unary("Softplus", since: 1, .fixed(fusable: true) { $0 > 0 ? $0 + log1pf(expf(-$0)) : log1pf(expf($0)) }),
            unary("Softsign", since: 1, .fixed(fusable: true) { $0 / (1 + abs($0)) }),
            unary("Mish", since: 18, .fixed(fusable: true) { x in
                // x · tanh(softplus(x)), with softplus computed without overflow.
                x * tanhf(x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)))
            }),
            gelu,
        ]
    }

    /// Unary math (not fused: they rarely follow a convolution).
    static var math: [OpDescriptor] {
        [
            unary("Erf", since: 9, .fixed { erff($0) }),
            unary("Exp", since: 6, .fixed { expf($0) }),
            unary("Log", since: 6, .fixed { logf($0) }),
            unary("Sqrt", since: 6, .fixed { sqrtf($0) }),
            unary("Reciprocal", since: 6, .fixed { 1 / $0 }),
            unary("Floor", since: 6, .fixed { floorf($0) }),
            unary("Ceil", since: 6, .fixed { ceilf($0) }),
            unary("Round", since: 11, .fixed { $0.rounded(.toNearestOrEven) }),
            unary("Abs", since: 6, types: TypeSets.numeric, .fixed { abs($0) }, integer: { $0 < 0 ? 0 &- $0 : $0 }),
            unary("Neg", since: 6, types: TypeSets.signedNumeric, .fixed { -$0 }, integer: { 0 &- $0 }),
            unary("Sign", since: 9, types: TypeSets.numeric, .fixed { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) },
                  integer: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
        ]
    }

    static let sigmoid: ScalarFunction = { $0 >= 0 ? 1 / (1 + expf(-$0)) : expf($0) / (1 + expf($0)) }
    static let hardSwish: ScalarFunction = { $0 * max(0, min(1, $0 / 6 + 0.5)) }

    /// A unary op over `types` whose float function is `activation` (and, for integer inputs, `integer`).
    static func unary(
        _ opType: String, since: Int, types: Set<DType> = TypeSets.float, attributes: [AttributeSpec] = [],
        _ activation: ScalarActivation, integer: (@Sendable (Int64) -> Int64)? = nil
    ) -> OpDescriptor {
        var function = activation
        function.integer = integer
        return OpDescriptor(opType, inputs: 1...1, since: since, attributes: attributes, traits: OpTraits(activation: function)) {
            (c: OpContext) throws(OpError) -> [InferredOutput] in
            [InferredOutput(try c.requireType(0, in: types))]
        }
    }

    /// Gelu: `approximate` ("none" or "tanh") is carried as the parameter 0 or 1.
    static var gelu: OpDescriptor {
        let activation = ScalarActivation(
            parameters: ["approximate"], fusable: true,
            read: { (c: OpContext) throws(OpError) -> [Float]? in
                switch try c.string("approximate") {
                case "none": return [0]
                case "tanh": return [1]
                case let other: throw c.error("unknown approximate '\(other)'", subject: "approximate")
                }
            },
            lower: { l in
                [l.node(attributes: l.parameters[0] == 1 ? [Attribute(name: "approximate", value: .string(Array("tanh".utf8)))] : [])]
            }
        ) { p in
            if p[0] == 1 {
                return { x in 0.5 * x * (1 + tanhf(Float(0.7978845608028654) * (x + 0.044715 * x * x * x))) }
            }
            return { 0.5 * $0 * (1 + erff($0 * 0.70710678118654752)) }
        }
        return unary("Gelu", since: 20, attributes: [.string("approximate", "none")], activation)
    }

    /// HardSwish exists from opset 14; below it, x · HardSigmoid(x; α = 1/6, β = 0.5).
    @Sendable static func lowerHardSwish(_ l: ActivationLowering) -> [Node] {
        guard l.opset < 14 else { return [l.node()] }
        let gate = l.freshName("\(l.output)_gate")
        return [
            Node(name: "\(l.stem)_hardsigmoid", opType: "HardSigmoid", inputs: [l.input], outputs: [gate],
                 attributes: [Attribute(name: "alpha", value: .float(1.0 / 6)), Attribute(name: "beta", value: .float(0.5))]),
            Node(name: "\(l.stem)_mul", opType: "Mul", inputs: [l.input, gate], outputs: [l.output]),
        ]
    }

    /// Clip: bounds are attributes below opset 11 (defaulting to ∓ the largest float) and optional
    /// scalar inputs from 11 on (defaulting to ∓∞); integer inputs run Clip's own kernel.
    static var clip: OpDescriptor {
        let activation = ScalarActivation(
            parameters: ["min", "max"], fusable: true, piecewiseLinear: { PiecewiseLinear(low: $0[0], high: $0[1]) },
            read: { (c: OpContext) throws(OpError) -> [Float]? in
                if c.opset < 11 { return [try c.float("min"), try c.float("max")] }
                var bounds: [Float] = []
                for (index, missing) in [(1, -Float.infinity), (2, Float.infinity)] {
                    guard c.hasInput(index) else { bounds.append(missing); continue }
                    guard let value = c.value(index), value.dtype == .float32, value.elementCount == 1 else { return nil }
                    bounds.append(value.scalars(as: Float.self)[0])
                }
                return bounds
            },
            lower: lowerClip
        ) { p in
            let (low, high) = (p[0], p[1])
            return { x in x < low ? low : (x > high ? high : x) }
        }
        return OpDescriptor("Clip", inputs: 1...3, since: 6,
                            attributes: [.float("min", -.greatestFiniteMagnitude), .float("max", .greatestFiniteMagnitude)],
                            traits: OpTraits(activation: activation), infer: inferClip)
    }

    @Sendable static func lowerClip(_ l: ActivationLowering) throws -> [Node] {
        if l.opset < 11 {
            return [l.node(attributes: [Attribute(name: "min", value: .float(l.parameters[0])), Attribute(name: "max", value: .float(l.parameters[1]))])]
        }
        var inputs = [l.input]
        for (bound, suffix) in zip(l.parameters, ["min", "max"]) {
            guard bound.isFinite else { inputs.append(""); continue }
            inputs.append(try l.addConstant("\(l.stem)_clip_\(suffix)", try Tensor(float32: [bound], shape: [])))
        }
        while inputs.last == "" { inputs.removeLast() }
        var node = l.node()
        node.inputs = inputs
        return [node]
    }

    static func inferClip(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.numeric)
        if c.opset < 11 {
            guard c.node.inputs.count == 1 else { throw c.error("takes min/max as attributes before opset 11") }
        } else {
            for i in 1..<3 where c.hasInput(i) {
                let bound = try c.input(i)
                guard bound.dtype == x.dtype, bound.shape.elementCount == .fixed(1) || bound.rank == 0 else {
                    throw c.error("\(c.inputLabel(i)) must be a scalar of type \(x.dtype), got \(bound)", subject: c.inputLabel(i))
                }
            }
        }
        return [InferredOutput(x)]
    }
}
