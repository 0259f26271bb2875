import VigilIR

/// Keras 3 shape and indexing operations: reshape, transpose, expand_dims, squeeze, concatenate,
/// stack, split and indexing (`x[:, 0]`, `x[..., 1:3]`, `x[:, None]`).
enum ArrayOps {
    static func reshape(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        guard let target = try call.ints("newshape") ?? call.ints("new_shape") else { throw call.error("reshape without 'newshape'") }
        let known = x.shape.allSatisfy { $0 != nil } ? x.shape.reduce(1) { $0 * $1! } : nil
        let fixed = checkedProduct(target.filter { $0 != -1 }) ?? 0
        let shape: [Int?] = target.map { $0 == -1 ? known.map { fixed > 0 ? $0 / fixed : 0 } : $0 }
        return [KTensor(name: try call.op("Reshape", [x.name, try call.builder.intConstant("shape", target)]), shape: shape)]
    }

    static func transpose(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let perm = try (call.ints("axes") ?? Array((0..<x.rank).reversed())).map { try call.axis($0, rank: x.rank) }
        guard Set(perm).count == x.rank, perm.count == x.rank else { throw call.error("axes \(perm) is not a permutation of \(x.rank) axes") }
        return [KTensor(name: try call.op("Transpose", [x.name], [.ints("perm", perm)]), shape: perm.map { x.shape[$0] })]
    }

    static func expandDims(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let axes = try (call.ints("axis") ?? []).map { try call.axis($0, rank: x.rank + 1) }.sorted()
        var shape = x.shape
        for axis in axes { shape.insert(1, at: axis) }
        return [KTensor(name: try call.op("Unsqueeze", [x.name, try call.builder.intConstant("axes", axes)]), shape: shape)]
    }

