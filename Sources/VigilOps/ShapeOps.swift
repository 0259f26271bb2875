import VigilIR

/// Ops that move, select or describe data without arithmetic: reshapes, transposes, slicing,
/// gathering, padding, casts and the shape/constant producers.
public enum ShapeOps {
    static var descriptors: [OpDescriptor] {
        [
            OpDescriptor("Identity", inputs: 1...1, traits: OpTraits(commutesWithLayout: true), infer: inferIdentity),
            OpDescriptor("Dropout", inputs: 1...3, outputs: 1...2, attributes: [.float("ratio", 0.5), .optional("seed", .int)],
                         infer: inferDropout),
            OpDescriptor("Flatten", inputs: 1...1, attributes: [.int("axis", 1)], infer: inferFlatten),
            OpDescriptor("Reshape", inputs: 2...2, since: 5, attributes: [.int("allowzero", 0)], infer: inferReshape),
            OpDescriptor("Transpose", inputs: 1...1, attributes: [.optional("perm", .ints)], infer: inferTranspose),
            OpDescriptor("Concat", inputs: 1...Int.max, since: 4, attributes: [.required("axis", .int)], infer: inferConcat),
            OpDescriptor("Split", inputs: 1...2, outputs: 1...Int.max, since: 2,
                         attributes: [.int("axis", 0), .optional("split", .ints), .optional("num_outputs", .int)], infer: inferSplit),
            OpDescriptor("Slice", inputs: 1...5,
                         attributes: [.optional("axes", .ints), .optional("starts", .ints), .optional("ends", .ints)], infer: inferSlice),
            OpDescriptor("Gather", inputs: 2...2, attributes: [.int("axis", 0)], infer: inferGather),
            OpDescriptor("Squeeze", inputs: 1...2, attributes: [.optional("axes", .ints)], infer: inferSqueeze),
            OpDescriptor("Unsqueeze", inputs: 1...2, attributes: [.optional("axes", .ints)], infer: inferUnsqueeze),
            OpDescriptor("Pad", inputs: 1...4, since: 2,
                         attributes: [.string("mode", "constant"), .optional("pads", .ints), .float("value", 0)],
                         infer: inferPad),
            OpDescriptor("Shape", inputs: 1...1, attributes: [.int("start", 0), .optional("end", .int)], infer: inferShape),
            OpDescriptor("Size", inputs: 1...1, infer: inferSize),
            OpDescriptor("Constant", inputs: 0...0,
                         attributes: [
                             .optional("value", .tensor), .optional("value_float", .float), .optional("value_floats", .floats),
                             .optional("value_int", .int), .optional("value_ints", .ints), .optional("value_string", .string),
                             .optional("value_strings", .strings), .optional("sparse_value", .sparseTensor),
                         ],
                         infer: inferConstant),
            OpDescriptor("ConstantOfShape", inputs: 1...1, since: 9, attributes: [.optional("value", .tensor)], infer: inferConstantOfShape),
            OpDescriptor("Cast", inputs: 1...1, since: 6, attributes: [.required("to", .int), .int("saturate", 1)], infer: inferCast),
            OpDescriptor("Expand", inputs: 2...2, since: 8, infer: inferExpand),
            OpDescriptor("Tile", inputs: 2...2, since: 6, infer: inferTile),
            OpDescriptor("Range", inputs: 3...3, since: 11, infer: inferRange),
            OpDescriptor("DepthToSpace", inputs: 1...1, attributes: [.required("blocksize", .int), .string("mode", "DCR")],
                         infer: inferDepthToSpace),
            OpDescriptor("SpaceToDepth", inputs: 1...1, attributes: [.required("blocksize", .int)], infer: inferSpaceToDepth),
        ]
    }

    static func inferIdentity(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        [InferredOutput(try c.input(0), value: c.value(0))]
    }

    static func inferDropout(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        if c.opset >= 12, c.hasInput(2) {
            guard let training = c.value(2)?.buffer?.bytes.first else {
                throw c.error("\(c.inputLabel(2)) (training_mode) must be a constant", subject: c.inputLabel(2), kind: .unresolved)
            }
            if training != 0 { throw c.error("training_mode=true is not supported (inference only)", subject: c.inputLabel(2), kind: .unsupported) }
        }
        return [InferredOutput(x, value: c.value(0)), InferredOutput(TensorType(.bool, x.shape))]
    }

