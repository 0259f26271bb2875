extension Graph {
    /// How often each op type occurs among this graph's nodes (subgraphs not included).
    public var opHistogram: [String: Int] {
        var histogram: [String: Int] = [:]
        for node in nodes { histogram[node.opType, default: 0] += 1 }
        return histogram
    }

    /// Graph inputs that are real inputs, not initializers listed as inputs (as IR < 4 requires).
    public var runtimeInputs: [ValueInfo] { inputs.filter { initializer($0.name) == nil } }
}

extension Model {
    /// Parameters: elements of the main graph's initializers, plus the stored values of its
    /// sparse initializers.
    public var parameterCount: Int {
        graph.initializers.reduce(0) { $0 + $1.tensor.elementCount }
            + graph.sparseInitializers.reduce(0) { $0 + $1.tensor.values.elementCount }
    }

    /// Bytes of parameter storage per element type (strings count their byte lengths).
    public var parameterBytesByDType: [DType: Int] {
        var bytes: [DType: Int] = [:]
        for (_, tensor) in graph.initializers { bytes[tensor.dtype, default: 0] += tensor.byteCount }
        for sparse in graph.sparseInitializers { bytes[sparse.tensor.values.dtype, default: 0] += sparse.tensor.values.byteCount }
        return bytes
    }

    /// External data files the main graph's initializers were read from, in first-use order.
    public var externalDataLocations: [String] {
        var seen = Set<String>()
        return graph.initializers.compactMap { $0.tensor.externalSource?.location }.filter { seen.insert($0).inserted }
    }
}
