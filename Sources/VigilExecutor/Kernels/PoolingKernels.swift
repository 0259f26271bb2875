import VigilIR
import VigilOps

/// MaxPool, AveragePool and the global pools on float32, parallel over (image, channel) planes.
enum PoolingKernels {
    static var builders: [String: KernelBuilder] {
        ["MaxPool": { k in try buildPool(k) }, "AveragePool": { k in try buildPool(k) }, "GlobalAveragePool": { k in try buildGlobal(k) }, "GlobalMaxPool": { k in try buildGlobal(k) }]
    }

    static func buildPool(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let attrs = try Pooling.PoolAttributes(k.op)
        let xs = k.inputShape(0), ys = k.outputShape(0)
        let geo = attrs.geometry
        let g = ConvolutionKernels.Geometry3(input: Array(xs.dropFirst(2)), output: Array(ys.dropFirst(2)), kernel: geo.kernel,
                                             strides: geo.strides, dilations: geo.dilations, pads: geo.padsBegin)
        let padsEnd = Array(repeating: 0, count: 3 - geo.padsEnd.count) + geo.padsEnd
        let planes = xs[0] * xs[1]
        let inSize = g.inputSize, outSize = g.outputSize
        let isMax = k.node.opType == "MaxPool"
        let wantIndices = isMax && k.node.outputs.count > 1 && !k.node.outputs[1].isEmpty
        let includePad = attrs.countIncludePad

        /// The valid kernel taps along one axis for output position o: (first input index, step, count),
        /// plus the number of taps inside the padded extent.
        func taps(_ axis: Int, _ o: Int) -> (start: Int, valid: [Int], padded: Int) {
            let s = o * g.strides[axis] - g.pads[axis]
            var valid: [Int] = []
            var padded = 0
            for t in 0..<g.kernel[axis] {
                let i = s + t * g.dilations[axis]
                if i >= 0 && i < g.input[axis] { valid.append(i) }
                if i >= -g.pads[axis] && i < g.input[axis] + padsEnd[axis] { padded += 1 }
            }
            return (s, valid, padded)
        }
        let tapsD = (0..<g.output[0]).map { taps(0, $0) }
        let tapsH = (0..<g.output[1]).map { taps(1, $0) }
        let tapsW = (0..<g.output[2]).map { taps(2, $0) }
        let (IH, IW) = (g.input[1], g.input[2])

        if isMax && !wantIndices && xs.count == 4 && geo.dilations.allSatisfy({ $0 == 1 }) {
            // 2-D max pooling without dilation: clip each window to the input once per row and column.
            let (OH, OW, KH, KW) = (g.output[1], g.output[2], g.kernel[1], g.kernel[2])
            let (sh, sw, ph, pw) = (g.strides[1], g.strides[2], g.pads[1], g.pads[2])
            if KH == 2, KW == 2, sh == 2, sw == 2, ph == 0, pw == 0, g.pads == [0, 0, 0], OH * 2 <= IH, OW * 2 <= IW {
                // The common 2×2 stride-2 pool: a branch-free max of four, which vectorizes.
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
                                let cols = columns[ow]
                                var best = -Float.infinity
                                for h in h0..<h1 {
                                    let line = src + h * IW
                                    for w in cols where line[w] > best { best = line[w] }
                                }
                                dst[oh * OW + ow] = best
                            }
                        }
                    }
                }
            }
        }

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
                                if isMax {
                                    var best = -Float.infinity, bestIndex = -1
                                    for d in td.valid {
                                        for h in th.valid {
                                            let line = (d * IH + h) * IW
                                            for w in tw.valid where bestIndex < 0 || src[line + w] > best {
                                                best = src[line + w]
                                                bestIndex = line + w
                                            }
                                        }
                                    }
                                    y[o] = best
                                    indices?[o] = Int64(p * inSize + max(bestIndex, 0))
                                } else {
                                    var sum: Float = 0
                                    for d in td.valid {
                                        for h in th.valid {
                                            let line = (d * IH + h) * IW
                                            for w in tw.valid { sum += src[line + w] }
                                        }
                                    }
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