    static func inferFlatten(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let axis = try c.int("axis")
        let a = axis < 0 ? axis + x.rank : axis
        guard a >= 0, a <= x.rank else { throw c.error("axis \(axis) is out of range for rank \(x.rank)", subject: "axis") }
        let outer = Shape(Array(x.shape.dims[..<a])).elementCount
        let inner = Shape(Array(x.shape.dims[a...])).elementCount
        return [InferredOutput(TensorType(x.dtype, Shape([outer, inner])))]
    }

    /// Resolves a Reshape target (0 copies the input dim unless `allowZero`, -1 is inferred).
    public static func reshapeTarget(_ c: OpContext, input: Shape, target: [Int], allowZero: Bool) throws(OpError) -> Shape {
        var dims: [Dim] = []
        var inferred: Int?
        for (i, t) in target.enumerated() {
            switch t {
            case -1:
                guard inferred == nil else { throw c.error("shape \(target) has more than one -1", subject: c.inputLabel(1)) }
                inferred = i
                dims.append(.unknown)
            case 0 where !allowZero:
                guard i < input.rank else { throw c.error("shape \(target) copies dim \(i) but the input \(input) has rank \(input.rank)", subject: c.inputLabel(1)) }
                dims.append(input.dims[i])
            default:
                guard t >= 0 else { throw c.error("shape \(target) has an invalid size \(t)", subject: c.inputLabel(1)) }
                dims.append(.fixed(t))
            }
        }
        if let index = inferred {
            let known = Shape(dims.enumerated().filter { $0.offset != index }.map(\.element)).elementCount
            if let total = input.elementCount.value, let part = known.value {
                guard part > 0, total % part == 0 else {
                    throw c.error("cannot reshape \(input) (\(total) elements) to \(target)", subject: c.inputLabel(1))
                }
                dims[index] = .fixed(total / part)
            } else if known == .fixed(1) {
                dims[index] = input.elementCount
            } else if let sym = symbolicQuotient(input, Shape(dims.enumerated().filter { $0.offset != index }.map(\.element))) {
                dims[index] = sym
            }
        } else if let total = input.elementCount.value, let out = Shape(dims).elementCount.value, total != out {
            throw c.error("cannot reshape \(input) (\(total) elements) to \(target) (\(out) elements)", subject: c.inputLabel(1))
        }
        return Shape(dims)
    }

    /// `input / known` for symbolic shapes: symbols present in both cancel, e.g. [N, 8, 4] / [N] = 32
    /// and [N, 8, 4] / [32] = N. `nil` when the quotient cannot be named.
    private static func symbolicQuotient(_ input: Shape, _ known: Shape) -> Dim? {
        var numerator = input.dims, denominator = known.dims
        for (i, d) in denominator.enumerated().reversed() {
            guard case .symbolic = d, let j = numerator.firstIndex(of: d) else { continue }
            numerator.remove(at: j)
            denominator.remove(at: i)
        }
        guard let below = Shape(denominator).staticSizes?.reduce(1, *), below > 0 else { return nil }
        let fixed = numerator.compactMap(\.value).reduce(1, *)
        let symbolic = numerator.filter { $0.value == nil }
        if symbolic.isEmpty { return fixed % below == 0 ? .fixed(fixed / below) : nil }
        guard symbolic.count == 1, case .symbolic = symbolic[0], fixed == below else { return nil }
        return symbolic[0]
    }

    static func inferReshape(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        _ = try c.requireType(1, in: [.int64])
        guard let target = try c.intsInput(1) else { throw c.error("missing shape input") }
        let allowZero = try c.int("allowzero") != 0
        return [InferredOutput(TensorType(x.dtype, try reshapeTarget(c, input: x.shape, target: target, allowZero: allowZero)))]
    }

    /// The permutation of a Transpose (default: reversed axes), validated.
    public static func permutation(_ c: OpContext, rank: Int) throws(OpError) -> [Int] {
        let perm = try c.ints("perm") ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else {
            throw c.error("perm \(perm) is not a permutation of 0..<\(rank)", subject: "perm")
        }
        return perm
    }

    static func inferTranspose(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let perm = try permutation(c, rank: x.rank)
        return [InferredOutput(TensorType(x.dtype, Shape(perm.map { x.shape.dims[$0] })))]
    }

