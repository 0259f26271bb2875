import VigilIR

extension Preprocessing {
    /// `model` with these steps in front of its input `inputName`, as standard ONNX ops, so that the
    /// model takes what `vigil detect score` takes: images of ``imageType`` and ``imageShape``
    /// (float32 and the input's own shape when not recorded):
    ///
    ///     images → Cast(float) → Mul(scale) → Reshape([-1, …input shape]) → Sub(mean) → Div(std) → input
    ///
    /// Steps that change nothing are left out; when none is needed the model is returned unchanged.
    /// Node and initializer names start with `vigil_detector/preprocess/`; the new graph input is
    /// `images` (or `vigil_detector/images` when the model uses that name).
    public func prepended(to model: Model, inputName: String) throws(DetectorError) -> Model {
        var graph = model.graph
        guard let position = graph.inputs.firstIndex(where: { $0.name == inputName }),
              let (dtype, declared) = graph.inputs[position].type?.tensorType, let shape = declared, shape.rank >= 1 else {
            throw .modelInterface("the model has no input '\(inputName)' of declared tensor type")
        }
        guard dtype == nil || dtype == .float32 else { throw .modelInterface("the model input '\(inputName)' is \(dtype!), not float32") }
        let modelSample: [Int]? = shape.dims.dropFirst().allSatisfy { $0.value != nil } ? shape.dims.dropFirst().map { $0.value! } : nil
        let type = imageType ?? .float32
        let imageSample = imageShape ?? modelSample
        let scale = self.scale(for: type)
        let reshape = imageSample != modelSample
        if reshape && modelSample == nil { throw .modelInterface("the model input '\(inputName)' has no static shape to reshape images to") }
        guard type != .float32 || scale != 1 || reshape || !mean.isEmpty || !std.isEmpty else { return model }

        let prefix = "vigil_detector/preprocess/"
        let used = Set(graph.inputs.map(\.name) + graph.outputs.map(\.name) + graph.initializerNames + graph.nodes.flatMap(\.outputs))
        let imagesName = used.contains("images") ? "vigil_detector/images" : "images"
        var steps: [(op: String, constant: Tensor?, attributes: [Attribute])] = []
        do {
            if type != .float32 { steps.append(("Cast", nil, [Attribute(name: "to", value: .int(1))])) }
            if scale != 1 { steps.append(("Mul", try Tensor(float32: [scale], shape: []), [])) }
            if reshape, let modelSample { steps.append(("Reshape", try Tensor(int64: [-1] + modelSample.map(Int64.init), shape: [modelSample.count + 1]), [])) }
            let rank = shape.rank
            func broadcast(_ values: [Float]) throws -> Tensor {
                guard values.count > 1, let axis = channelAxis else { return try Tensor(float32: [values[0]], shape: []) }
                return try Tensor(float32: values, shape: [values.count] + [Int](repeating: 1, count: rank - 1 - axis))
            }
            if !mean.isEmpty { steps.append(("Sub", try broadcast(mean), [])) }
            if !std.isEmpty { steps.append(("Div", try broadcast(std), [])) }
        } catch {
            throw .invalidArgument("\(error)")
        }
        var current = imagesName
        for (index, step) in steps.enumerated() {
            let name = prefix + step.op.lowercased()
            let output = index == steps.count - 1 ? inputName : name + "_out"
            var inputs = [current]
            if let constant = step.constant {
                graph.setInitializer(name + "_value", constant)
                inputs.append(name + "_value")
            }
            do {
                _ = try graph.addNode(Node(name: name, opType: step.op, inputs: inputs, outputs: [output], attributes: step.attributes))
            } catch {
                throw .modelInterface("cannot add \(name): \(error)")
            }
            current = output
        }
        let batch = shape.dims.first ?? .symbolic("N")
        let imageDims: [Dim] = [batch] + (imageSample.map { $0.map { Dim.fixed($0) } } ?? Array(shape.dims.dropFirst()))
        graph.inputs[position] = ValueInfo(name: imagesName, type: .tensor(type, Shape(imageDims)))
        // The new nodes come first when the model is written (ONNX lists nodes in topological order).
        do { try graph.sortTopologically() } catch { throw .modelInterface("\(error)") }
        var result = model
        result.graph = graph
        return result
    }
}
