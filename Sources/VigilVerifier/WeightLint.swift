import VigilIR

/// Lint of weights and dead code (warnings; errors under `--strict`).
enum WeightLint {
    /// Ops whose weight inputs should not be all zero: op type → input slots.
    static let weightSlots: [String: [Int]] = [
        "Conv": [1], "ConvTranspose": [1], "Gemm": [1], "MatMul": [0, 1], "LSTM": [1, 2], "GRU": [1, 2], "RNN": [1, 2],
        "Einsum": [1],
    ]
    /// Normalization ops and the name of their epsilon attribute.
    static let epsilonOps: Set<String> = [
        "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization",
        "RMSNormalization", "SkipLayerNormalization", "MeanVarianceNormalization",
    ]
    /// Tensors smaller than this are not reported as duplicates (shape constants repeat legitimately).
    static let duplicateMinimumBytes = 16

    // MARK: Weights

    static func weights(_ context: VerificationContext) -> [Diagnostic] {
        let graph = context.model.graph
        var out: [Diagnostic] = []
        var weightUse: [String: Location] = [:]
        for (index, node) in graph.nodes.enumerated() {
            let location = Location.node(node, index: index)
            for slot in weightSlots[node.opType] ?? [] where slot < node.inputs.count {
                let name = node.inputs[slot]
                if !name.isEmpty, graph.initializer(name) != nil, weightUse[name] == nil {
                    var at = location
                    at.value = name
                    weightUse[name] = at
                }
            }
            if node.opType == "BatchNormalization", node.inputs.count > 4, let variance = graph.initializer(node.inputs[4]),
               let values = floatValues(variance) {
                let bad = values.filter { !($0 > 0) }
                if !bad.isEmpty {
                    var at = location
                    at.value = node.inputs[4]
                    out.append(Diagnostic(.nonPositiveVariance, "variance '\(node.inputs[4])' has \(bad.count) of \(values.count) values ≤ 0 (first: \(bad[0]))",
                                          at: at, hint: "variances must be positive; the normalization divides by sqrt(var + epsilon)"))
                }
            }
            if epsilonOps.contains(node.opType), let epsilon = node.attribute("epsilon") {
                let value: Double? = switch epsilon {
                case .float(let f): Double(f)
                case .int(let i): Double(i)
                default: nil
                }
                if let value, !(value > 0) {
                    out.append(Diagnostic(.nonPositiveEpsilon, "epsilon is \(value); it must be positive", at: location))
                }
            }
        }

        for (name, tensor) in graph.initializers {
            let location = weightUse[name] ?? .value(name)
            let scan = FloatScan(tensor)
            if scan.nonFinite > 0 {
                out.append(Diagnostic(.nonFinite, "initializer '\(name)' (\(tensor)) holds \(scan.nonFinite) NaN or infinite value(s), first at flat index \(scan.firstNonFinite!)",
                                      at: location))
            }
            if scan.denormal > 0 {
                out.append(Diagnostic(.denormals, "initializer '\(name)' (\(tensor)) holds \(scan.denormal) denormal value(s), first at flat index \(scan.firstDenormal!)",
                                      at: location, hint: "flush them to zero; denormal arithmetic is slow on many CPUs"))
            }
            if weightUse[name] != nil, tensor.elementCount > 0, let buffer = tensor.buffer, isAllZero(buffer.bytes) {
                out.append(Diagnostic(.allZeroWeight, "weight '\(name)' (\(tensor)) is entirely zero", at: location,
                                      hint: "an all-zero weight makes the layer output constant; was it never trained or badly converted?"))
            }
        }
        out += duplicates(graph)
        return out
    }

    /// Float values of a small tensor (BatchNorm parameters), or `nil` for non-float types.
    static func floatValues(_ tensor: Tensor) -> [Double]? {
        switch tensor.dtype {
        case .float32: tensor.scalars(as: Float.self).map(Double.init)
        case .float64: tensor.scalars(as: Double.self)
        case .float16: tensor.scalars(as: UInt16.self).map { Double(halfToFloat($0)) }
        default: nil
        }
    }

    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * Float(sign: .plus, exponent: -24, significand: 1)
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    /// Counts of non-finite and denormal elements, found from the bit patterns. The counting pass
    /// is branch-free (it vectorizes); the first offending index is looked for only when one exists.
    struct FloatScan {
        var nonFinite = 0
        var denormal = 0
        var firstNonFinite: Int?
        var firstDenormal: Int?

        init(_ tensor: Tensor) {
            guard let buffer = tensor.buffer else { return }
            let bytes = buffer.bytes
            switch tensor.dtype {
            case .float32: scan(bytes, UInt32.self, exponent: 0x7F80_0000, mantissa: 0x007F_FFFF)
            case .float64: scan(bytes, UInt64.self, exponent: 0x7FF0_0000_0000_0000, mantissa: 0x000F_FFFF_FFFF_FFFF)
            case .float16: scan(bytes, UInt16.self, exponent: 0x7C00, mantissa: 0x03FF)
            case .bfloat16: scan(bytes, UInt16.self, exponent: 0x7F80, mantissa: 0x007F)
            default: break
            }
        }

