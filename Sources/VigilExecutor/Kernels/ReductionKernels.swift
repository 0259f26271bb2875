import Foundation
import VigilIR
import VigilOps

/// ReduceX and ArgMax/ArgMin. Reductions accumulate in Double and read float32, float64, int64, int32
/// or (ReduceMax/ReduceMin) bool.
enum ReductionKernels {
    static var builders: [String: KernelBuilder] {
        var table: [String: KernelBuilder] = [:]
        for op in Reduction.reduceOps { table[op] = { k in try buildReduce(k) } }
        table["ArgMax"] = { k in try buildArg(k) }
        table["ArgMin"] = { k in try buildArg(k) }
        return table
    }

    /// For each output element, the input offset of its first reduced element; plus the offsets
    /// (relative to that) of every element reduced into it.
    static func reductionLayout(_ shape: [Int], axes: [Int]) -> (bases: [Int], members: [Int]) {
        let strides = contiguousStrides(shape)
        func offsets(_ dims: [Int]) -> [Int] {
            var result = [0]
            for d in dims {
                var next: [Int] = []
                next.reserveCapacity(result.count * shape[d])
                for o in result { for i in 0..<shape[d] { next.append(o + i * strides[d]) } }
                result = next
            }
            return result
        }
        let kept = (0..<shape.count).filter { !axes.contains($0) }
        return (offsets(kept), offsets(axes))
    }

    static func buildReduce(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32, .float64, .int64, .int32, .bool], inputs: [0])
        let attrs = try Reduction.ReduceAttributes(k.op)
        let xs = k.inputShape(0)
        let (bases, members) = reductionLayout(xs, axes: attrs.axes)
        let op = k.node.opType
        let dtype = k.inputDType(0)
        let load: (UnsafeRawPointer, Int) -> Double
        let store: (UnsafeMutableRawPointer, Int, Double) -> Void
        switch dtype {
        case .float32:
            load = { Double($0.load(fromByteOffset: $1 * 4, as: Float.self)) }
            store = { $0.storeBytes(of: Float($2), toByteOffset: $1 * 4, as: Float.self) }
        case .float64:
            load = { $0.load(fromByteOffset: $1 * 8, as: Double.self) }
            store = { $0.storeBytes(of: $2, toByteOffset: $1 * 8, as: Double.self) }
        case .bool:
            load = { $0.load(fromByteOffset: $1, as: UInt8.self) != 0 ? 1 : 0 }
            store = { $0.storeBytes(of: $2 != 0 ? 1 : 0, toByteOffset: $1, as: UInt8.self) }
        case .int64:
            load = { Double($0.load(fromByteOffset: $1 * 8, as: Int64.self)) }
            store = { $0.storeBytes(of: Int64($2), toByteOffset: $1 * 8, as: Int64.self) }
        default:
            load = { Double($0.load(fromByteOffset: $1 * 4, as: Int32.self)) }
            store = { $0.storeBytes(of: Int32($2), toByteOffset: $1 * 4, as: Int32.self) }
        }
        let count = Double(members.count)
        return Kernel { io, par in
            let x = io.inputs[0]!, y = io.outputs[0]
            par.forEach(bases.count) { range in
                for o in range {
                    let base = bases[o]
                    var acc: Double
                    switch op {
                    case "ReduceMax":
                        acc = -.infinity
                        for m in members { acc = max(acc, load(x, base + m)) }
                    case "ReduceMin":
                        acc = .infinity
                        for m in members { acc = min(acc, load(x, base + m)) }
                    case "ReduceProd":
                        acc = 1
                        for m in members { acc *= load(x, base + m) }
                    case "ReduceL1":
                        acc = 0
                        for m in members { acc += abs(load(x, base + m)) }
                    case "ReduceL2":
                        acc = 0
                        for m in members { let v = load(x, base + m); acc += v * v }
                        acc = acc.squareRoot()
                    case "ReduceSumSquare":
                        acc = 0
                        for m in members { let v = load(x, base + m); acc += v * v }
                    case "ReduceLogSumExp":
                        var top = -Double.infinity
                        for m in members { top = max(top, load(x, base + m)) }
                        acc = 0
                        for m in members { acc += Foundation.exp(load(x, base + m) - top) }
                        acc = top.isInfinite ? top : top + Foundation.log(acc)
                    case "ReduceLogSum":
                        acc = 0
                        for m in members { acc += load(x, base + m) }
                        acc = Foundation.log(acc)
                    default:
                        acc = 0
                        for m in members { acc += load(x, base + m) }
                        if op == "ReduceMean" { acc /= count }
                    }
                    store(y, o, acc)
                }
            }
        }
    }

    static func buildArg(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32, .int64, .int32])
        let xs = k.inputShape(0)
        let axis = try k.op.axis(try k.op.int("axis"), rank: xs.count)
        let last = try k.op.int("select_last_index") != 0
        let isMax = k.node.opType == "ArgMax"
        let outer = xs[..<axis].reduce(1, *), len = xs[axis], inner = xs[(axis + 1)...].reduce(1, *)
        let load = try ElementwiseKernels.floatLoader(k, 0)
        return Kernel { io, _ in
            let x = io.inputs[0]!, y = io.output(0, as: Int64.self)
            for o in 0..<outer {
                for j in 0..<inner {
                    let base = o * len * inner + j
                    var best = load(x, base), index = 0
                    for i in 1..<max(len, 1) {
                        let v = load(x, base + i * inner)
                        let better = isMax ? (v > best || (last && v == best)) : (v < best || (last && v == best))
                        if better { best = v; index = i }
                    }
                    y[o * inner + j] = Int64(index)
                }
            }
        }
    }
}
