import VigilIR
import VigilOps

/// MaxPool, AveragePool and the global pools on float32, parallel over (image, channel) planes.
enum PoolingKernels {
    static var builders: [String: KernelBuilder] {
        ["MaxPool": { k in try buildPool(k) }, "AveragePool": { k in try buildPool(k) }, "GlobalAveragePool": { k in try buildGlobal(k) }, "GlobalMaxPool": { k in try buildGlobal(k) }]
    }

    /// A pooling layer's geometry: planes of `inSize` input and `outSize` output elements.
    struct Pool {
        let g: ConvolutionKernels.Geometry3
        let padsEnd: [Int]
        let planes: Int, inSize: Int, outSize: Int
    }

    static func buildPool(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let attrs = try Pooling.PoolAttributes(k.op)
        let xs = k.inputShape(0), ys = k.outputShape(0)
        let geo = attrs.geometry
        let g = ConvolutionKernels.Geometry3(input: Array(xs.dropFirst(2)), output: Array(ys.dropFirst(2)), kernel: geo.kernel,
                                             strides: geo.strides, dilations: geo.dilations, pads: geo.padsBegin)
        let pool = Pool(g: g, padsEnd: Array(repeating: 0, count: 3 - geo.padsEnd.count) + geo.padsEnd,
                        planes: xs[0] * xs[1], inSize: g.inputSize, outSize: g.outputSize)
        let isMax = k.node.opType == "MaxPool"
        let wantIndices = isMax && k.node.outputs.count > 1 && !k.node.outputs[1].isEmpty
        if isMax && !wantIndices && xs.count == 4 && geo.dilations.allSatisfy({ $0 == 1 }) {
            if g.kernel == [1, 2, 2], g.strides == [1, 2, 2], g.pads == [0, 0, 0], g.output[1] * 2 <= g.input[1], g.output[2] * 2 <= g.input[2] {
                return maxPool2x2(pool)
            }
            return maxPool2D(pool)
        }
        return generalPool(pool, isMax: isMax, wantIndices: wantIndices, includePad: attrs.countIncludePad)
    }

    /// The common 2×2 stride-2 max pool: a branch-free max of four, which vectorizes.
    static func maxPool2x2(_ pool: Pool) -> Kernel {
        let (IW, OH, OW) = (pool.g.input[2], pool.g.output[1], pool.g.output[2])
        let (planes, inSize, outSize) = (pool.planes, pool.inSize, pool.outSize)
        return Kernel { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            par.forEach(planes, grain: max(1, 16384 / max(inSize, 1))) { range in
                for p in range {
                    for oh in 0..<OH {
                        let top = x + p * inSize + 2 * oh * IW, bottom = top + IW, dst = y + p * outSize + oh * OW
                        for ow in 0..<OW {
                            let a = top[2 * ow] > top[2 * ow + 1] ? top[2 * ow] : top[2 * ow + 1]
                            let b = bottom[2 * ow] > bottom[2 * ow + 1] ? bottom[2 * ow] : bottom[2 * ow + 1]
                            dst[ow] = a > b ? a : b
                        }
                    }
                }
            }
        }
    }

    /// 2-D max pooling without dilation: each window is clipped to the input once per row and column.
    static func maxPool2D(_ pool: Pool) -> Kernel {
        let g = pool.g
        let (IH, IW, OH, OW, KH, KW) = (g.input[1], g.input[2], g.output[1], g.output[2], g.kernel[1], g.kernel[2])
        let (sh, sw, ph, pw) = (g.strides[1], g.strides[2], g.pads[1], g.pads[2])
        let (planes, inSize, outSize) = (pool.planes, pool.inSize, pool.outSize)
        let columns = (0..<OW).map { ow -> Range<Int> in
            let start = ow * sw - pw
            return max(start, 0)..<min(start + KW, IW)
        }
        return Kernel { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            par.forEach(planes, grain: max(1, 8192 / max(inSize, 1))) { range in
                for p in range {
                    let src = x + p * inSize, dst = y + p * outSize
                    for oh in 0..<OH {
                        let start = oh * sh - ph
                        let h0 = max(start, 0), h1 = min(start + KH, IH)
                        for ow in 0..<OW {
                            var best = -Float.infinity
                            for h in h0..<h1 {
                                let line = src + h * IW
                                for w in columns[ow] where line[w] > best { best = line[w] }
                            }
                            dst[oh * OW + ow] = best
                        }
                    }
                }
            }
        }
    }

    /// The valid kernel taps along one axis for each output position: the input indices inside the
    /// input, and the number of taps inside the padded extent.
    static func taps(_ pool: Pool, axis: Int) -> [(valid: [Int], padded: Int)] {
        let g = pool.g
        return (0..<g.output[axis]).map { o in
            let s = o * g.strides[axis] - g.pads[axis]
            var valid: [Int] = [], padded = 0
            for t in 0..<g.kernel[axis] {
                let i = s + t * g.dilations[axis]
                if i >= 0 && i < g.input[axis] { valid.append(i) }
                if i >= -g.pads[axis] && i < g.input[axis] + pool.padsEnd[axis] { padded += 1 }
            }
            return (valid, padded)
        }
    }

    /// Any max or average pool (1-, 2- or 3-D, dilations, pads, indices): window by window over the
    /// precomputed taps.
    static func generalPool(_ pool: Pool, isMax: Bool, wantIndices: Bool, includePad: Bool) -> Kernel {
        let tapsD = taps(pool, axis: 0), tapsH = taps(pool, axis: 1), tapsW = taps(pool, axis: 2)
        let (IH, IW) = (pool.g.input[1], pool.g.input[2])
        let (planes, inSize, outSize) = (pool.planes, pool.inSize, pool.outSize)
        return Kernel { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            let indices = wantIndices ? io.output(1, as: Int64.self) : nil
            par.forEach(planes) { range in
                for p in range {
                    let src = x + p * inSize
                    var o = p * outSize
                    for td in tapsD {
                        for th in tapsH {
                            for tw in tapsW {
                                var best = -Float.infinity, bestIndex = -1, sum: Float = 0
                                for d in td.valid {
                                    for h in th.valid {
                                        let line = (d * IH + h) * IW
                                        for w in tw.valid {
                                            let v = src[line + w]
                                            sum += v
                                            if bestIndex < 0 || v > best { (best, bestIndex) = (v, line + w) }
                                        }
                                    }
                                }
                                if isMax {
                                    y[o] = best
                                    indices?[o] = Int64(p * inSize + max(bestIndex, 0))
                                } else {
                                    let count = includePad ? td.padded * th.padded * tw.padded
                                        : td.valid.count * th.valid.count * tw.valid.count
                                    y[o] = count > 0 ? sum / Float(count) : 0
                                }
                                o += 1
                            }
                        }
                    }
                }
            }
        }
    }

    static func buildGlobal(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let xs = k.inputShape(0)
        let planes = xs[0] * xs[1]
        let size = xs.dropFirst(2).reduce(1, *)
        let isMax = k.node.opType == "GlobalMaxPool"
        return Kernel { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            par.forEach(planes, grain: max(1, 4096 / max(size, 1))) { range in
                for p in range {
                    let src = x + p * size
                    if isMax {
                        var best = -Float.infinity
                        for i in 0..<size where src[i] > best { best = src[i] }
                        y[p] = best
                    } else {
                        var sum: Float = 0
                        for i in 0..<size { sum += src[i] }
                        y[p] = sum / Float(size)
                    }
                }
            }
        }
    }
}
