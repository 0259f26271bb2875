import VigilIR

/// Rescaling, Normalization (mean/variance, from the config or the weights), UnitNormalization, Identity.
enum Preprocessing {
    static func rescaling(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let scale = call.config["scale"]?.doubles ?? [1], offset = call.config["offset"]?.doubles ?? [0]
        func constant(_ role: String, _ values: [Double]) throws -> String {
            if values.count == 1 { return try call.builder.scalar(Float(values[0])) }
            return try call.constant(role, shape: [values.count]) { values.map(Float.init) }
        }
        var y = x.name
        if scale != [1] { y = try call.op("Mul", [y, try constant("scale", scale)]) }
        if offset != [0] { y = try call.op("Add", [y, try constant("offset", offset)]) }
        if y == x.name { y = try call.op("Identity", [y]) }
        return [KTensor(name: y, shape: x.shape)]
    }

    /// (x − mean) / max(√variance, 1e-7), or the inverse when `invert` is set.
    static func normalization(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let axes = try call.axes("axis", rank: x.rank, [-1])
        let sizes = try Normalization.sizes(x, axes: axes, call)
        let count = sizes.reduce(1, *)
        var mean: [Float], variance: [Float]
        if let m = call.config["mean"]?.doubles, let v = call.config["variance"]?.doubles {
            func expand(_ values: [Double]) throws -> [Float] {
                if values.count == 1 { return Array(repeating: Float(values[0]), count: count) }
                guard values.count == count else {
                    throw call.error(.invalidConfig, "mean/variance have \(values.count) values, the axes need \(count)")
                }
                return values.map(Float.init)
            }
            mean = try expand(m)
            variance = try expand(v)
        } else {
            let weights = try call.weights([("mean", sizes), ("variance", sizes), ("count", [])])
            mean = weights[0].values
            variance = weights[1].values
        }
        let denominators = variance.map { Swift.max(Float(Double($0).squareRoot()), 1e-7) }
        let shape = Normalization.broadcastShape(rank: x.rank, axes: axes, sizes: sizes)
        let meanName = try call.constant("mean", shape: shape) { mean }
        let denominator = try call.constant("denominator", shape: shape) { denominators }
        let y: String
        if try call.bool("invert", false) {
            y = try call.op("Add", [try call.op("Mul", [x.name, denominator]), meanName])
        } else {
            y = try call.op("Div", [try call.op("Sub", [x.name, meanName]), denominator])
        }
        return [KTensor(name: y, shape: x.shape)]
    }

    /// x · min(1/√Σx², 1e12) over the axes, as Keras computes it: x / max(√Σx², 1e-12).
    static func unitNormalization(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let axes = try call.axes("axis", rank: x.rank, [-1])
        let sum = try call.op("ReduceSumSquare", [x.name], [.ints("axes", axes), .int("keepdims", 1)])
        let norm = try call.op("Max", [try call.op("Sqrt", [sum]), try call.builder.scalar(1e-12)])
        return [KTensor(name: try call.op("Div", [x.name, norm]), shape: x.shape)]
    }

    static func identity(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        return [KTensor(name: try call.op("Identity", [x.name]), shape: x.shape)]
    }
}
