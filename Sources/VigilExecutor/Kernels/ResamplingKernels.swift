import Foundation
import VigilIR
import VigilOps

/// Resize and Upsample: nearest (any element type) and separable multilinear (float32).
enum ResamplingKernels {
    static var builders: [String: KernelBuilder] { ["Resize": { k in try buildResize(k) }, "Upsample": { k in try buildResize(k) }] }

    /// The input coordinate of output index `o` along one axis.
    static func sourceCoordinate(_ a: Resampling.ResizeAttributes, axis: Int, _ o: Int, input: Int, output: Int, rank: Int) -> Double {
        let scale = Double(a.scales[axis])
        let x = Double(o)
        // The resized length as the ONNX definition uses it: input · scale, before flooring.
        let resized = Double(input) * scale
        switch a.coordinateMode {
        case "half_pixel": return (x + 0.5) / scale - 0.5
        case "half_pixel_symmetric":
            let adjustment = Double(output) / resized
            let center = Double(input) / 2
            return center * (1 - adjustment) + (x + 0.5) / scale - 0.5
        case "pytorch_half_pixel": return resized > 1 ? (x + 0.5) / scale - 0.5 : 0
        case "align_corners": return resized == 1 ? 0 : x * Double(input - 1) / (resized - 1)
        case "tf_crop_and_resize":
            let start = Double(a.roi[axis]), end = Double(a.roi[rank + axis])
            return output > 1 ? start * Double(input - 1) + x * (end - start) * Double(input - 1) / Double(output - 1)
                : 0.5 * (start + end) * Double(input - 1)
        default: return x / scale
        }
    }

    static func buildResize(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0), out = k.outputShape(0)
        let a = try Resampling.ResizeAttributes(k.op, shape: shape)
        let rank = shape.count
        let crop = a.coordinateMode == "tf_crop_and_resize"
        if a.mode == "nearest" {
            let maps: [[Int]] = (0..<rank).map { d in
                (0..<out[d]).map { o in
                    if out[d] == shape[d] && a.scales[d] == 1 && !crop { return o }
                    let x = sourceCoordinate(a, axis: d, o, input: shape[d], output: out[d], rank: rank)
                    if crop && (x < 0 || x > Double(shape[d] - 1)) { return -1 }
                    var i: Double
                    switch a.nearestMode {
                    case "floor": i = x.rounded(.down)
                    case "ceil": i = x.rounded(.up)
                    case "round_prefer_ceil": i = x.rounded(.toNearestOrAwayFromZero)
                    default: i = (x - x.rounded(.down)) == 0.5 ? x.rounded(.down) : x.rounded()
                    }
                    return min(max(Int(i), 0), shape[d] - 1)
                }
            }
            let es = elementSize(k.inputDType(0))
            var fill = [UInt8](repeating: 0, count: es)
            if k.inputDType(0) == .float32 { fill.withUnsafeMutableBytes { $0.storeBytes(of: a.extrapolationValue, as: Float.self) } }
            return Kernel { io, _ in
                ShapeKernels.axisMapCopy(io.inputs[0]!, io.outputs[0], input: shape, output: out, maps: maps, elementSize: es, fill: fill)
            }
        }
        try k.requireDTypes([.float32], inputs: [0])
        // One 1-D interpolation pass per resized axis.
        struct Pass { var axis: Int; var lo: [Int]; var hi: [Int]; var w: [Float]; var outside: [Bool] }
        var passes: [Pass] = []
        for d in 0..<rank where out[d] != shape[d] || a.scales[d] != 1 || crop {
            var pass = Pass(axis: d, lo: [], hi: [], w: [], outside: [])
            for o in 0..<out[d] {
                var x = sourceCoordinate(a, axis: d, o, input: shape[d], output: out[d], rank: rank)
                let outside = crop && (x < 0 || x > Double(shape[d] - 1))
                x = min(max(x, 0), Double(shape[d] - 1))
                let i0 = Int(x.rounded(.down))
                pass.lo.append(i0)
                pass.hi.append(min(i0 + 1, shape[d] - 1))
                pass.w.append(Float(x - Double(i0)))
                pass.outside.append(outside)
            }
            passes.append(pass)
        }
        var shapes: [[Int]] = [shape]
        for p in passes { var s = shapes.last!; s[p.axis] = out[p.axis]; shapes.append(s) }
        let maxTemp = shapes.dropFirst().dropLast().map { $0.reduce(1, *) }.max() ?? 0
        let extrapolation = a.extrapolationValue
        let total = out.reduce(1, *)
        return Kernel(scratchBytes: 2 * maxTemp * 4) { io, _ in
            if passes.isEmpty { io.outputs[0].copyMemory(from: io.inputs[0]!, byteCount: total * 4); return }
            let temps = io.scratch.map { $0.assumingMemoryBound(to: Float.self) }
            var src = io.input(0, as: Float.self)
            for (i, p) in passes.enumerated() {
                let isLast = i == passes.count - 1
                let dst = isLast ? io.output(0, as: Float.self) : temps! + (i % 2) * maxTemp
                let s = shapes[i], o = shapes[i + 1]
                let outer = s[..<p.axis].reduce(1, *), inner = s[(p.axis + 1)...].reduce(1, *)
                for r in 0..<outer {
                    for j in 0..<o[p.axis] {
                        let l = src + (r * s[p.axis] + p.lo[j]) * inner, h = src + (r * s[p.axis] + p.hi[j]) * inner
                        let t = dst + (r * o[p.axis] + j) * inner
                        let w = p.w[j]
                        if p.outside[j] {
                            t.update(repeating: extrapolation, count: inner)
                        } else {
                            for e in 0..<inner { t[e] = l[e] + (h[e] - l[e]) * w }
                        }
                    }
                }
                src = UnsafePointer(dst)
            }
        }
    }
}
