import VigilBLAS
import VigilIR
import VigilOps

/// 2-D convolutions on Vigil's own AVX2 kernels: the Winograd F(2×2, 3×3) kernel and the direct
/// packed-weight kernel, how a layer chooses between them, and how the work is cut across threads.
extension ConvolutionKernels {
    /// Output tiles (2×2) from which Winograd is used (one block of work). Below that, the 16/9 times
    /// larger transformed weights cost more memory, and more time to read, than the multiplications they
    /// save — unless they are small (at most `winogradSmallWeightBytes`, as in early layers of a small
    /// batch), then from `winogradMinTilesSmallWeights` tiles.
    static let winogradMinTiles = 96, winogradMinTilesSmallWeights = 16, winogradSmallWeightBytes = 4 << 20
    /// Channels (per group) from which Winograd is used: its 16 products are GEMMs over the channels, too
    /// short below this (an RGB input layer) to pay for the transforms.
    static let winogradMinChannels = 8

    /// One group's convolution on Vigil's AVX2 kernels: the direct packed-weight kernel, whose units of
    /// work are output pixels, or the Winograd kernel, whose units are 2×2 output tiles.
    enum PackedEngine {
        case direct(PackedConvolution)
        case winograd(WinogradConvolution)

        func compute(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, layout: PackedConvolution.Layout, channelStride: Int,
                     bias: UnsafePointer<Float>?,
                     residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, activation: EpilogueActivation,
                     units: Range<Int>, panels: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
            switch self {
            case .direct(let conv):
                conv.compute(input: input, layout: layout, bias: bias, residual: residual, output: output, activation: activation,
                             pixels: units, panels: panels, workspace: workspace)
            case .winograd(let conv):
                conv.compute(input: input, weights: weights, layout: layout, inputChannelStride: channelStride, bias: bias, residual: residual,
                             output: output, activation: activation, tiles: units, panels: panels, workspace: workspace)
            }
        }
    }

    /// Everything a packed 2-D convolution decides when its plan is built.
    struct PackedSetup {
        let n: Int, c: Int, ih: Int, iw: Int, m: Int, outSize: Int
        let group: Int, cg: Int, mg: Int, groupWeights: Int
        let top: Int, left: Int, bottom: Int, right: Int, ph: Int, pw: Int
        let padded: Bool, hasBias: Bool, winograd: Bool
        /// Units of work (pixels for the direct kernel, 2×2 tiles for Winograd) per image and in all.
        let unitsPerImage: Int, units: Int
        let panels: Int, workspace: Int
        let layout: PackedConvolution.Layout
        /// The kernels of each group, when the weights are constant (else packed on every run).
        let prepacked: [PackedEngine]?
        let pack: @Sendable (UnsafePointer<Float>) -> [PackedEngine]
        /// The activation applied in the kernel's epilogue, and the pass applied after it.
        let inKernel: EpilogueActivation
        let epilogue: FusedKernels.Epilogue
    }

    /// 2-D convolution on Vigil's AVX2 kernels (Winograd for 3×3 stride-1 convolutions with enough output
    /// tiles, else the direct packed-weight kernel): weights are transformed and packed once here; each run
    /// pads the input (when the conv pads), then splits the work across threads.
    static func packedConv2D(_ k: KernelContext, attrs: Convolution.ConvAttributes, activation: FusedActivation?,
                             residualInput: Int?) -> Kernel {
        let s = packedSetup(k, attrs: attrs, activation: activation)
        // Batches of large images: one task per group of a few images, which pads them into its thread's
        // buffer and computes them, so a padded copy of the whole batch never exists.
        if s.padded && s.n >= k.parallelism && s.outSize >= 256 {
            return imageGroupConv(s, threads: k.parallelism, residualInput: residualInput)
        }
        return splitConv(s, threads: k.parallelism, residualInput: residualInput)
    }