        @inline(__always)
        private mutating func scan<T: FixedWidthInteger & UnsignedInteger>(_ bytes: UnsafeRawBufferPointer, _: T.Type, exponent: T, mantissa: T) {
            let count = bytes.count / MemoryLayout<T>.size
            guard count > 0, let base = bytes.baseAddress else { return }
            if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
                let words = UnsafeBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count)
                tally(words, exponent: exponent, mantissa: mantissa)
            } else {
                let copy = [T](unsafeUninitializedCapacity: count) { target, initialized in
                    UnsafeMutableRawBufferPointer(target).copyMemory(from: UnsafeRawBufferPointer(start: base, count: count * MemoryLayout<T>.size))
                    initialized = count
                }
                copy.withUnsafeBufferPointer { tally($0, exponent: exponent, mantissa: mantissa) }
            }
        }

        /// float32 counts sixteen lanes at a time.
        static func tally32(_ words: UnsafeBufferPointer<UInt32>) -> (special: Int, tiny: Int) {
            let exponent = SIMD16<UInt32>(repeating: 0x7F80_0000)
            let mantissa = SIMD16<UInt32>(repeating: 0x007F_FFFF)
            let zero = SIMD16<UInt32>(repeating: 0)
            let one = SIMD16<UInt32>(repeating: 1)
            var special = 0
            var tiny = 0
            let blocks = words.count / 16
            let raw = UnsafeRawPointer(words.baseAddress!)
            var start = 0
            // Lane counters are flushed every 2^20 blocks so they cannot overflow.
            while start < blocks {
                let end = min(start + (1 << 20), blocks)
                var s = zero
                var t = zero
                for block in start..<end {
                    let v = raw.loadUnaligned(fromByteOffset: block &* 64, as: SIMD16<UInt32>.self)
                    let e = v & exponent
                    s &+= zero.replacing(with: one, where: e .== exponent)
                    t &+= zero.replacing(with: one, where: (e .== zero) .& ((v & mantissa) .!= zero))
                }
                special += Int(s.wrappedSum())
                tiny += Int(t.wrappedSum())
                start = end
            }
            for bits in words[(blocks * 16)...] {
                let e = bits & 0x7F80_0000
                if e == 0x7F80_0000 { special += 1 } else if e == 0 && bits & 0x007F_FFFF != 0 { tiny += 1 }
            }
            return (special, tiny)
        }

        @inline(__always)
        private mutating func tally<T: FixedWidthInteger & UnsignedInteger>(_ words: UnsafeBufferPointer<T>, exponent: T, mantissa: T) {
            var special = 0
            var tiny = 0
            if T.self == UInt32.self {
                (special, tiny) = Self.tally32(UnsafeBufferPointer(start: UnsafeRawPointer(words.baseAddress!).assumingMemoryBound(to: UInt32.self), count: words.count))
            } else {
                for bits in words {
                    let e = bits & exponent
                    special &+= e == exponent ? 1 : 0
                    tiny &+= (e == 0) && (bits & mantissa != 0) ? 1 : 0
                }
            }
            nonFinite = special
            denormal = tiny
            if special > 0 { firstNonFinite = words.firstIndex { $0 & exponent == exponent } }
            if tiny > 0 { firstDenormal = words.firstIndex { $0 & exponent == 0 && $0 & mantissa != 0 } }
        }
    }

    static func isAllZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        for i in 0..<words where bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 { return false }
        for i in (words * 8)..<bytes.count where bytes[i] != 0 { return false }
        return true
    }

    /// Initializers with identical type, shape and bytes. Only tensors that share a type and shape
    /// with another are hashed, so large models cost one pass over the candidates at most.
    static func duplicates(_ graph: Graph) -> [Diagnostic] {
        struct Key: Hashable { var dtype: DType; var shape: [Int] }
        var groups: [Key: [String]] = [:]
        for (name, tensor) in graph.initializers where tensor.byteCount >= duplicateMinimumBytes {
            groups[Key(dtype: tensor.dtype, shape: tensor.shape), default: []].append(name)
        }
        var out: [Diagnostic] = []
        for names in groups.values.sorted(by: { $0[0] < $1[0] }) where names.count > 1 {
            // A cheap fingerprint of a few sampled words first; full hashes only where those collide.
            var bySample: [UInt64: [String]] = [:]
            for name in names { bySample[sample(graph.initializer(name)!), default: []].append(name) }
            var byHash: [UInt64: [String]] = [:]
            for group in bySample.values where group.count > 1 {
                for name in group { byHash[hash(graph.initializer(name)!), default: []].append(name) }
            }
            for candidates in byHash.values where candidates.count > 1 {
                var remaining = candidates
                while let first = remaining.first {
                    let same = remaining.filter { graph.initializer($0)! == graph.initializer(first)! }
                    remaining.removeAll { same.contains($0) }
                    if same.count > 1 {
                        let tensor = graph.initializer(first)!
                        out.append(Diagnostic(.duplicateInitializerData, "initializers " + same.map { "'\($0)'" }.joined(separator: ", ") + " hold identical data (\(tensor), \(tensor.byteCount) bytes each)",
                                              at: .value(same[1]), hint: "share one initializer to save \((same.count - 1) * tensor.byteCount) bytes"))
                    }
                }
            }
        }
        return out.sorted { ($0.location.value ?? "") < ($1.location.value ?? "") }
    }

    /// FNV-1a over up to 64 evenly spaced bytes.
    static func sample(_ tensor: Tensor) -> UInt64 {
        guard let bytes = tensor.buffer?.bytes, bytes.count > 0 else { return hash(tensor) }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let step = max(bytes.count / 64, 1)
        for offset in stride(from: 0, to: bytes.count, by: step) { h = (h ^ UInt64(bytes[offset])) &* 0x100_0000_01b3 }
        return h ^ UInt64(bytes.count)
    }

    /// FNV-1a over 64-bit words (then the tail bytes).
    static func hash(_ tensor: Tensor) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        switch tensor.contents {
        case .bytes(let buffer):
            let bytes = buffer.bytes
            let words = bytes.count / 8
            for i in 0..<words {
                h = (h ^ bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* 0x100_0000_01b3
            }
            for i in (words * 8)..<bytes.count { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        case .strings(let strings):
            for s in strings { for b in s { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }; h = (h ^ 0xFF) &* 0x100_0000_01b3 }
        }
        return h
    }

    // MARK: Reachability

    /// Unused initializers, nodes whose outputs reach no graph output, and graph outputs that
    /// depend on no graph input (main graph; subgraph captures count as uses).
    static func reachability(_ context: VerificationContext) -> [Diagnostic] {
        let graph = context.model.graph
        let nodes = graph.nodes
        var out: [Diagnostic] = []
        var producedAt: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producedAt[output] = index }
        }
        let reads: [Set<String>] = nodes.map { node in
            var needed = Set(node.inputs.filter { !$0.isEmpty })
            for subgraph in node.subgraphs { needed.formUnion(subgraph.capturedValues) }
            return needed
        }

        // Unused initializers.
        var used = Set(graph.outputs.map(\.name))
        for set in reads { used.formUnion(set) }
        for name in graph.initializerNames where !used.contains(name) {
            out.append(Diagnostic(.unusedInitializer, "initializer '\(name)' (\(graph.initializer(name)!)) is never read", at: .value(name),
                                  hint: "remove it to shrink the model"))
        }

        // Live nodes: backwards from the graph outputs.
        var live = [Bool](repeating: false, count: nodes.count)
        var work = graph.outputs.compactMap { producedAt[$0.name] }
        while let index = work.popLast() {
            guard !live[index] else { continue }
            live[index] = true
            for name in reads[index] { if let p = producedAt[name], !live[p] { work.append(p) } }
        }
        for (index, node) in nodes.enumerated() where !live[index] {
            out.append(Diagnostic(.deadNode, "no graph output depends on this node's outputs " + node.outputs.filter { !$0.isEmpty }.map { "'\($0)'" }.joined(separator: ", "),
                                  at: .node(node, index: index), hint: "remove the node, or add its result to the graph outputs"))
        }

        // Graph outputs that depend on no runtime input.
        let runtimeInputs = Set(graph.runtimeInputs.map(\.name))
        guard !runtimeInputs.isEmpty else { return out }
        var dependsOnInput = [Bool](repeating: false, count: nodes.count)
        // Nodes are visited in dependency order when the graph is sorted; iterate to a fixed point otherwise.
        var changed = true
        while changed {
            changed = false
            for index in nodes.indices where !dependsOnInput[index] {
                if reads[index].contains(where: { runtimeInputs.contains($0) || (producedAt[$0].map { dependsOnInput[$0] } ?? false) }) {
                    dependsOnInput[index] = true
                    changed = true
                }
            }
        }
        for output in graph.outputs where !runtimeInputs.contains(output.name) {
            let depends = producedAt[output.name].map { dependsOnInput[$0] } ?? false
            if !depends {
                out.append(Diagnostic(.constantOutput, "graph output '\(output.name)' does not depend on any graph input", at: .value(output.name),
                                      hint: "it is a constant; precompute it or check the wiring"))
            }
        }
        return out
    }
}