    static func inferConcat(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let first = try c.input(0)
        let dtype = try c.sameType(Array(c.node.inputs.indices))
        let rawAxis = try c.int("axis")
        let axis = try c.axis(rawAxis, rank: first.rank)
        var dims = first.shape.dims
        var total: Dim = .fixed(0)
        for i in c.node.inputs.indices {
            let t = try c.input(i)
            guard t.rank == first.rank else {
                throw c.error("\(c.inputLabel(i)) has rank \(t.rank) but \(c.inputLabel(0)) has \(first.rank)", subject: c.inputLabel(i))
            }
            for d in 0..<t.rank where d != axis {
                if let a = dims[d].value, let b = t.shape.dims[d].value, a != b {
                    throw c.error("\(c.inputLabel(i)) \(t.shape) differs from \(first.shape) on axis \(d)", subject: c.inputLabel(i))
                }
                if dims[d].value == nil, t.shape.dims[d].value != nil { dims[d] = t.shape.dims[d] }
            }
            if let a = total.value, let b = t.shape.dims[axis].value { total = .fixed(a + b) } else { total = .unknown }
        }
        dims[axis] = total
        return [InferredOutput(TensorType(dtype, Shape(dims)))]
    }

    /// Resolved Split parameters: the axis and the size of every output along it (when known).
    public struct SplitAttributes: Sendable {
        public var axis: Int
        public var sizes: [Int]?

        public init(_ c: OpContext) throws(OpError) {
            let x = try c.input(0)
            axis = try c.axis(try c.int("axis"), rank: x.rank)
            let outputs = c.node.outputs.count
            let given = c.opset >= 13 ? try c.intsInput(1) : try c.ints("split")
            if let given, !given.isEmpty {
                guard given.count == outputs, given.allSatisfy({ $0 >= 0 }) else {
                    throw c.error("split \(given) must give \(outputs) non-negative sizes", subject: "split")
                }
                if let size = x.shape.dims[axis].value, given.reduce(0, +) != size {
                    throw c.error("split \(given) does not sum to the axis size \(size)", subject: "split")
                }
                sizes = given
            } else if let size = x.shape.dims[axis].value {
                if c.opset >= 18, let n = try c.optionalInt("num_outputs") {
                    guard n == outputs else { throw c.error("num_outputs \(n) differs from the \(outputs) outputs", subject: "num_outputs") }
                    let chunk = (size + n - 1) / n
                    sizes = (0..<n).map { max(0, min(chunk, size - $0 * chunk)) }
                } else {
                    guard size % outputs == 0 else {
                        throw c.error("axis size \(size) does not split evenly into \(outputs) outputs", subject: "split")
                    }
                    sizes = Array(repeating: size / outputs, count: outputs)
                }
            } else {
                sizes = nil
            }
        }
    }

    static func inferSplit(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let attrs = try SplitAttributes(c)
        return c.node.outputs.indices.map { i in
            var dims = x.shape.dims
            dims[attrs.axis] = attrs.sizes.map { .fixed($0[i]) } ?? .unknown
            return InferredOutput(TensorType(x.dtype, Shape(dims)))
        }
    }

    /// A resolved slice: per input axis, the clamped start, step and element count.
    public struct SliceAttributes: Sendable {
        public var starts: [Int]
        public var steps: [Int]
        public var counts: [Int]

        /// Resolves the slice against a static input shape.
        public init(_ c: OpContext, shape: [Int]) throws(OpError) {
            let rank = shape.count
            let startsList: [Int], endsList: [Int], axesList: [Int]?, stepsList: [Int]?
            if c.opset < 10 {
                guard let s = try c.ints("starts"), let e = try c.ints("ends") else {
                    throw c.error("the required attributes starts and ends are missing")
                }
                (startsList, endsList, axesList, stepsList) = (s, e, try c.ints("axes"), nil)
            } else {
                guard let s = try c.intsInput(1), let e = try c.intsInput(2) else { throw c.error("missing starts or ends input") }
                (startsList, endsList, axesList, stepsList) = (s, e, try c.intsInput(3), try c.intsInput(4))
            }
            let axes = axesList ?? Array(0..<startsList.count)
            let steps = stepsList ?? Array(repeating: 1, count: startsList.count)
            guard endsList.count == startsList.count, axes.count == startsList.count, steps.count == startsList.count else {
                throw c.error("starts, ends, axes and steps must have equal lengths")
            }
            self.starts = Array(repeating: 0, count: rank)
            self.steps = Array(repeating: 1, count: rank)
            self.counts = shape
            var seen = Set<Int>()
            for (i, rawAxis) in axes.enumerated() {
                let axis = try c.axis(rawAxis, rank: rank)
                guard seen.insert(axis).inserted else { throw c.error("axes \(axes) repeat an axis", subject: "axes") }
                let size = shape[axis]
                guard steps[i] != 0 else { throw c.error("steps must be non-zero", subject: "steps") }
                // A step longer than the axis takes one element at most: clamp it so nothing overflows.
                let step = steps[i] > 0 ? min(steps[i], size + 1) : max(steps[i], -(size + 1))
                var start = startsList[i], end = endsList[i]
                if start < 0 { start += size }
                if end < 0 { end += size }
                if step > 0 {
                    start = min(max(start, 0), size)
                    end = min(max(end, 0), size)
                    counts[axis] = max(0, (end - start + step - 1) / step)
                } else {
                    start = min(max(start, 0), size - 1)
                    end = min(max(end, -1), size - 1)
                    counts[axis] = max(0, (start - end + (-step) - 1) / (-step))
                }
                self.starts[axis] = start
                self.steps[axis] = step
            }
        }
    }

