import VigilIR

/// Add, Subtract, Multiply, Average, Maximum, Minimum (elementwise with broadcasting) and Concatenate.
enum Merge {
    static func broadcast(_ shapes: [[Int?]]) -> [Int?] {
        let rank = shapes.map(\.count).max() ?? 0
        return (0..<rank).map { i in
            var result: Int? = 1
            for shape in shapes {
                let index = i - (rank - shape.count)
                guard index >= 0 else { continue }
                if let size = shape[index] { if size != 1 { result = size } } else if result == 1 { result = nil }
            }
            return result
        }
    }

    private static func nary(_ call: LayerCall, op: String, binary: String? = nil) throws -> [KTensor] {
        guard call.inputs.count >= 2 else { throw call.error(.invalidConfig, "expects at least two inputs, got \(call.inputs.count)") }
        let names = call.inputs.map(\.name)
        let y: String
        if let binary {
            var value = names[0]
            for other in names.dropFirst() { value = try call.op(binary, [value, other]) }
            y = value
        } else {
            y = try call.op(op, names)
        }
        return [KTensor(name: y, shape: broadcast(call.inputs.map(\.shape)))]
    }

    static func add(_ call: LayerCall) throws -> [KTensor] { try nary(call, op: "Sum", binary: call.inputs.count == 2 ? "Add" : nil) }
    static func multiply(_ call: LayerCall) throws -> [KTensor] { try nary(call, op: "Mul", binary: "Mul") }
    static func average(_ call: LayerCall) throws -> [KTensor] { try nary(call, op: "Mean") }
    static func maximum(_ call: LayerCall) throws -> [KTensor] { try nary(call, op: "Max") }
    static func minimum(_ call: LayerCall) throws -> [KTensor] { try nary(call, op: "Min") }

    static func subtract(_ call: LayerCall) throws -> [KTensor] {
        guard call.inputs.count == 2 else { throw call.error(.invalidConfig, "Subtract expects two inputs, got \(call.inputs.count)") }
        return try nary(call, op: "Sub", binary: "Sub")
    }

    static func concatenate(_ call: LayerCall) throws -> [KTensor] {
        guard !call.inputs.isEmpty else { throw call.error(.invalidConfig, "Concatenate without inputs") }
        let rank = call.inputs[0].rank
        let axis = try call.axis(try call.int("axis", -1), rank: rank)
        guard call.inputs.allSatisfy({ $0.rank == rank }) else { throw call.error(.invalidConfig, "inputs of different ranks") }
        var shape = call.inputs[0].shape
        shape[axis] = call.inputs.reduce(0 as Int?) { total, input in
            guard let total, let size = input.shape[axis] else { return nil }
            return total + size
        }
        let y = try call.op("Concat", call.inputs.map(\.name), [.int("axis", axis)])
        return [KTensor(name: y, shape: shape)]
    }
}
