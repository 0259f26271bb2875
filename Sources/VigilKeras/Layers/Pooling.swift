import VigilIR

/// Max and average pooling (1-D to 3-D) and their global forms.
enum Pooling {
    private static func pool(_ call: LayerCall, op: String) throws -> [KTensor] {
        let x = try call.input
        let (spatial, channels, last) = try Convolution.layout(x, call)
        let n = spatial.count
        let size = try call.positiveInts("pool_size", count: n, 2)
        let strides = call.config["strides"] == nil ? size : try call.positiveInts("strides", count: n)
        let window = try Convolution.window(spatial: spatial, kernel: size, strides: strides, dilations: Array(repeating: 1, count: n),
                                            padding: try call.string("padding", "valid"), call)
        var attributes = window.attributes
        if op == "AveragePool" { attributes.append(.int("count_include_pad", 0)) }
        let y = try Convolution.inChannelsFirst(x, channelsLast: last, call) { xt in try call.op(op, [xt], attributes) }
        return [KTensor(name: y, shape: Convolution.outputShape(x, spatial: window.outputSpatial, channels: channels, channelsLast: last))]
    }

    static func max(_ call: LayerCall) throws -> [KTensor] { try pool(call, op: "MaxPool") }
    static func average(_ call: LayerCall) throws -> [KTensor] { try pool(call, op: "AveragePool") }

    private static func global(_ call: LayerCall, op: String) throws -> [KTensor] {
        let x = try call.input
        let last = try call.channelsLast
        let axes = last ? Array(1..<(x.rank - 1)) : Array(2..<x.rank)
        let keep = try call.bool("keepdims", false)
        let y = try call.op(op, [x.name], [.ints("axes", axes), .int("keepdims", keep ? 1 : 0)])
        var shape: [Int?] = []
        for (axis, size) in x.shape.enumerated() {
            if !axes.contains(axis) { shape.append(size) } else if keep { shape.append(1) }
        }
        return [KTensor(name: y, shape: shape)]
    }

    static func globalAverage(_ call: LayerCall) throws -> [KTensor] { try global(call, op: "ReduceMean") }
    static func globalMax(_ call: LayerCall) throws -> [KTensor] { try global(call, op: "ReduceMax") }
}
