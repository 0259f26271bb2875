import VigilIR

extension Detector {
    /// Names of the outputs that ``appendingMeanDistanceScore(to:preprocessing:)`` adds.
    public static let exportedScoreOutput = "ood_score"
    public static let exportedDecisionOutput = "is_ood"

    /// The model with the class-mean distance score appended as standard ONNX ops, so any ONNX
    /// runtime computes embedding and score in one pass:
    ///
    ///     e [N, D] → Reshape [N, 1, D] → Sub means [C, D] → Mul (square) → ReduceSum(axis 2) → ReduceMin(axis 1)
    ///       → ood_score [N] (float32) → Greater(threshold) → is_ood [N] (bool, when a threshold is calibrated)
    ///
    /// The model's own outputs are kept. Axes are inputs or attributes as the model's opset requires.
    /// With `preprocessing`, the detector's ``Preprocessing`` is put in front of the input
    /// (``Preprocessing/prepended(to:inputName:)``), so that the model takes the images `vigil detect
    /// score` takes.
    public func appendingMeanDistanceScore(to model: Model, preprocessing: Bool = true) throws(DetectorError) -> Model {
        guard let binding = self.model else { throw .invalidArgument("the detector is not bound to a model (fit it through an Embedder)") }
        var result = Embedder.exposing(binding.outputName, in: model)
        var graph = result.graph
        guard graph.outputs.contains(where: { $0.name == binding.outputName }) else {
            throw .modelInterface("no graph output named '\(binding.outputName)'")
        }
        for name in [Self.exportedScoreOutput, Self.exportedDecisionOutput] where graph.outputs.contains(where: { $0.name == name }) {
            throw .modelInterface("the model already has an output named '\(name)'")
        }
        let opset = Int(model.opsetVersion(for: "") ?? 0)
        guard opset >= 7 else { throw .modelInterface("opset \(opset) is too old to export the score (needs ≥ 7)") }
        let prefix = "vigil_detector/"
        func name(_ s: String) -> String { prefix + s }
        do {
            graph.setInitializer(name("means"), try Tensor(float32: means.flatMap { $0 }.map(Float.init), shape: [classCount, dimension]))
            graph.setInitializer(name("shape"), try Tensor(int64: [-1, 1, Int64(dimension)], shape: [3]))
        } catch {
            throw .invalidArgument("\(error)")
        }
        var nodes = [
            Node(name: name("reshape"), opType: "Reshape", inputs: [binding.outputName, name("shape")], outputs: [name("e3")]),
            Node(name: name("sub"), opType: "Sub", inputs: [name("e3"), name("means")], outputs: [name("diff")]),
            Node(name: name("square"), opType: "Mul", inputs: [name("diff"), name("diff")], outputs: [name("sq")]),
        ]
        func reduce(_ op: String, axis: Int64, input: String, output: String, axesInputFrom: Int) throws(DetectorError) -> Node {
            if opset >= axesInputFrom {
                do { graph.setInitializer(name("axis\(axis)"), try Tensor(int64: [axis], shape: [1])) } catch { throw .invalidArgument("\(error)") }
                return Node(name: name(op), opType: op, inputs: [input, name("axis\(axis)")], outputs: [output],
                            attributes: [Attribute(name: "keepdims", value: .int(0))])
            }
            return Node(name: name(op), opType: op, inputs: [input], outputs: [output],
                        attributes: [Attribute(name: "axes", value: .ints([axis])), Attribute(name: "keepdims", value: .int(0))])
        }
        nodes.append(try reduce("ReduceSum", axis: 2, input: name("sq"), output: name("distances"), axesInputFrom: 13))
        nodes.append(try reduce("ReduceMin", axis: 1, input: name("distances"), output: Self.exportedScoreOutput, axesInputFrom: 18))
        let batch: Dim = graph.outputs.first { $0.name == binding.outputName }?.type?.tensorType?.shape?.dims.first ?? .symbolic("N")
        graph.outputs.append(ValueInfo(name: Self.exportedScoreOutput, type: .tensor(.float32, Shape([batch]))))
        if let threshold = thresholds[Scorer.meanDistance.rawValue] {
            do { graph.setInitializer(name("threshold"), try Tensor(float32: [Float(threshold)], shape: [])) } catch { throw .invalidArgument("\(error)") }
            nodes.append(Node(name: name("decide"), opType: "Greater", inputs: [Self.exportedScoreOutput, name("threshold")],
                              outputs: [Self.exportedDecisionOutput]))
            graph.outputs.append(ValueInfo(name: Self.exportedDecisionOutput, type: .tensor(.bool, Shape([batch]))))
        }
        for node in nodes {
            do { _ = try graph.addNode(node) } catch { throw .modelInterface("cannot add \(node.name): \(error)") }
        }
        result.graph = graph
        return preprocessing ? try binding.preprocessing.prepended(to: result, inputName: binding.inputName) : result
    }
}
