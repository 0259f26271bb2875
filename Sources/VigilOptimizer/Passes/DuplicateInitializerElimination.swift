import VigilIR

/// Keeps one copy of initializers with identical type, shape and bytes; readers of the others read it.
public struct DuplicateInitializerElimination: OptimizationPass {
    public let name = "dedupe-initializers"
    public init() {}

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        var graph = model.graph
        let interface = Set(graph.inputs.map(\.name)).union(graph.outputs.map(\.name)).union(graph.capturedBySubgraphs)
        var kept: [Int: [String]] = [:]
        for (name, tensor) in graph.initializers where !interface.contains(name) {
            let key = Self.fingerprint(tensor)
            if let original = kept[key]?.first(where: { graph.initializer($0) == tensor }) {
                graph.replaceAllUses(of: name, with: original)
                graph.removeInitializer(name)
                stats.bytesSaved += tensor.byteCount
            } else {
                kept[key, default: []].append(name)
            }
        }
        model.graph = graph
        return stats
    }

    /// A cheap hash of type, shape and up to 4 KiB of bytes from each end.
    static func fingerprint(_ tensor: Tensor) -> Int {
        var hasher = Hasher()
        hasher.combine(tensor.dtype)
        hasher.combine(tensor.shape)
        if let buffer = tensor.buffer {
            let bytes = buffer.bytes
            hasher.combine(bytes.count)
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes.prefix(4096)))
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes.suffix(4096)))
        } else if let strings = tensor.strings {
            hasher.combine(strings)
        }
        return hasher.finalize()
    }
}
