import VigilIR

/// Portable graph simplifications applied before planning (tract's "declutter" stage). Each rewrite
/// keeps the graph's outputs and their values (up to float rounding); the session plans the
/// decluttered graph for `run` and the original one when every intermediate must be observable.
enum Declutter {
    /// Applies every rewrite.
    static func apply(_ graph: Graph) -> Graph {
        var graph = graph
        foldBatchNormIntoConv(&graph)
        return graph
    }

    /// `BatchNormalization(Conv(x, W, B))` → `Conv(x, W·s, (B − mean)·s + bias)` with
    /// `s = scale / √(var + ε)`, when the weights and statistics are float32 initializers and the
    /// Conv output feeds only the BatchNormalization.
    static func foldBatchNormIntoConv(_ graph: inout Graph) {
        for bnID in graph.nodeIDs {
            guard let bn = graph.node(bnID), bn.opType == "BatchNormalization", bn.domain.isEmpty || bn.domain == "ai.onnx",
                  bn.inputs.count == 5, bn.outputs.count == 1 || bn.outputs.dropFirst().allSatisfy(\.isEmpty),
                  bn.attribute("training_mode").map({ $0 == .int(0) }) ?? true,
                  let convID = graph.producer(of: bn.inputs[0]), let conv = graph.node(convID),
                  conv.opType == "Conv", conv.domain == bn.domain, conv.outputs.count == 1,
                  graph.users(of: conv.outputs[0]).count == 1, !graph.isGraphOutput(conv.outputs[0]),
                  conv.inputs.count >= 2, let w = floats(graph, conv.inputs[1]),
                  let scale = floats(graph, bn.inputs[1]), let bias = floats(graph, bn.inputs[2]),
                  let mean = floats(graph, bn.inputs[3]), let variance = floats(graph, bn.inputs[4])
            else { continue }
            let channels = w.shape[0]
            guard channels > 0, [scale, bias, mean, variance].allSatisfy({ $0.values.count == channels }) else { continue }
            var convBias = [Float](repeating: 0, count: channels)
            if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
                guard let b = floats(graph, conv.inputs[2]), b.values.count == channels else { continue }
                convBias = b.values
            }
            let epsilon: Float
            switch bn.attribute("epsilon") {
            case .float(let e)?: epsilon = e
            case nil: epsilon = 1e-5
            default: continue
            }
            let perChannel = w.values.count / channels
            var newW = w.values
            var newB = convBias
            for m in 0..<channels {
                let s = Double(scale.values[m]) / (Double(variance.values[m]) + Double(epsilon)).squareRoot()
                for i in 0..<perChannel { newW[m * perChannel + i] = Float(Double(w.values[m * perChannel + i]) * s) }
                newB[m] = Float((Double(convBias[m]) - Double(mean.values[m])) * s + Double(bias.values[m]))
            }
            let wName = unique(graph, bn.outputs[0] + "/folded_W"), bName = unique(graph, bn.outputs[0] + "/folded_B")
            guard let wTensor = try? Tensor(float32: newW, shape: w.shape), let bTensor = try? Tensor(float32: newB, shape: [channels])
            else { continue }
            graph.setInitializer(wName, wTensor)
            graph.setInitializer(bName, bTensor)
            var fused = conv
            fused.inputs = [conv.inputs[0], wName, bName]
            fused.outputs = [bn.outputs[0]]
            graph.removeNode(bnID)
            guard (try? graph.replaceNode(convID, with: fused)) != nil else { continue }
        }
    }

    /// A float32 initializer's shape and values.
    private static func floats(_ graph: Graph, _ name: String) -> (shape: [Int], values: [Float])? {
        guard let t = graph.initializer(name), t.dtype == .float32, t.buffer != nil else { return nil }
        return (t.shape, t.scalars(as: Float.self))
    }

    private static func unique(_ graph: Graph, _ base: String) -> String {
        var name = base, n = 1
        while graph.initializer(name) != nil || graph.producer(of: name) != nil {
            name = "\(base)_\(n)"
            n += 1
        }
        return name
    }
}