    static func inferSlice(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        if let sizes = x.shape.staticSizes {
            let attrs = try SliceAttributes(c, shape: sizes)
            return [InferredOutput(TensorType(x.dtype, Shape(static: attrs.counts)))]
        }
        // Symbolic input: untouched axes keep their dims, sliced ones become unknown.
        var dims = x.shape.dims
        let axesList = c.opset < 10 ? try c.ints("axes") : try c.intsInput(3)
        let count = c.opset < 10 ? (try c.ints("starts")?.count ?? 0) : (try c.intsInput(1)?.count ?? 0)
        for raw in axesList ?? Array(0..<count) { dims[try c.axis(raw, rank: x.rank)] = .unknown }
        return [InferredOutput(TensorType(x.dtype, Shape(dims)))]
    }

    static func inferGather(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let data = try c.input(0)
        let indices = try c.requireType(1, in: TypeSets.indices)
        guard data.rank >= 1 else { throw c.error("data must have rank ≥ 1", subject: c.inputLabel(0)) }
        let axis = try c.axis(try c.int("axis"), rank: data.rank)
        let dims = Array(data.shape.dims[..<axis]) + indices.shape.dims + Array(data.shape.dims[(axis + 1)...])
        return [InferredOutput(TensorType(data.dtype, Shape(dims)))]
    }

    /// The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input from 13 on.
    public static func squeezeAxes(_ c: OpContext) throws(OpError) -> [Int]? {
        c.opset >= 13 ? try c.intsInput(1) : try c.ints("axes")
    }

    static func inferSqueeze(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let dims: [Dim]
        if let axes = try squeezeAxes(c) {
            var normalized = Set<Int>()
            for a in axes { normalized.insert(try c.axis(a, rank: x.rank)) }
            for a in normalized where x.shape.dims[a].value != nil && x.shape.dims[a].value != 1 {
                throw c.error("cannot squeeze axis \(a) of size \(x.shape.dims[a]) in \(x.shape)", subject: "axes")
            }
            dims = x.shape.dims.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        } else {
            guard x.shape.staticSizes != nil else {
                throw c.error("squeezing all size-1 axes of \(x.shape) needs static dims", kind: .unresolved)
            }
            dims = x.shape.dims.filter { $0 != .fixed(1) }
        }
        return [InferredOutput(TensorType(x.dtype, Shape(dims)), value: c.value(0).flatMap { try? reshaped($0, Shape(dims)) })]
    }

    static func inferUnsqueeze(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        guard let axes = try squeezeAxes(c) else { throw c.error("axes are required", subject: "axes") }
        let rank = x.rank + axes.count
        var normalized = Set<Int>()
        for a in axes {
            guard normalized.insert(try c.axis(a, rank: rank)).inserted else { throw c.error("axes \(axes) repeat an axis", subject: "axes") }
        }
        var source = x.shape.dims.makeIterator()
        let dims = (0..<rank).map { normalized.contains($0) ? .fixed(1) : source.next()! }
        return [InferredOutput(TensorType(x.dtype, Shape(dims)), value: c.value(0).flatMap { try? reshaped($0, Shape(dims)) })]
    }

    /// A constant tensor's bytes under a new static shape.
    static func reshaped(_ tensor: Tensor, _ shape: Shape) throws -> Tensor? {
        guard let sizes = shape.staticSizes else { return nil }
        return try Tensor(dtype: tensor.dtype, shape: sizes, contents: tensor.contents)
    }

