import VigilIR

/// MaxPool, AveragePool and the global pools.
public enum Pooling {
    static var descriptors: [OpDescriptor] {
        let window: [AttributeSpec] = [
            .string("auto_pad", "NOTSET"), .int("ceil_mode", 0), .optional("dilations", .ints), .required("kernel_shape", .ints),
            .optional("pads", .ints), .optional("strides", .ints),
        ]
        return [
            OpDescriptor("MaxPool", inputs: 1...1, outputs: 1...2, since: 1, attributes: window + [.int("storage_order", 0)], infer: inferPool),
            OpDescriptor("AveragePool", inputs: 1...1, since: 1, attributes: window + [.int("count_include_pad", 0)], infer: inferPool),
            OpDescriptor("GlobalAveragePool", inputs: 1...1, since: 1, infer: inferGlobal),
            OpDescriptor("GlobalMaxPool", inputs: 1...1, since: 1, infer: inferGlobal),
        ]
    }

    /// Resolved MaxPool / AveragePool parameters.
    public struct PoolAttributes: Sendable {
        public var geometry: WindowGeometry
        public var countIncludePad: Bool
        public var ceilMode: Bool

        public init(_ c: OpContext) throws(OpError) {
            if c.opType == "MaxPool", c.opset >= 12, let t = c.inputTypes.first ?? nil, t.dtype == .int8 || t.dtype == .uint8 {
                // Valid since opset 12; the CPU kernels are float-only.
                throw c.error("MaxPool on \(t.dtype) is not supported", subject: c.inputLabel(0), kind: .unsupported)
            }
            let x = try c.requireType(0, in: TypeSets.float)
            guard x.rank >= 3 else { throw c.error("X must have rank ≥ 3 (N, C, spatial…), got \(x.shape)", subject: c.inputLabel(0)) }
            guard let kernel = try c.ints("kernel_shape") else {
                throw c.error("the required attribute kernel_shape is missing", subject: "kernel_shape")
            }
            ceilMode = try c.int("ceil_mode") != 0
            let isMax = c.opType == "MaxPool"
            countIncludePad = isMax ? false : try c.int("count_include_pad") != 0
            if isMax, try c.int("storage_order") != 0 {
                throw c.error("storage_order=1 (column-major indices) is not supported", subject: "storage_order", kind: .unsupported)
            }
            let dilations = c.opType == "MaxPool" ? c.opset >= 10 : c.opset >= 19
            geometry = try WindowGeometry.resolve(
                c, inputSpatial: Array(x.shape.dims.dropFirst(2)), kernel: kernel, ceilMode: ceilMode, allowDilations: dilations)
        }
    }

    static func inferPool(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let attrs = try PoolAttributes(c)
        let x = try c.input(0)
        let shape = Shape(Array(x.shape.dims.prefix(2)) + attrs.geometry.outputSpatial)
        return [InferredOutput(TensorType(x.dtype, shape)), InferredOutput(TensorType(.int64, shape))]
    }

    static func inferGlobal(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        guard x.rank >= 2 else { throw c.error("X must have rank ≥ 2, got \(x.shape)", subject: c.inputLabel(0)) }
        let shape = Shape(Array(x.shape.dims.prefix(2)) + Array(repeating: .fixed(1), count: x.rank - 2))
        return [InferredOutput(TensorType(x.dtype, shape))]
    }
}
