import VigilIR

/// Keeps one copy of initializers with identical type, shape and bytes; readers of the others read it.
public struct DuplicateInitializerElimination: GraphRewritePass {
    public let name = "dedupe-initializers"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        let interface = Set(r.graph.inputs.map(\.name)).union(r.graph.outputs.map(\.name)).union(r.graph.capturedBySubgraphs)
        var kept: [Int: [String]] = [:]
        for (name, tensor) in r.graph.initializers where !interface.contains(name) {
            let key = Self.fingerprint(tensor)
            if let original = kept[key]?.first(where: { r.graph.initializer($0) == tensor }) {
                r.graph.replaceAllUses(of: name, with: original)
                r.graph.removeInitializer(name)
                r.stats.bytesSaved += tensor.byteCount
            } else {
                kept[key, default: []].append(name)
            }
        }
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
