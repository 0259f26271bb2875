/// Iterates an output shape together with up to three inputs broadcast to it (numpy rules).
///
/// Dims are coalesced: size-1 output dims are dropped and neighbouring dims merged when every input
/// either broadcasts both or reads both contiguously, so the innermost run is as long as possible.
/// Iteration is by rows of the innermost dim, each input reading with stride 0 or 1 in the row.
struct BroadcastIndexer {
    /// Coalesced output dims.
    let dims: [Int]
    /// Per input, the element stride along each coalesced dim (0 where it broadcasts).
    let strides: [[Int]]
    let count: Int

    var inner: Int { dims.last ?? 1 }
    var rows: Int { dims.isEmpty ? 1 : count / max(inner, 1) }
    /// Per input, the stride along the innermost dim (0 or 1).
    var innerStrides: [Int] { strides.map { $0.last ?? 0 } }

    init(output: [Int], inputs: [[Int]]) {
        let rank = output.count
        count = output.reduce(1, *)
        // Broadcast flag per input per output axis; drop axes of output size 1.
        var keptDims: [Int] = []
        var flags: [[Bool]] = Array(repeating: [], count: inputs.count)
        for axis in 0..<rank where output[axis] != 1 {
            keptDims.append(output[axis])
            for (k, shape) in inputs.enumerated() {
                let offset = rank - shape.count
                let size = axis >= offset ? shape[axis - offset] : 1
                flags[k].append(size == 1)
            }
        }
        var mergedDims: [Int] = []
        var mergedFlags: [[Bool]] = Array(repeating: [], count: inputs.count)
        for (i, size) in keptDims.enumerated() {
            if i > 0 && (0..<inputs.count).allSatisfy({ flags[$0][i] == flags[$0][i - 1] }) {
                mergedDims[mergedDims.count - 1] *= size
            } else {
                mergedDims.append(size)
                for k in 0..<inputs.count { mergedFlags[k].append(flags[k][i]) }
            }
        }
        dims = mergedDims
        strides = mergedFlags.map { f in
            var s = [Int](repeating: 0, count: mergedDims.count)
            var running = 1
            for d in stride(from: mergedDims.count - 1, through: 0, by: -1) where !f[d] {
                s[d] = running
                running *= mergedDims[d]
            }
            return s
        }
    }

    /// Calls `body(outputOffset, inputOffsets, length)` for each innermost row in `rows`.
    @inline(__always)
    func forEachRow(_ rowRange: Range<Int>, _ body: (Int, [Int], Int) -> Void) {
        guard !rowRange.isEmpty else { return }
        let inner = self.inner
        let outer = Array(dims.dropLast())
        var index = [Int](repeating: 0, count: outer.count)
        var rem = rowRange.lowerBound
        for d in stride(from: outer.count - 1, through: 0, by: -1) {
            index[d] = rem % outer[d]
            rem /= outer[d]
        }
        var offsets = strides.map { s in zip(index, s).reduce(0) { $0 + $1.0 * $1.1 } }
        for row in rowRange {
            body(row * inner, offsets, inner)
            // Advance the odometer.
            var d = outer.count - 1
            while d >= 0 {
                index[d] += 1
                for k in offsets.indices { offsets[k] += strides[k][d] }
                if index[d] < outer[d] { break }
                for k in offsets.indices { offsets[k] -= strides[k][d] * outer[d] }
                index[d] = 0
                d -= 1
            }
        }
    }
}

/// `out[i] = f(a[i], b[i])` under broadcasting, parallel over rows (or over the single run).
@inline(__always)
func broadcastBinary<A, B, R>(
    _ ix: BroadcastIndexer, _ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ out: UnsafeMutablePointer<R>,
    _ parallel: Parallel, _ f: (A, B) -> R
) {
    let sa = ix.innerStrides[0], sb = ix.innerStrides[1]
    func row(_ o: Int, _ offs: [Int], _ n: Int) {
        let pa = a + offs[0], pb = b + offs[1], po = out + o
        switch (sa, sb) {
        case (1, 1): for i in 0..<n { po[i] = f(pa[i], pb[i]) }
        case (1, 0): let y = pb[0]; for i in 0..<n { po[i] = f(pa[i], y) }
        case (0, 1): let x = pa[0]; for i in 0..<n { po[i] = f(x, pb[i]) }
        default: let v = f(pa[0], pb[0]); for i in 0..<n { po[i] = v }
        }
    }
    if ix.rows == 1 {
        // One long run: split it.
        parallel.forEach(ix.inner, grain: 16384) { r in
            let pa = a + (sa == 1 ? r.lowerBound : 0), pb = b + (sb == 1 ? r.lowerBound : 0)
            switch (sa, sb) {
            case (1, 1): for i in 0..<r.count { out[r.lowerBound + i] = f(pa[i], pb[i]) }
            case (1, 0): let y = pb[0]; for i in 0..<r.count { out[r.lowerBound + i] = f(pa[i], y) }
            case (0, 1): let x = pa[0]; for i in 0..<r.count { out[r.lowerBound + i] = f(x, pb[i]) }
            default: let v = f(pa[0], pb[0]); for i in r { out[i] = v }
            }
        }
    } else {
        parallel.forEach(ix.rows, grain: max(1, 16384 / max(ix.inner, 1))) { rows in ix.forEachRow(rows, row) }
    }
}

/// Copies `input` broadcast to the indexer's output (element size in bytes 1, 2, 4 or 8).
func broadcastCopy(_ ix: BroadcastIndexer, _ input: UnsafeRawPointer, _ out: UnsafeMutableRawPointer, elementSize: Int) {
    func copy<T>(_: T.Type) {
        let src = input.assumingMemoryBound(to: T.self), dst = out.assumingMemoryBound(to: T.self)
        let s = ix.innerStrides[0]
        ix.forEachRow(0..<ix.rows) { o, offs, n in
            if s == 1 { (dst + o).update(from: src + offs[0], count: n) } else { (dst + o).update(repeating: src[offs[0]], count: n) }
        }
    }
    switch elementSize {
    case 1: copy(UInt8.self)
    case 2: copy(UInt16.self)
    case 4: copy(UInt32.self)
    default: copy(UInt64.self)
    }
}
