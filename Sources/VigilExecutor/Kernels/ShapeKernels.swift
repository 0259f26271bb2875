import VigilBLAS
import VigilIR
import VigilOps

/// Data-movement kernels. They work on bytes, so they serve every fixed-size element type.
enum ShapeKernels {
    static var builders: [String: KernelBuilder] {
        let view: KernelBuilder = { _ throws(OpError) in Kernel.alias(0) }
        let folded: KernelBuilder = { k throws(OpError) in
            throw k.error("\(k.node.opType) needs its input's static shape, which should be known when planning")
        }
        return [
            "Identity": view, "Reshape": view, "Flatten": view, "Squeeze": view, "Unsqueeze": view,
            "Dropout": { k in try buildDropout(k) }, "Transpose": { k in try buildTranspose(k) }, "Concat": { k in try buildConcat(k) }, "Split": { k in try buildSplit(k) },
            "Slice": { k in try buildSlice(k) }, "Gather": { k in try buildGather(k) }, "Pad": { k in try buildPad(k) }, "Cast": { k in try buildCast(k) }, "Expand": { k in try buildExpand(k) },
            "Tile": { k in try buildTile(k) }, "Range": { k in try buildRange(k) }, "ConstantOfShape": { k in try buildConstantOfShape(k) },
            "DepthToSpace": { k in try buildDepthToSpace(k) }, "SpaceToDepth": { k in try buildSpaceToDepth(k) },
            "Shape": folded, "Size": folded, "Constant": folded,
        ]
    }

    // MARK: Helpers

    /// Copies `count` elements of `size` bytes.
    @inline(__always)
    static func copyElement(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ size: Int) {
        switch size {
        case 4: dst.storeBytes(of: src.load(as: UInt32.self), as: UInt32.self)
        case 8: dst.storeBytes(of: src.load(as: UInt64.self), as: UInt64.self)
        case 1: dst.storeBytes(of: src.load(as: UInt8.self), as: UInt8.self)
        default: dst.copyMemory(from: src, byteCount: size)
        }
    }