    static func squeeze(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let axes = try (call.ints("axis") ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { try call.axis($0, rank: x.rank) }
        let shape = x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return [KTensor(name: try call.op("Squeeze", [x.name, try call.builder.intConstant("axes", axes)]), shape: shape)]
    }

    static func concatenate(_ call: OperationCall) throws -> [KTensor] {
        let inputs = try call.tensors(0)
        guard let first = inputs.first else { throw call.error("concatenate without inputs") }
        let axis = try call.axis(call.config["axis"]?.int ?? 0, rank: first.rank)
        var shape = first.shape
        shape[axis] = inputs.reduce(0 as Int?) { total, t in total.flatMap { a in t.shape[axis].map { a + $0 } } }
        return [KTensor(name: try call.op("Concat", inputs.map(\.name), [.int("axis", axis)]), shape: shape)]
    }

    static func stack(_ call: OperationCall) throws -> [KTensor] {
        let inputs = try call.tensors(0)
        guard let first = inputs.first else { throw call.error("stack without inputs") }
        let axis = try call.axis(call.config["axis"]?.int ?? 0, rank: first.rank + 1)
        let axes = try call.builder.intConstant("axes", [axis])
        let expanded = try inputs.map { try call.op("Unsqueeze", [$0.name, axes]) }
        var shape = first.shape
        shape.insert(inputs.count, at: axis)
        return [KTensor(name: try call.op("Concat", expanded, [.int("axis", axis)]), shape: shape)]
    }

    /// `ops.split(x, indices_or_sections, axis)`: equal sections, or split points.
    static func split(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let axis = try call.axis(call.config["axis"]?.int ?? 0, rank: x.rank)
        guard let size = x.shape[axis] else { throw call.unsupported("split along an axis of unknown size") }
        let sizes: [Int]
        if let sections = call.config["indices_or_sections"]?.int {
            guard (1...(1 << 16)).contains(sections), size % sections == 0 else { throw call.error("\(size) elements do not split into \(sections) equal sections") }
            sizes = Array(repeating: size / sections, count: sections)
        } else if let points = try call.ints("indices_or_sections") {
            let bounds = [0] + points.map { min(max($0, 0), size) } + [size]
            sizes = zip(bounds.dropFirst(), bounds).map { max(0, $0 - $1) }
        } else {
            throw call.error("split without 'indices_or_sections'")
        }
        let builder = call.builder
        let outputs = sizes.indices.map { _ in builder.fresh("\(call.layer.layerPath)/Split") }
        try builder.graph.addNode(Node(name: outputs[0], opType: "Split", inputs: [x.name, try builder.intConstant("split", sizes)],
                                       outputs: outputs, attributes: [.int("axis", axis)],
                                       metadata: builder.currentLayer.map { [MetadataEntry(key: "keras_layer", value: $0)] } ?? []))
        return zip(outputs, sizes).map { name, n in
            var shape = x.shape
            shape[axis] = n
            return KTensor(name: name, shape: shape)
        }
    }

    /// Indexing: slices become one Slice, integer indices then squeeze their axes, `None` adds axes.
    static func getItem(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let key: [OperationArgument]
        if case .list(let items) = call.argument(1, "key") { key = items } else { key = [call.argument(1, "key")] }
        // Expand the ellipsis to the axes the other entries leave (None takes no input axis).
        let used = key.filter { if case .none = $0 { return false }; if case .ellipsis = $0 { return false }; return true }.count
        var entries: [OperationArgument] = []
        for item in key {
            if case .ellipsis = item {
                entries += Array(repeating: .slice(start: nil, stop: nil, step: nil), count: max(0, x.rank - used))
            } else {
                entries.append(item)
            }
        }
        var starts: [Int] = [], ends: [Int] = [], axes: [Int] = [], steps: [Int] = []
        var squeeze: [Int] = [], newAxes: [Int] = []
        var shape: [Int?] = [], axis = 0
        for entry in entries {
            switch entry {
            case .none:
                newAxes.append(shape.count)
                shape.append(1)
            case .number(let value):
                guard axis < x.rank, let index = Int(exactly: value), (-KTensor.largestDimension...KTensor.largestDimension).contains(index) else { throw call.error("invalid index \(value)") }
                (starts, ends, axes, steps) = (starts + [index], ends + [index == -1 ? Int.max : index + 1], axes + [axis], steps + [1])
                squeeze.append(axis)
                axis += 1
            case .slice(let start, let stop, let step):
                guard axis < x.rank else { throw call.error("too many indices for a rank-\(x.rank) tensor") }
                let s = step ?? 1
                guard s != 0 else { throw call.error("slice step cannot be zero") }
                if start != nil || stop != nil || s != 1 {
                    starts.append(start ?? (s > 0 ? 0 : -1))
                    ends.append(stop ?? (s > 0 ? Int.max : Int.min))
                    axes.append(axis)
                    steps.append(s)
                }
                shape.append(sliceLength(x.shape[axis], start, stop, s))
                axis += 1
            default:
                throw call.unsupported("indexing with \(entry) is not supported (integers, slices, None and ... are)")
            }
        }
        shape += x.shape[axis...]
        var value = x.name
        if !axes.isEmpty {
            let b = call.builder
            value = try call.op("Slice", [value, try b.intConstant("starts", starts), try b.intConstant("ends", ends),
                                          try b.intConstant("axes", axes), try b.intConstant("steps", steps)])
        }
        if !squeeze.isEmpty { value = try call.op("Squeeze", [value, try call.builder.intConstant("axes", squeeze)]) }
        if !newAxes.isEmpty { value = try call.op("Unsqueeze", [value, try call.builder.intConstant("axes", newAxes)]) }
        return [KTensor(name: value, shape: shape)]
    }

    /// The length of `start:stop:step` over an axis of `size` (Python's slice rules).
    static func sliceLength(_ size: Int?, _ start: Int?, _ stop: Int?, _ step: Int) -> Int? {
        guard let size else { return start == nil && stop == nil && step == 1 ? nil : nil }
        func clamp(_ v: Int?, _ fallback: Int) -> Int {
            guard var v else { return fallback }
            if v < 0 { v += size }
            return step > 0 ? min(max(v, 0), size) : min(max(v, -1), size - 1)
        }
        let a = clamp(start, step > 0 ? 0 : size - 1), b = clamp(stop, step > 0 ? size : -1)
        return step > 0 ? max(0, (b - a + step - 1) / step) : max(0, (a - b - step - 1) / -step)
    }
}
