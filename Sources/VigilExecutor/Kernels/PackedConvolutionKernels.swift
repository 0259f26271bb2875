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
    /// Whether 3×3 convolutions may run on the Winograd kernel on AVX-512 cores (its AVX-512 form, whose 16
    /// products run on the packed GEMM's 12 × 32 tile), on the shapes ``winogradFitsAVX512`` admits. Its
    /// AVX2 form had lost to the AVX-512 GEMM on every 3×3 layer (ResNet-18 at batch 1, one thread: 33.5
    /// against 31.0 ms of CPU time); the AVX-512 form beats it 1.3–1.6× where it is used.
    nonisolated(unsafe) static var winogradWithAVX512 = true
    /// Tests turn this on to run the AVX-512 form on every shape Winograd takes, not only the ones where it
    /// was measured faster.
    nonisolated(unsafe) static var winogradAVX512AnyShape = false

    /// The shapes on which the AVX-512 Winograd form beat the GEMM or the direct kernel (one layer, one
    /// thread, minimum of 4 × 100 runs at batch 1, 4 × 5 at batch 32, Sapphire Rapids): with 64–256
    /// channels 1.37–1.6× (ResNet's layers at 56×56 to 14×14; 1.5–1.8× at batch 32, 7×7 included),
    /// DenseNet's 128 → 32 1.46× at 56×56, 1.34× at 28×28, 1.0× at 14×14, 1.2× at 7×7, SqueezeNet's
    /// 32 → 128 1.22× at 27×27 (48 → 192 and 64 → 256 at 13×13: 1.0× at batch 1, 1.34–1.44× at 32),
    /// 24 → 48 1.33×, SqueezeNet's 16 → 64 at 55×55 1.19× at batch 1 (Zen 5; in the model 0.32 → 0.27 ms,
    /// onnxruntime 0.28; at batch 32 0.94× on the whole batch, but SqueezeNet's batches now run in chunks of
    /// one sample: 1.00× there). It lost with few products per tile (16 → 16 0.84×, 32 → 16 0.96×,
    /// RegNetY's groups of 8 0.5–0.6×), and on 32-channel groups at 14×14 (0.83×: 49 tiles, one and a
    /// third vectors).
    static func winogradFitsAVX512(channels cg: Int, outputChannels mg: Int, tiles: Int) -> Bool {
        winogradAVX512AnyShape || mg >= 24 && cg >= 16 && mg * cg >= 1024 && (tiles >= winogradMinTiles || cg >= 128)
    }
    /// Whether 3×3 stride-1 convolutions run on the direct kernel (``DirectConvolution``) on AVX-512 cores,
    /// where it is chosen (``directMinWidth``, ``directMaxOutputChannels``); tests turn it off to check
    /// the GEMM on the same layers.
    nonisolated(unsafe) static var directWithAVX512 = true
    /// Output widths from which, and output channels (per group) up to which, the direct kernel is used.
    /// Alone (a C microbenchmark, one thread) it beat the GEMM on every 3×3 stride-1 shape of the zoo at
    /// 14×14 and wider: 1.35–1.9× with 32 output channels (DenseNet), where gathering the columns costs
    /// as much as the products, 1.0–1.2× with 64–256. Inside ResNet-18 the 64–256-channel layers ran
    /// 0.84–0.95× the GEMM's speed, so those stay on the GEMM.
    static let directMinWidth = 14, directMaxOutputChannels = 48
    /// Stride 2: the input channels per group up to which the direct kernel is used, with at least 8 of them
    /// (RegNetY's groups of 8: 1.3–1.5× the GEMM per layer, one thread) or at most 16 output channels
    /// (MobileNetV3's 3-channel stem: 1.13×). Stems of 24–64 output channels stay on the GEMM
    /// (0.70–0.90× there): the direct kernel gathers each tap's even columns once per block of 8 output
    /// channels, where im2col gathers them once for all.
    static let directStride2MaxChannels = 16

    /// One group's convolution on Vigil's AVX2 kernels: the packed GEMM, whose units of work are output
    /// pixels and whose panels are 6 output channels, the Winograd kernel, whose units are 2×2 output
    /// tiles and whose panels are 16 output channels, or the direct 3×3 kernel, whose units are output
    /// rows and whose panels are its blocks of output channels.
    enum PackedEngine {
        case gemm(GEMMConvolution)
        case winograd(WinogradConvolution)
        case direct(DirectConvolution)

        func compute(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, layout: PackedConvolution.Layout, channelStride: Int,
                     bias: UnsafePointer<Float>?,
                     residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, activation: PackedActivation,
                     units: Range<Int>, panels: Range<Int>, workspace: UnsafeMutablePointer<Float>, packedColumns: UnsafePointer<Float>? = nil) {
            switch self {
            case .gemm(let conv):
                conv.compute(input: input, layout: layout, bias: bias, residual: residual, output: output, activation: activation.vector,
                             pixels: units, panels: panels, workspace: workspace, packedColumns: packedColumns)
            case .winograd(let conv):
                conv.compute(input: input, weights: weights, layout: layout, inputChannelStride: channelStride, bias: bias, residual: residual,
                             output: output, activation: activation.piecewise, tiles: units, panels: panels, workspace: workspace)
            case .direct(let conv):
                // Units are rows of the batch: each image's share in turn.
                var row = units.lowerBound
                while row < units.upperBound {
                    let image = row / layout.outputHeight, first = row % layout.outputHeight
                    let last = min(layout.outputHeight, first + units.upperBound - row), offset = image * layout.outputImageStride
                    conv.compute(input: input + image * layout.inputImageStride, bias: bias, residual: residual.map { $0 + offset },
                                 output: output + offset, activation: activation.vector, blocks: panels, rows: first..<last)
                    row += last - first
                }
            }
        }
    }

    /// The activation a packed kernel applies as it writes: the Winograd kernel's piecewise-linear form, the
    /// GEMM's vectorized form (any activation with a ``VectorForm``).
    struct PackedActivation {
        var piecewise = EpilogueActivation.none
        var vector = VectorActivation.none
    }

    /// One group's convolution on the packed GEMM: A = the weights (output channels × channels·kh·kw,
    /// packed once), B = the columns of the input, read from it as the kernel runs (a 1×1, stride-1,
    /// unpadded convolution reads the input as a matrix).
    struct GEMMConvolution: @unchecked Sendable {
        let weights: PackedMatrix
        let outputChannels: Int, reduction: Int
        /// `nil` for a 1×1 stride-1 convolution without padding.
        let columns: ConvolutionColumns?
        /// Floats between channels of the input (its plane), for the matrix form.
        let plane: Int

        /// Output channels per panel.
        static let panelRows = PackedGEMM.rowPanel

        init(weights: UnsafePointer<Float>, outputChannels: Int, channels: Int, kernel: (Int, Int), dilations: (Int, Int),
             strides: (Int, Int), paddedWidth: Int, channelStride: Int, imageStride: Int, outputWidth: Int, matrix: Bool) {
            let k = channels * kernel.0 * kernel.1
            self.weights = PackedMatrix(left: weights, m: outputChannels, k: k, rowStride: k)
            (self.outputChannels, self.reduction, self.plane) = (outputChannels, k, channelStride)
            columns = matrix ? nil : ConvolutionColumns(
                channels: channels, kernel: kernel, dilations: dilations, paddedWidth: paddedWidth, channelStride: channelStride,
                imageStride: imageStride, outputWidth: outputWidth, strides: strides)
        }

        func compute(input: UnsafePointer<Float>, layout: PackedConvolution.Layout, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                     output: UnsafeMutablePointer<Float>, activation: VectorActivation, pixels: Range<Int>, panels: Range<Int>,
                     workspace: UnsafeMutablePointer<Float>, packedColumns: UnsafePointer<Float>? = nil) {
            let outSize = layout.outputHeight * layout.outputWidth
            let source: PackedGEMM.Source = columns.map { cols in packedColumns.map { .packedConvolution(input, cols, packed: $0) } ?? .convolution(input, cols) }
                ?? .strided(input, rowStride: plane, columnStride: 1, imageStride: layout.inputImageStride)
            let rows = (panels.lowerBound * Self.panelRows)..<min(outputChannels, panels.upperBound * Self.panelRows)
            PackedGEMM.compute(
                m: outputChannels, n: pixels.upperBound, k: reduction, a: .packed(weights), b: source, c: output,
                layout: .init(rowStride: layout.outputChannelStride, imageStride: layout.outputImageStride, columnsPerImage: outSize),
                epilogue: .init(rowBias: bias, residual: residual, activation: activation), rows: rows, columns: pixels, workspace: workspace)
        }

        /// Packs the input's columns `pixels` (of `n` in all; from a multiple of ``PackedGEMM/columnPanel``) once
        /// for every thread (``PackedGEMM/packColumns(k:n:b:columnsPerImage:columns:into:)``); only for a
        /// convolution that reads columns (not the matrix form, whose columns are read in place).
        func packColumns(input: UnsafePointer<Float>, layout: PackedConvolution.Layout, n: Int, pixels: Range<Int>,
                         into packed: UnsafeMutablePointer<Float>) {
            guard let columns else { return }
            PackedGEMM.packColumns(k: reduction, n: n, b: .convolution(input, columns), columnsPerImage: layout.outputHeight * layout.outputWidth,
                                   columns: pixels, into: packed)
        }
    }

    /// Everything a packed 2-D convolution decides when its plan is built.
    struct PackedSetup {
        let n: Int, c: Int, ih: Int, iw: Int, m: Int, outSize: Int
        let group: Int, cg: Int, mg: Int, groupWeights: Int
        let top: Int, left: Int, bottom: Int, right: Int, ph: Int, pw: Int
        let padded: Bool, hasBias: Bool, winograd: Bool, direct: Bool
        /// The GEMM's reduction (channels per group × kernel area), and whether it reads the input as a
        /// matrix (a 1×1, stride-1, unpadded convolution) rather than as a convolution's columns.
        let reduction: Int, matrix: Bool
        /// Units of work (pixels for the GEMM, 2×2 tiles for Winograd, rows for the direct kernel) per image and in all.
        let unitsPerImage: Int, units: Int
        let panels: Int, workspace: Int
        let layout: PackedConvolution.Layout
        /// The kernels of each group, when the weights are constant (else packed on every run).
        let prepacked: [PackedEngine]?
        let pack: @Sendable (UnsafePointer<Float>) -> [PackedEngine]
        /// The activation applied in the kernel's epilogue, and the pass applied after it.
        let inKernel: PackedActivation
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
        let (top, left) = (geo.padsBegin[0], geo.padsBegin[1])
        var (bottom, right) = (geo.padsEnd[0], geo.padsEnd[1])
        let groupWeights = mg * cg * ws[2] * ws[3]
        // Winograd mixes a tile's weights, so it needs them constant (transformed once) and finite (a NaN
        // or infinite weight would reach every output of the channel, padding included). Its AVX-512 form
        // takes odd output sizes: the last tile row or column hangs over by one.
        let tiles = n * ((oh + 1) / 2) * ((ow + 1) / 2)
        let winograd = k.winograd && ws[2] == 3 && ws[3] == 3 && cg >= winogradMinChannels && geo.strides == [1, 1] && geo.dilations == [1, 1]
            && (oh % 2 == 0 && ow % 2 == 0 || InstructionSets.useAVX512)
            && (tiles >= winogradMinTiles || tiles >= winogradMinTilesSmallWeights && 16 * mg * cg * 4 <= winogradSmallWeightBytes)
            && (!InstructionSets.useAVX512 || winogradWithAVX512 && winogradFitsAVX512(channels: cg, outputChannels: mg, tiles: tiles)) && k.withConstantFloats(1, { UnsafeBufferPointer(start: $0, count: m * cg * 9).allSatisfy(\.isFinite) }) == true
        if winograd {  // the overhanging tiles read one more row or column of zeros
            bottom += oh % 2
            right += ow % 2
        }
        let ph = ih + top + bottom, pw = iw + left + right
        // A 1×1, stride-1 convolution without padding reads its input as a matrix (channels × pixels).
        let matrix = ws[2] == 1 && ws[3] == 1 && geo.strides == [1, 1] && top + left + bottom + right == 0
        let direct = !winograd && directWithAVX512 && InstructionSets.useAVX512 && ws[2] == 3 && ws[3] == 3 && geo.dilations == [1, 1]
            && ow >= directMinWidth && (geo.strides == [1, 1] && mg <= directMaxOutputChannels
                || geo.strides == [2, 2] && cg <= directStride2MaxChannels && (cg >= 8 || mg <= 16))
        let pack: @Sendable (UnsafePointer<Float>) -> [PackedEngine] = { w in
            (0..<group).map { gi in
                let weights = w + gi * groupWeights
                if winograd { return .winograd(WinogradConvolution(weights: weights, outputChannels: mg, channels: cg)) }
                if direct {
                    return .direct(DirectConvolution(weights: weights, channels: cg, paddedHeight: ph, paddedWidth: pw, outputChannels: mg,
                                                     outputHeight: oh, outputWidth: ow, stride: geo.strides[0]))
                }
                return .gemm(GEMMConvolution(
                    weights: weights, outputChannels: mg, channels: cg, kernel: (ws[2], ws[3]), dilations: (geo.dilations[0], geo.dilations[1]),
                    strides: (geo.strides[0], geo.strides[1]), paddedWidth: pw, channelStride: ph * pw, imageStride: c * ph * pw, outputWidth: ow,
                    matrix: matrix))
            }
        }
        let panelRows = winograd ? WinogradConvolution.panelRows : direct ? DirectConvolution.block(outputWidth: ow) : GEMMConvolution.panelRows
        let panels = (mg + panelRows - 1) / panelRows
        let unitsPerImage = winograd ? ((oh + 1) / 2) * ((ow + 1) / 2) : direct ? oh : oh * ow
        let layout = PackedConvolution.Layout(
            paddedWidth: pw, inputImageStride: c * ph * pw, outputHeight: oh, outputWidth: ow,
            strideHeight: geo.strides[0], strideWidth: geo.strides[1], outputChannelStride: oh * ow, outputImageStride: m * oh * ow)
        // Activations the kernel computes run in its epilogue (piecewise-linear ones for Winograd, every one
        // with a vectorized form for the GEMM); the others in a pass afterwards.
        var inKernel = PackedActivation()
        var after: FusedActivation? = activation
        if winograd, let form = activation?.piecewiseLinear {
            inKernel.piecewise = EpilogueActivation(slope: form.slope, low: form.low, high: form.high)
            after = nil
        } else if !winograd, let vector = VectorActivation(activation?.vectorForm) {
            inKernel.vector = vector
            after = nil
        }
        return PackedSetup(
            n: n, c: c, ih: ih, iw: iw, m: m, outSize: oh * ow, group: group, cg: cg, mg: mg, groupWeights: groupWeights,
            top: top, left: left, bottom: bottom, right: right, ph: ph, pw: pw, padded: top + left + bottom + right > 0,
            hasBias: k.op.hasInput(2), winograd: winograd, direct: direct, reduction: cg * ws[2] * ws[3], matrix: matrix, unitsPerImage: unitsPerImage, units: n * unitsPerImage, panels: panels,
            workspace: winograd ? WinogradConvolution.workspaceCount(channels: cg) : direct ? 0 : PackedGEMM.workspaceCount(k: cg * ws[2] * ws[3]),
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

    /// Largest buffer of columns packed once for every thread (``splitConv``), in floats.
    static let sharedColumnsLimit = 4 << 20

    /// Pads the whole input once (when the conv pads), then splits each group's units and weight
    /// panels into tasks (``TaskGrid``). When the tasks split only the panels of a convolution that
    /// gathers its columns, the threads first pack those columns together, once, into a shared buffer,
    /// instead of each task packing all of them for its own panels. A grouped convolution with at least
    /// two groups per thread runs its groups as the tasks of one parallel loop, not one loop per group
    /// (RegNetY's layers have 6 to 55 small groups; a loop per group made two threads slower than one).
    static func splitConv(_ s: PackedSetup, threads: Int, residualInput: Int?) -> Kernel {
        let byGroup = threads > 1 && s.group >= 2 * threads
        let split = TaskGrid(pixels: s.units, panels: s.panels, threads: byGroup ? 1 : threads, preferPixels: s.winograd,
                             block: s.winograd ? PackedConvolution.pixelBlock : s.direct ? max(1, 192 / s.layout.outputWidth) : 192,
                             tile: s.winograd ? 6 : s.direct ? 1 : PackedGEMM.columnPanel)
        let slots = min(threads, byGroup ? s.group : split.count), paddedCount = s.padded ? s.n * s.c * s.ph * s.pw : 0
        let sharedCount = !s.winograd && !s.direct && !s.matrix && split.pixelChunks == 1 && split.panelChunks > 1
            ? PackedGEMM.packedColumnsCount(k: s.reduction, n: s.units) : 0
        let shared = sharedCount <= sharedColumnsLimit ? sharedCount : 0
        let tiles = (s.units + PackedGEMM.columnPanel - 1) / PackedGEMM.columnPanel, packTasks = min(threads, tiles)
        // At least one vector of scratch, so that the pointer exists where nothing needs it (the direct
        // kernel on an unpadded input).
        return Kernel(scratchBytes: max(64, (paddedCount + shared + slots * s.workspace) * 4)) { io, par in
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
            let packed = scratch + paddedCount, work = packed + shared
            /// Task `t` of group `gi`'s split, on thread `slot`.
            func compute(_ gi: Int, _ t: Int, _ slot: Int, _ packedColumns: UnsafePointer<Float>?) {
                let (unitRange, panelRange) = split[t]
                guard !unitRange.isEmpty, !panelRange.isEmpty else { return }
                convs[gi].compute(input: source + gi * s.cg * s.ph * s.pw, weights: w + gi * s.groupWeights, layout: s.layout,
                                  channelStride: s.ph * s.pw, bias: bias.map { $0 + gi * s.mg },
                                  residual: residual.map { $0 + gi * s.mg * s.outSize }, output: y + gi * s.mg * s.outSize,
                                  activation: s.inKernel, units: unitRange, panels: panelRange, workspace: work + slot * s.workspace,
                                  packedColumns: packedColumns)
            }
            if byGroup {
                par.forEachTask(s.group) { gi, slot in compute(gi, 0, slot, nil) }
            }
            for gi in 0..<s.group where !byGroup {
                var packedColumns: UnsafePointer<Float>?
                if shared > 0, case .gemm(let gemm) = convs[gi] {
                    let input = source + gi * s.cg * s.ph * s.pw
                    par.forEachTask(packTasks) { t, _ in
                        let first = tiles * t / packTasks * PackedGEMM.columnPanel
                        let last = min(s.units, tiles * (t + 1) / packTasks * PackedGEMM.columnPanel)
                        gemm.packColumns(input: input, layout: s.layout, n: s.units, pixels: first..<last, into: packed)
                    }
                    packedColumns = UnsafePointer(packed)
                }
                par.forEachTask(split.count) { [packedColumns] t, slot in compute(gi, t, slot, packedColumns) }
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
        let pixels: Int, panels: Int, pixelChunks: Int, panelChunks: Int, pixelUnit: Int

        /// `block` pixels are one unit of work of the kernel, `tile` its register tile.
        init(pixels: Int, panels: Int, threads: Int, preferPixels: Bool = false, block: Int = 96, tile: Int = 6) {
            self.pixels = pixels
            self.panels = panels
            let blocks = (pixels + block - 1) / block
            if threads == 1 || blocks >= 2 * threads {
                (pixelUnit, pixelChunks, panelChunks) = (block, threads == 1 ? 1 : min(blocks, 4 * threads), 1)
            } else if panels >= threads && !(preferPixels && pixels >= 2 * threads * tile) {
                (pixelUnit, pixelChunks, panelChunks) = (block, 1, preferPixels ? threads : min(panels, 4 * threads))
            } else {
                (pixelUnit, pixelChunks, panelChunks) = (tile, max(1, min(threads, (pixels + tile - 1) / tile)), 1)
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