    /// Fills an output of shape `output` where element (i₀, i₁, …) reads the input element
    /// (maps[0][i₀], maps[1][i₁], …), or `fill` when any map entry is -1.
    static func axisMapCopy(
        _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, input: [Int], output: [Int], maps: [[Int]],
        elementSize es: Int, fill: [UInt8]?
    ) {
        let rank = output.count
        let total = output.reduce(1, *)
        guard total > 0 else { return }
        if rank == 0 { copyElement(dst, src, es); return }
        let strides = contiguousStrides(input)
        if let plan = RunPlan(input: input, output: output, maps: maps, strides: strides) {
            runCopy(src, dst, plan: plan, output: output, maps: maps, strides: strides, elementSize: es, fill: fill)
            return
        }
        let inner = output[rank - 1]
        let lastMap = maps[rank - 1].map { $0 < 0 ? -1 : $0 * strides[rank - 1] }
        var index = [Int](repeating: 0, count: rank - 1)
        var o = 0
        while o < total {
            var base = 0, valid = true
            for d in 0..<(rank - 1) {
                let s = maps[d][index[d]]
                if s < 0 { valid = false; break }
                base += s * strides[d]
            }
            for i in 0..<inner {
                let out = dst + (o + i) * es
                if valid, lastMap[i] >= 0 {
                    copyElement(out, src + (base + lastMap[i]) * es, es)
                } else if let fill {
                    fill.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: es) }
                }
            }
            o += inner
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                if index[d] < output[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// An axis-map copy as contiguous runs: the output axes from `outerRank` on (those copied whole, and
    /// before them at most one axis whose map is a run of consecutive input indices, such as a Slice's
    /// channel range) are `run` consecutive input elements from `offset` on, past the outer axes' offsets.
    struct RunPlan {
        let outerRank: Int, offset: Int, run: Int

        /// `nil` when the runs would be shorter than 16 elements (then element by element is as fast).
        init?(input: [Int], output: [Int], maps: [[Int]], strides: [Int]) {
            var run = 1, d = output.count - 1
            while d >= 0, output[d] == input[d], maps[d].elementsEqual(0..<input[d]) {
                run *= output[d]
                d -= 1
            }
            var outerRank = d + 1, offset = 0
            if d >= 0, let first = maps[d].first, first >= 0, maps[d].enumerated().allSatisfy({ $0.element == first + $0.offset }) {
                run *= output[d]
                (outerRank, offset) = (d, first * strides[d])
            }
            guard run >= 16 else { return nil }
            (self.outerRank, self.offset, self.run) = (outerRank, offset, run)
        }
    }

    /// `axisMapCopy` run by run (`plan`).
    static func runCopy(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, plan: RunPlan, output: [Int], maps: [[Int]], strides: [Int],
                        elementSize es: Int, fill: [UInt8]?) {
        let outer = output[..<plan.outerRank].reduce(1, *), bytes = plan.run * es
        var index = [Int](repeating: 0, count: plan.outerRank)
        for o in 0..<outer {
            var base = plan.offset, valid = true
            for d in 0..<plan.outerRank {
                let s = maps[d][index[d]]
                if s < 0 { valid = false; break }
                base += s * strides[d]
            }
            let out = dst + o * bytes
            if valid {
                out.copyMemory(from: src + base * es, byteCount: bytes)
            } else if let fill {
                fill.withUnsafeBytes { f in for i in 0..<plan.run { (out + i * es).copyMemory(from: f.baseAddress!, byteCount: es) } }
            }
            var d = plan.outerRank - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < output[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Permutes the axes of `src` (shape `shape`) into `dst`.
    static func permute(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, shape: [Int], perm: [Int], elementSize es: Int) {
        let rank = shape.count
        let output = perm.map { shape[$0] }
        let total = output.reduce(1, *)
        guard total > 0 else { return }
        if rank == 0 { copyElement(dst, src, es); return }
        let inStrides = contiguousStrides(shape)
        let strides = perm.map { inStrides[$0] }
        let inner = output[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1)
        var base = 0, o = 0
        func run<T>(_: T.Type) {
            let s = src.assumingMemoryBound(to: T.self), d = dst.assumingMemoryBound(to: T.self)
            while o < total {
                for i in 0..<inner { d[o + i] = s[base + i * innerStride] }
                o += inner
                var k = rank - 2
                while k >= 0 {
                    index[k] += 1
                    base += strides[k]
                    if index[k] < output[k] { break }
                    base -= strides[k] * output[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }
        switch es {
        case 1: run(UInt8.self)
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        default: run(UInt64.self)
        }
    }

    // MARK: Builders

    static func buildDropout(_ k: KernelContext) throws(OpError) -> Kernel {
        guard k.node.outputs.count > 1 else { return .alias(0) }
        let count = k.outputShape(0).reduce(1, *)
        return .alias(0) { io, _ throws(OpError) in io.outputs[1].initializeMemory(as: UInt8.self, repeating: 1, count: count) }
    }

    static func buildTranspose(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0)
        let perm = try ShapeOps.permutation(k.op, rank: shape.count)
        let es = elementSize(k.inputDType(0))
        if es == 4, VectorActivation.isAvailable, let fast = fastTranspose(shape: shape, perm: perm) { return fast }
        return Kernel { io, _ in permute(io.inputs[0]!, io.outputs[0], shape: shape, perm: perm, elementSize: es) }
    }

    /// A permutation with size-1 dims dropped and neighbours that stay neighbours (in order) merged: the
    /// same data movement on the fewest dims.
    static func coalesced(shape: [Int], perm: [Int]) -> (shape: [Int], perm: [Int]) {
        let kept = perm.filter { shape[$0] != 1 }
        var groups: [[Int]] = []  // runs of consecutive input axes, in output order
        for axis in kept {
            if let last = groups.last?.last, last + 1 == axis { groups[groups.count - 1].append(axis) } else { groups.append([axis]) }
        }
        let order = groups.indices.sorted { groups[$0][0] < groups[$1][0] }  // groups in input order
        let sizes = order.map { groups[$0].map { shape[$0] }.reduce(1, *) }
        return (sizes, groups.indices.map { g in order.firstIndex(of: g)! })
    }

    /// 4-byte transposes that coalesce to a copy, to [B, R, C] → [B, C, R] (NCHW ↔ NHWC, a matrix transpose)
    /// on the blocked vector transpose, or to [B, X, Y, Z] → [B, Y, X, Z] (splitting attention heads; B may
    /// be absent): runs of Z copied. Others take the general path.
    static func fastTranspose(shape: [Int], perm: [Int]) -> Kernel? {
        let (dims, order) = coalesced(shape: shape, perm: perm)
        let count = shape.reduce(1, *)
        switch order {
        case [], [0]:
            return Kernel { io, _ in io.outputs[0].copyMemory(from: io.inputs[0]!, byteCount: count * 4) }
        case [1, 0], [0, 2, 1]:
            let (batch, rows, columns) = order == [1, 0] ? (1, dims[0], dims[1]) : (dims[0], dims[1], dims[2])
            return Kernel { io, par in
                // Strips of 32 rows of each matrix, split across threads.
                let strips = (rows + 31) / 32
                par.forEach(batch * strips, grain: max(1, 16384 / max(32 * columns, 1))) { r in
                    for task in r {
                        let (b, row) = (task / strips, task % strips * 32)
                        VectorMath.transpose(io.inputs[0]! + 4 * (b * rows * columns + row * columns), stride: columns,
                                             io.outputs[0] + 4 * (b * rows * columns + row), stride: rows, rows: min(32, rows - row), columns: columns)
                    }
                }
            }
        case [0, 2, 1, 3], [1, 0, 2]:
            let (b, x, y, z) = order == [1, 0, 2] ? (1, dims[0], dims[1], dims[2]) : (dims[0], dims[1], dims[2], dims[3])
            return Kernel { io, par in
                par.forEach(b * y, grain: max(1, 16384 / max(x * z, 1))) { r in
                    for by in r {
                        let (bi, yi) = (by / y, by % y)
                        for xi in 0..<x {
                            (io.outputs[0] + 4 * ((bi * y + yi) * x + xi) * z)
                                .copyMemory(from: io.inputs[0]! + 4 * ((bi * x + xi) * y + yi) * z, byteCount: 4 * z)
                        }
                    }
                }
            }
        default:
            return nil
        }
    }

    static func buildConcat(_ k: KernelContext) throws(OpError) -> Kernel {
        let out = k.outputShape(0)
        let axis = try k.op.axis(try k.op.int("axis"), rank: out.count)
        let es = elementSize(k.outputTypes[0].dtype)
        let outer = out[..<axis].reduce(1, *), inner = out[(axis + 1)...].reduce(1, *)
        let chunks = k.node.inputs.indices.map { k.inputShape($0)[axis] * inner * es }
        let row = out[axis] * inner * es, total = outer * row
        return Kernel { io, par in
            // The output's bytes in 64-byte lines, split across threads in runs of at least 256 KiB.
            par.forEach((total + 63) / 64, grain: concatGrainLines) { lines in
                copyConcat(io, chunks: chunks, row: row, bytes: (lines.lowerBound * 64)..<min(total, lines.upperBound * 64))
            }
        }
    }

    /// Lines of 64 bytes per thread, at least, of a Concat split across threads.
    static let concatGrainLines = 4096

    /// Writes bytes `bytes` of a Concat's output: in each row (one index of the axes before `axis`), the
    /// inputs' chunks one after another.
    static func copyConcat(_ io: KernelIO, chunks: [Int], row: Int, bytes: Range<Int>) {
        guard !bytes.isEmpty else { return }
        for o in (bytes.lowerBound / row)...((bytes.upperBound - 1) / row) {
            var start = o * row
            for (i, chunk) in chunks.enumerated() {
                let first = max(start, bytes.lowerBound), last = min(start + chunk, bytes.upperBound)
                // An input planned into its place in the output (ArenaLayout) is there already.
                let source = io.inputs[i]! + o * chunk + (first - start), destination = io.outputs[0] + first
                if first < last && UnsafeRawPointer(destination) != source { destination.copyMemory(from: source, byteCount: last - first) }
                start += chunk
            }
        }
    }

    static func buildSplit(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0)
        let attrs = try ShapeOps.SplitAttributes(k.op)
        let es = elementSize(k.inputDType(0))
        let axis = attrs.axis
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let chunks = (attrs.sizes ?? []).map { $0 * inner * es }
        let row = shape[axis] * inner * es
        return Kernel { io, _ in
            for o in 0..<outer {
                var offset = o * row
                for (i, chunk) in chunks.enumerated() {
                    if chunk > 0 { io.outputs[i].advanced(by: o * chunk).copyMemory(from: io.inputs[0]! + offset, byteCount: chunk) }
                    offset += chunk
                }
            }
        }
    }

    static func buildSlice(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0)
        let attrs = try ShapeOps.SliceAttributes(k.op, shape: shape)
        let maps = shape.indices.map { d in (0..<attrs.counts[d]).map { attrs.starts[d] + $0 * attrs.steps[d] } }
        let es = elementSize(k.inputDType(0))
        return Kernel { io, _ in
            axisMapCopy(io.inputs[0]!, io.outputs[0], input: shape, output: attrs.counts, maps: maps, elementSize: es, fill: nil)
        }
    }

    static func buildGather(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0)
        let axis = try k.op.axis(try k.op.int("axis"), rank: shape.count)
        let es = elementSize(k.inputDType(0))
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *), size = shape[axis]
        let count = k.inputShape(1).reduce(1, *)
        let wide = k.inputDType(1) == .int64
        let op = k.op
        return Kernel { io, _ throws(OpError) in
            let chunk = inner * es
            for j in 0..<count {
                var index = wide ? Int(io.input(1, as: Int64.self)[j]) : Int(io.input(1, as: Int32.self)[j])
                if index < 0 { index += size }
                guard index >= 0 && index < size else {
                    throw op.error("index \(index) is out of range for axis \(axis) of size \(size)", subject: op.inputLabel(1))
                }
                for o in 0..<outer {
                    (io.outputs[0] + (o * count + j) * chunk).copyMemory(from: io.inputs[0]! + (o * size + index) * chunk, byteCount: chunk)
                }
            }
        }
    }

    static func buildPad(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0), out = k.outputShape(0)
        let attrs = try ShapeOps.PadAttributes(k.op)
        let dtype = k.inputDType(0)
        let es = elementSize(dtype)
        let maps: [[Int]] = shape.indices.map { d in
            (0..<out[d]).map { o in
                var i = o - attrs.begin[d]
                let n = shape[d]
                if i >= 0 && i < n { return i }
                switch attrs.mode {
                case "edge": return min(max(i, 0), n - 1)
                case "wrap": return n > 0 ? ((i % n) + n) % n : -1
                case "reflect":
                    guard n > 1 else { return 0 }
                    let period = 2 * (n - 1)
                    i = ((i % period) + period) % period
                    return i < n ? i : period - i
                default: return -1
                }
            }
        }
        var fill = [UInt8](repeating: 0, count: es)
        let value = attrs.value
        fill.withUnsafeMutableBytes { raw in
            switch dtype {
            case .float32: raw.storeBytes(of: value, as: Float.self)
            case .float64: raw.storeBytes(of: Double(value), as: Double.self)
            case .int64: raw.storeBytes(of: Int64(value), as: Int64.self)
            case .int32: raw.storeBytes(of: Int32(value), as: Int32.self)
            case .bool, .uint8: raw.storeBytes(of: UInt8(value != 0 ? max(0, min(255, value)) : 0), as: UInt8.self)
            default: break
            }
        }
        return Kernel { io, _ in
            axisMapCopy(io.inputs[0]!, io.outputs[0], input: shape, output: out, maps: maps, elementSize: es, fill: fill)
        }
    }

    static func buildCast(_ k: KernelContext) throws(OpError) -> Kernel {
        let from = k.inputDType(0), to = k.outputTypes[0].dtype
        let count = k.outputShape(0).reduce(1, *)
        if from == to { return .alias(0) }
        guard let load = loader(from), let store = storer(to) else {
            throw k.error("casting \(from) to \(to) is not supported", subject: k.op.inputLabel(0))
        }
        return Kernel { io, _ in
            for i in 0..<count { store(io.outputs[0], i, load(io.inputs[0]!, i)) }
        }
    }

    /// A scalar in transit between types: integers stay exact, floats keep their value.
    enum Scalar {
        case int(Int64)
        case float(Double)
    }

    static func loader(_ dtype: DType) -> ((UnsafeRawPointer, Int) -> Scalar)? {
        switch dtype {
        case .float32: return { .float(Double($0.load(fromByteOffset: $1 * 4, as: Float.self))) }
        case .float64: return { .float($0.load(fromByteOffset: $1 * 8, as: Double.self)) }
        case .int64: return { .int($0.load(fromByteOffset: $1 * 8, as: Int64.self)) }
        case .int32: return { .int(Int64($0.load(fromByteOffset: $1 * 4, as: Int32.self))) }
        case .int16: return { .int(Int64($0.load(fromByteOffset: $1 * 2, as: Int16.self))) }
        case .int8: return { .int(Int64($0.load(fromByteOffset: $1, as: Int8.self))) }
        case .uint8: return { .int(Int64($0.load(fromByteOffset: $1, as: UInt8.self))) }
        case .uint16: return { .int(Int64($0.load(fromByteOffset: $1 * 2, as: UInt16.self))) }
        case .uint32: return { .int(Int64($0.load(fromByteOffset: $1 * 4, as: UInt32.self))) }
        case .uint64: return { .int(Int64(bitPattern: $0.load(fromByteOffset: $1 * 8, as: UInt64.self))) }
        case .bool: return { .int($0.load(fromByteOffset: $1, as: UInt8.self) != 0 ? 1 : 0) }
        case .float16: return { .float(Double(Float(Float16(bitPattern: $0.load(fromByteOffset: $1 * 2, as: UInt16.self))))) }
        case .bfloat16:
            return { .float(Double(Float(bitPattern: UInt32($0.load(fromByteOffset: $1 * 2, as: UInt16.self)) << 16))) }
        default: return nil
        }
    }

    static func storer(_ dtype: DType) -> ((UnsafeMutableRawPointer, Int, Scalar) -> Void)? {
        func integer(_ s: Scalar) -> Int64 {
            switch s {
            case .int(let v): return v
            case .float(let v): return v.isFinite ? Int64(clamping: Int64(exactly: v.rounded(.towardZero)) ?? (v < 0 ? .min : .max)) : 0
            }
        }
        func real(_ s: Scalar) -> Double {
            switch s {
            case .int(let v): return Double(v)
            case .float(let v): return v
            }
        }
        switch dtype {
        case .float32: return { $0.storeBytes(of: Float(real($2)), toByteOffset: $1 * 4, as: Float.self) }
        case .float64: return { $0.storeBytes(of: real($2), toByteOffset: $1 * 8, as: Double.self) }
        case .int64: return { $0.storeBytes(of: integer($2), toByteOffset: $1 * 8, as: Int64.self) }
        case .int32: return { $0.storeBytes(of: Int32(truncatingIfNeeded: integer($2)), toByteOffset: $1 * 4, as: Int32.self) }
        case .int16: return { $0.storeBytes(of: Int16(truncatingIfNeeded: integer($2)), toByteOffset: $1 * 2, as: Int16.self) }
        case .int8: return { $0.storeBytes(of: Int8(truncatingIfNeeded: integer($2)), toByteOffset: $1, as: Int8.self) }
        case .uint8: return { $0.storeBytes(of: UInt8(truncatingIfNeeded: integer($2)), toByteOffset: $1, as: UInt8.self) }
        case .uint16: return { $0.storeBytes(of: UInt16(truncatingIfNeeded: integer($2)), toByteOffset: $1 * 2, as: UInt16.self) }
        case .uint32: return { $0.storeBytes(of: UInt32(truncatingIfNeeded: integer($2)), toByteOffset: $1 * 4, as: UInt32.self) }
        case .uint64: return { $0.storeBytes(of: UInt64(bitPattern: integer($2)), toByteOffset: $1 * 8, as: UInt64.self) }
        case .bool: return { $0.storeBytes(of: real($2) != 0 ? 1 : 0, toByteOffset: $1, as: UInt8.self) }
        case .float16: return { $0.storeBytes(of: Float16(Float(real($2))).bitPattern, toByteOffset: $1 * 2, as: UInt16.self) }
        case .bfloat16:
            // Round to nearest even on the upper 16 bits of the float32 pattern; NaN stays NaN.
            return {
                let f = Float(real($2))
                let bits = f.bitPattern
                let rounded = f.isNaN ? (bits >> 16) | 0x40 : (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
                $0.storeBytes(of: UInt16(truncatingIfNeeded: rounded), toByteOffset: $1 * 2, as: UInt16.self)
            }
        default: return nil
        }
    }

    static func buildExpand(_ k: KernelContext) throws(OpError) -> Kernel {
        let ix = BroadcastIndexer(output: k.outputShape(0), inputs: [k.inputShape(0)])
        let es = elementSize(k.inputDType(0))
        return Kernel { io, _ in broadcastCopy(ix, io.inputs[0]!, io.outputs[0], elementSize: es) }
    }

    static func buildTile(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0), out = k.outputShape(0)
        let maps = shape.indices.map { d in (0..<out[d]).map { $0 % shape[d] } }
        let es = elementSize(k.inputDType(0))
        return Kernel { io, _ in
            axisMapCopy(io.inputs[0]!, io.outputs[0], input: shape, output: out, maps: maps, elementSize: es, fill: nil)
        }
    }

    static func buildRange(_ k: KernelContext) throws(OpError) -> Kernel {
        let count = k.outputShape(0).reduce(1, *)
        switch k.inputDType(0) {
        case .float32:
            return Kernel { io, _ in
                let start = io.input(0, as: Float.self)[0], delta = io.input(2, as: Float.self)[0]
                let y = io.output(0, as: Float.self)
                for i in 0..<count { y[i] = start + Float(i) * delta }
            }
        case .int64:
            return Kernel { io, _ in
                let start = io.input(0, as: Int64.self)[0], delta = io.input(2, as: Int64.self)[0]
                let y = io.output(0, as: Int64.self)
                for i in 0..<count { y[i] = start + Int64(i) * delta }
            }
        case .int32:
            return Kernel { io, _ in
                let start = io.input(0, as: Int32.self)[0], delta = io.input(2, as: Int32.self)[0]
                let y = io.output(0, as: Int32.self)
                for i in 0..<count { y[i] = start + Int32(i) * delta }
            }
        default: throw k.error("the CPU kernel does not support \(k.inputDType(0))", subject: k.op.inputLabel(0))
        }
    }

    static func buildConstantOfShape(_ k: KernelContext) throws(OpError) -> Kernel {
        let type = k.outputTypes[0].dtype
        let count = k.outputShape(0).reduce(1, *)
        let es = elementSize(type)
        let fill: [UInt8] = try k.op.tensor("value").map { Array($0.buffer!.bytes) } ?? [UInt8](repeating: 0, count: es)
        return Kernel { io, _ in
            fill.withUnsafeBytes { f in
                for i in 0..<count { (io.outputs[0] + i * es).copyMemory(from: f.baseAddress!, byteCount: es) }
            }
        }
    }

    static func buildDepthToSpace(_ k: KernelContext) throws(OpError) -> Kernel {
        let s = k.inputShape(0)
        let b = try k.op.int("blocksize")
        let crd = try k.op.string("mode") == "CRD"
        let (n, c, h, w) = (s[0], s[1], s[2], s[3])
        let es = elementSize(k.inputDType(0))
        // DCR: view [n, b, b, c/b², h, w] → [n, c/b², h, b, w, b]; CRD: view [n, c/b², b, b, h, w] → same.
        let view = crd ? [n, c / (b * b), b, b, h, w] : [n, b, b, c / (b * b), h, w]
        let perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]
        return Kernel { io, _ in permute(io.inputs[0]!, io.outputs[0], shape: view, perm: perm, elementSize: es) }
    }

    static func buildSpaceToDepth(_ k: KernelContext) throws(OpError) -> Kernel {
        let s = k.inputShape(0)
        let b = try k.op.int("blocksize")
        let (n, c, h, w) = (s[0], s[1], s[2], s[3])
        let es = elementSize(k.inputDType(0))
        // View [n, c, h/b, b, w/b, b] → [n, b, b, c, h/b, w/b].
        let view = [n, c, h / b, b, w / b, b]
        return Kernel { io, _ in permute(io.inputs[0]!, io.outputs[0], shape: view, perm: [0, 3, 5, 1, 2, 4], elementSize: es) }
    }
}