    static func packedSetup(_ k: KernelContext, attrs: Convolution.ConvAttributes, activation: FusedActivation?) -> PackedSetup {
        let xs = k.inputShape(0), ws = k.inputShape(1), ys = k.outputShape(0)
        let (n, c, ih, iw, m, oh, ow) = (xs[0], xs[1], xs[2], xs[3], ws[0], ys[2], ys[3])
        let group = attrs.group, cg = c / group, mg = m / group, geo = attrs.geometry
        let (top, left, bottom, right) = (geo.padsBegin[0], geo.padsBegin[1], geo.padsEnd[0], geo.padsEnd[1])
        let ph = ih + top + bottom, pw = iw + left + right
        let groupWeights = mg * cg * ws[2] * ws[3]
        // Winograd mixes a tile's weights, so it needs them constant (transformed once) and finite (a NaN
        // or infinite weight would reach every output of the channel, padding included).
        let winograd = k.winograd && ws[2] == 3 && ws[3] == 3 && cg >= winogradMinChannels && geo.strides == [1, 1] && geo.dilations == [1, 1]
            && oh % 2 == 0 && ow % 2 == 0 && {
                let tiles = n * (oh / 2) * (ow / 2)
                return tiles >= winogradMinTiles || tiles >= winogradMinTilesSmallWeights && 16 * mg * cg * 4 <= winogradSmallWeightBytes
            }() && k.withConstantFloats(1, { UnsafeBufferPointer(start: $0, count: m * cg * 9).allSatisfy(\.isFinite) }) == true
        let pack: @Sendable (UnsafePointer<Float>) -> [PackedEngine] = { w in
            (0..<group).map { gi in
                let weights = w + gi * groupWeights
                if winograd { return .winograd(WinogradConvolution(weights: weights, outputChannels: mg, channels: cg)) }
                return .direct(PackedConvolution(weights: weights, outputChannels: mg, channels: cg, kernel: (ws[2], ws[3]),
                                                 dilations: (geo.dilations[0], geo.dilations[1]), paddedWidth: pw, channelStride: ph * pw))
            }
        }
        let panels = (mg + PackedConvolution.panelRows - 1) / PackedConvolution.panelRows
        let unitsPerImage = winograd ? (oh / 2) * (ow / 2) : oh * ow
        let layout = PackedConvolution.Layout(
            paddedWidth: pw, inputImageStride: c * ph * pw, outputHeight: oh, outputWidth: ow,
            strideHeight: geo.strides[0], strideWidth: geo.strides[1], outputChannelStride: oh * ow, outputImageStride: m * oh * ow)
        // Piecewise-linear activations run in the kernel's epilogue; the others in a pass afterwards.
        var inKernel = EpilogueActivation.none
        var after: FusedActivation? = activation
        if let form = activation?.piecewiseLinear {
            inKernel = EpilogueActivation(slope: form.slope, low: form.low, high: form.high)
            after = nil
        }
        return PackedSetup(
            n: n, c: c, ih: ih, iw: iw, m: m, outSize: oh * ow, group: group, cg: cg, mg: mg, groupWeights: groupWeights,
            top: top, left: left, bottom: bottom, right: right, ph: ph, pw: pw, padded: top + left + bottom + right > 0,
            hasBias: k.op.hasInput(2), winograd: winograd, unitsPerImage: unitsPerImage, units: n * unitsPerImage, panels: panels,
            workspace: winograd ? WinogradConvolution.workspaceCount(channels: cg) : PackedConvolution.workspaceCount(panels: panels),
            layout: layout, prepacked: k.withConstantFloats(1, pack), pack: pack, inKernel: inKernel,
            epilogue: FusedKernels.Epilogue(activation: after, residualInput: nil, count: n * m * oh * ow))
    }

    /// Batches of large images: each task pads a group of images into its thread's buffer and computes
    /// them. A group holds as many images as make its units whole 96-unit blocks (three 32×32 or 16×16
    /// images), so no block is cut short at an image's end.
    static func imageGroupConv(_ s: PackedSetup, threads: Int, residualInput: Int?) -> Kernel {
        let imagePadded = s.c * s.ph * s.pw, block = PackedConvolution.pixelBlock
        let images = min(s.n / threads, block / gcd(s.unitsPerImage, block), max(1, (1 << 20) / (imagePadded * 4)))
        let groups = (s.n + images - 1) / images
        let slots = min(threads, groups), slotFloats = images * imagePadded + s.workspace
        return Kernel(scratchBytes: slots * slotFloats * 4) { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            let bias = s.hasBias ? io.input(2, as: Float.self) : nil
            let residual = residualInput.map { io.input($0, as: Float.self) }
            let scratch = io.scratch!.assumingMemoryBound(to: Float.self)
            let w = io.input(1, as: Float.self), convs = s.prepacked ?? s.pack(w)
            par.forEachTask(groups) { g, slot in
                let first = g * images, count = min(images, s.n - first)
                let buffer = scratch + slot * slotFloats, work = buffer + images * imagePadded
                PackedConvolution.padPlanes(x + first * s.c * s.ih * s.iw, into: buffer, planes: count * s.c, height: s.ih, width: s.iw,
                                            top: s.top, bottom: s.bottom, left: s.left, right: s.right)
                for gi in 0..<s.group {
                    let offset = first * s.m * s.outSize + gi * s.mg * s.outSize
                    convs[gi].compute(input: buffer + gi * s.cg * s.ph * s.pw, weights: w + gi * s.groupWeights, layout: s.layout,
                                      channelStride: s.ph * s.pw, bias: bias.map { $0 + gi * s.mg }, residual: residual.map { $0 + offset },
                                      output: y + offset, activation: s.inKernel, units: 0..<(count * s.unitsPerImage),
                                      panels: 0..<s.panels, workspace: work)
                }
            }
            s.epilogue.apply(io, par)
        }
    }