    /// Resolved Pad parameters over every axis.
    public struct PadAttributes: Sendable {
        public var mode: String
        public var begin: [Int]
        public var end: [Int]
        public var value: Float

        public init(_ c: OpContext) throws(OpError) {
            let x = try c.input(0)
            mode = try c.string("mode")
            guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw c.error("unsupported mode '\(mode)'", subject: "mode") }
            var pads: [Int]
            if c.opset < 11 {
                guard let p = try c.ints("pads") else { throw c.error("pads are required", subject: "pads") }
                pads = p
                value = try c.float("value")
            } else {
                guard let p = try c.intsInput(1) else { throw c.error("pads are required", subject: c.inputLabel(1)) }
                pads = p
                value = try c.floatsInput(2)?.first ?? 0
                if let axes = try c.intsInput(3) {
                    guard pads.count == 2 * axes.count else { throw c.error("pads \(pads) must have 2×\(axes.count) values", subject: "pads") }
                    var full = Array(repeating: 0, count: 2 * x.rank)
                    for (i, a) in axes.enumerated() {
                        let axis = try c.axis(a, rank: x.rank)
                        full[axis] = pads[i]
                        full[x.rank + axis] = pads[axes.count + i]
                    }
                    pads = full
                }
            }
            guard pads.count == 2 * x.rank else {
                throw c.error("pads \(pads) must have \(2 * x.rank) values for rank \(x.rank)", subject: "pads")
            }
            begin = Array(pads[..<x.rank])
            end = Array(pads[x.rank...])
            if mode != "constant" {
                for a in 0..<x.rank where begin[a] < 0 || end[a] < 0 {
                    throw c.error("negative pads need mode 'constant'", subject: "pads")
                }
            }
        }
    }

    static func inferPad(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let attrs = try PadAttributes(c)
        let dims = x.shape.dims.enumerated().map { i, d in d.map { $0 + attrs.begin[i] + attrs.end[i] } }
        for (i, d) in dims.enumerated() where (d.value ?? 0) < 0 {
            throw c.error("pads make axis \(i) negative", subject: "pads")
        }
        if attrs.mode == "reflect" {
            for (i, d) in x.shape.dims.enumerated() {
                if let size = d.value, attrs.begin[i] >= size || attrs.end[i] >= size, attrs.begin[i] + attrs.end[i] > 0 {
                    throw c.error("reflect pads must be smaller than axis \(i) (size \(size))", subject: "pads")
                }
            }
        }
        return [InferredOutput(TensorType(x.dtype, Shape(dims)))]
    }

    static func inferShape(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + x.rank : v, 0), x.rank) }
        let start = clamp(try c.int("start"))
        let end = clamp(try c.optionalInt("end") ?? x.rank)
        let dims = start < end ? Array(x.shape.dims[start..<end]) : []
        let value = Shape(dims).staticSizes.flatMap { try? Tensor(int64: $0.map(Int64.init), shape: [$0.count]) }
        return [InferredOutput(TensorType(.int64, Shape(static: [dims.count])), value: value)]
    }

    static func inferSize(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let value = x.shape.elementCount.value.flatMap { try? Tensor(int64: [Int64($0)], shape: []) }
        return [InferredOutput(TensorType(.int64, Shape([])), value: value)]
    }

    static func inferConstant(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let tensor: Tensor?
        if let t = try c.tensor("value") { tensor = t }
        else if c.hasAttribute("value_float") { tensor = try? Tensor(float32: [try c.float("value_float")], shape: []) }
        else if let v = try c.floats("value_floats") { tensor = try? Tensor(float32: v, shape: [v.count]) }
        else if let v = try c.optionalInt("value_int") { tensor = try? Tensor(int64: [Int64(v)], shape: []) }
        else if let v = try c.ints("value_ints") { tensor = try? Tensor(int64: v.map(Int64.init), shape: [v.count]) }
        else if c.hasAttribute("sparse_value") || c.hasAttribute("value_string") || c.hasAttribute("value_strings") {
            throw c.error("sparse and string constants are not supported", kind: .unsupported)
        } else { throw c.error("no value attribute is set") }
        guard let tensor else { throw c.error("invalid constant value") }
        return [InferredOutput(TensorType(tensor.dtype, Shape(static: tensor.shape)), value: tensor)]
    }

    static func inferConstantOfShape(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try c.requireType(0, in: [.int64])
        let fill = try c.tensor("value")
        if let fill, fill.elementCount != 1 { throw c.error("value must hold one element", subject: "value") }
        let dtype = fill?.dtype ?? .float32
        if c.value(0) != nil, let sizes = try c.intsInput(0) {
            guard sizes.allSatisfy({ $0 >= 0 }) else { throw c.error("shape must be non-negative", subject: c.inputLabel(0)) }
            return [InferredOutput(TensorType(dtype, Shape(static: sizes)))]
        }
        let length = try c.input(0).shape.dims.first ?? .fixed(0)
        guard let n = length.value else { throw c.error("output rank depends on a non-constant shape", kind: .unresolved) }
        return [InferredOutput(TensorType(dtype, Shape(Array(repeating: .unknown, count: n))))]
    }

    static func inferCast(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let code = try c.int("to")
        guard let narrow = Int32(exactly: code), let to = DType(onnxCode: narrow) else {
            throw c.error("attribute 'to' must name an element type", subject: "to")
        }
        return [InferredOutput(TensorType(to, x.shape))]
    }

    static func inferExpand(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        _ = try c.requireType(1, in: [.int64])
        guard let target = try c.intsInput(1) else { throw c.error("missing shape input") }
        guard case .success(let shape) = broadcastShapes([x.shape, Shape(static: target)]) else {
            throw c.error("cannot expand \(x.shape) to \(target)", subject: c.inputLabel(1))
        }
        return [InferredOutput(TensorType(x.dtype, shape))]
    }

    static func inferTile(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        guard let repeats = try c.intsInput(1) else { throw c.error("missing repeats input") }
        guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw c.error("repeats \(repeats) must have \(x.rank) non-negative values", subject: c.inputLabel(1))
        }
        return [InferredOutput(TensorType(x.dtype, Shape(zip(x.shape.dims, repeats).map { d, r in d.map { $0 * r } })))]
    }

    static func inferRange(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let dtype = try c.sameType([0, 1, 2])
        guard let start = try c.floatsInput(0)?.first, let limit = try c.floatsInput(1)?.first,
              let delta = try c.floatsInput(2)?.first
        else { throw c.error("missing inputs") }
        guard delta != 0 else { throw c.error("delta must be non-zero", subject: c.inputLabel(2)) }
        let steps: Double
        if dtype == .int64 || dtype == .int32 {
            // Integer ranges: the difference in Double cannot overflow.
            let s = try c.intsInput(0)![0], l = try c.intsInput(1)![0], d = try c.intsInput(2)![0]
            steps = ((Double(l) - Double(s)) / Double(d)).rounded(.up)
        } else {
            steps = ((Double(limit) - Double(start)) / Double(delta)).rounded(.up)
        }
        guard steps.isFinite, steps < Double(1 << 53) else {
            throw c.error("the range from \(start) to \(limit) by \(delta) has no finite length", subject: c.inputLabel(1))
        }
        let count = max(0, Int(steps))
        return [InferredOutput(TensorType(dtype, Shape(static: [count])))]
    }

    static func inferDepthToSpace(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireRank(0, 4...4)
        let b = try c.int("blocksize")
        guard b > 0 else { throw c.error("blocksize must be positive", subject: "blocksize") }
        let mode = try c.string("mode")
        guard mode == "DCR" || mode == "CRD" else { throw c.error("unknown mode '\(mode)'", subject: "mode") }
        if let ch = x.shape.dims[1].value, ch % (b * b) != 0 {
            throw c.error("channels \(ch) are not divisible by blocksize² \(b * b)", subject: "blocksize")
        }
        let d = x.shape.dims
        return [InferredOutput(TensorType(x.dtype, Shape([d[0], d[1].map { $0 / (b * b) }, d[2].map { $0 * b }, d[3].map { $0 * b }])))]
    }

    static func inferSpaceToDepth(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireRank(0, 4...4)
        let b = try c.int("blocksize")
        guard b > 0 else { throw c.error("blocksize must be positive", subject: "blocksize") }
        let d = x.shape.dims
        for i in 2...3 where (d[i].value ?? 0) % b != 0 {
            throw c.error("spatial dim \(d[i]) is not divisible by blocksize \(b)", subject: "blocksize")
        }
        return [InferredOutput(TensorType(x.dtype, Shape([d[0], d[1].map { $0 * b * b }, d[2].map { $0 / b }, d[3].map { $0 / b }])))]
    }
}