    /// Pads the whole input once (when the conv pads), then splits each group's units and weight
    /// panels into tasks (``TaskGrid``).
    static func splitConv(_ s: PackedSetup, threads: Int, residualInput: Int?) -> Kernel {
        let split = TaskGrid(pixels: s.units, panels: s.panels, threads: threads, preferPixels: s.winograd)
        let slots = min(threads, split.count), paddedCount = s.padded ? s.n * s.c * s.ph * s.pw : 0
        return Kernel(scratchBytes: (paddedCount + slots * s.workspace) * 4) { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            let bias = s.hasBias ? io.input(2, as: Float.self) : nil
            let residual = residualInput.map { io.input($0, as: Float.self) }
            let scratch = io.scratch!.assumingMemoryBound(to: Float.self)
            var source = x
            if s.padded {
                let plane = s.ih * s.iw
                par.forEach(s.n * s.c, grain: max(1, 32768 / plane)) { r in
                    PackedConvolution.padPlanes(x + r.lowerBound * plane, into: scratch + r.lowerBound * s.ph * s.pw, planes: r.count,
                                                height: s.ih, width: s.iw, top: s.top, bottom: s.bottom, left: s.left, right: s.right)
                }
                source = UnsafePointer(scratch)
            }
            let w = io.input(1, as: Float.self), convs = s.prepacked ?? s.pack(w)
            let work = scratch + paddedCount
            for gi in 0..<s.group {
                let conv = convs[gi], input = source + gi * s.cg * s.ph * s.pw, output = y + gi * s.mg * s.outSize
                let groupBias = bias.map { $0 + gi * s.mg }, groupResidual = residual.map { $0 + gi * s.mg * s.outSize }
                par.forEachTask(split.count) { t, slot in
                    let (unitRange, panelRange) = split[t]
                    guard !unitRange.isEmpty, !panelRange.isEmpty else { return }
                    conv.compute(input: input, weights: w + gi * s.groupWeights, layout: s.layout, channelStride: s.ph * s.pw,
                                 bias: groupBias, residual: groupResidual, output: output, activation: s.inKernel, units: unitRange,
                                 panels: panelRange, workspace: work + slot * s.workspace)
                }
            }
            s.epilogue.apply(io, par)
        }
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// How one packed convolution is cut into tasks.
    ///
    /// - Enough pixels: chunks of whole 96-pixel blocks (the kernel's unit of work), about four per
    ///   thread, claimed one at a time, so that a thread slowed down by another process on its core
    ///   does not hold the others up.
    /// - Few pixels (deep layers of a small batch): one chunk of weight panels per thread; each thread
    ///   then reads only its share of the weights, and packs the few pixels once.
    /// - Few pixels and few panels, or few Winograd tiles (`preferPixels`; their transformed weights are
    ///   small, and splitting panels would repeat the input transform in every thread): one run of
    ///   6-pixel (6-tile) micro-tiles per thread.
    struct TaskGrid {
        static let block = 96, tile = 6
        let pixels: Int, panels: Int, pixelChunks: Int, panelChunks: Int, pixelUnit: Int

        init(pixels: Int, panels: Int, threads: Int, preferPixels: Bool = false) {
            self.pixels = pixels
            self.panels = panels
            let blocks = (pixels + Self.block - 1) / Self.block
            if threads == 1 || blocks >= 2 * threads {
                (pixelUnit, pixelChunks, panelChunks) = (Self.block, threads == 1 ? 1 : min(blocks, 4 * threads), 1)
            } else if panels >= threads && !(preferPixels && pixels >= 2 * threads * Self.tile) {
                (pixelUnit, pixelChunks, panelChunks) = (Self.block, 1, threads)
            } else {
                (pixelUnit, pixelChunks, panelChunks) = (Self.tile, max(1, min(threads, (pixels + Self.tile - 1) / Self.tile)), 1)
            }
        }

        var count: Int { pixelChunks * panelChunks }

        /// Task `t`'s pixels and panels.
        subscript(t: Int) -> (pixels: Range<Int>, panels: Range<Int>) {
            let p = t / panelChunks, q = t % panelChunks
            let units = (pixels + pixelUnit - 1) / pixelUnit
            let first = min(pixels, units * p / pixelChunks * pixelUnit), last = min(pixels, units * (p + 1) / pixelChunks * pixelUnit)
            return (first..<last, (panels * q / panelChunks)..<(panels * (q + 1) / panelChunks))
        }
    }
}
