import COnnxProto
import CProtobufC
import VigilIR

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Converts unpacked protobuf-c messages into IR values. Everything here runs inside
// ONNXReader's unpack → convert → free window; nothing returned points into C messages except
// raw_data buffers, whose ownership is taken over (the C field is cleared before the free).

@inline(__always) func cString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

@inline(__always) func cStrings(_ count: Int, _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
    guard let pointer else { return [] }
    return (0..<count).map { cString(pointer[$0]) }
}

@inline(__always) func cMessages<T>(_ count: Int, _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) -> [UnsafeMutablePointer<T>] {
    guard let pointer else { return [] }
    return (0..<count).compactMap { pointer[$0] }
}

@inline(__always) func cBytes(_ data: ProtobufCBinaryData) -> [UInt8] {
    guard let base = data.data, data.len > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: base, count: data.len))
}

@inline(__always) func cArray<T>(_ count: Int, _ pointer: UnsafeMutablePointer<T>?) -> [T] {
    guard let pointer, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: pointer, count: count))
}

/// Decodes one model file's messages into IR values.
struct ProtoDecoder {
    /// The file being read, for messages.
    let file: String
    /// The folder external data locations are relative to; `nil` when reading from memory.
    let baseDirectory: String?
    let externalFiles = ExternalDataFiles()

    func invalid(_ reason: String) -> ONNXError { .invalid(file: file, reason: reason) }

    // MARK: Model

    func model(_ proto: UnsafeMutablePointer<VigilOnnx__ModelProto>) throws(ONNXError) -> Model {
        let m = proto.pointee
        guard m.has_ir_version != 0 else { throw invalid("the model has no ir_version") }
        guard let graphProto = m.graph else { throw invalid("the model has no graph") }
        var model = Model(
            irVersion: m.ir_version,
            opsetImports: cMessages(m.n_opset_import, m.opset_import).map(opset),
            graph: try graph(graphProto, context: "graph"),
            producerName: cString(m.producer_name),
            producerVersion: cString(m.producer_version),
            domain: cString(m.domain),
            modelVersion: m.has_model_version != 0 ? m.model_version : 0,
            docString: cString(m.doc_string),
            metadata: entries(m.n_metadata_props, m.metadata_props)
        )
        for functionProto in cMessages(m.n_functions, m.functions) {
            model.functions.append(try function(functionProto))
        }
        for info in cMessages(m.n_training_info, m.training_info) {
            let t = info.pointee
            model.trainingInfo.append(
                TrainingInfo(
                    initialization: try t.initialization.map { (g) throws(ONNXError) in try graph(g, context: "training initialization") },
                    algorithm: try t.algorithm.map { (g) throws(ONNXError) in try graph(g, context: "training algorithm") },
                    initializationBinding: entries(t.n_initialization_binding, t.initialization_binding),
                    updateBinding: entries(t.n_update_binding, t.update_binding)))
        }
        return model
    }

    func opset(_ proto: UnsafeMutablePointer<VigilOnnx__OperatorSetIdProto>) -> OpsetImport {
        OpsetImport(domain: cString(proto.pointee.domain), version: proto.pointee.has_version != 0 ? proto.pointee.version : 0)
    }

    func entries(_ count: Int, _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<VigilOnnx__StringStringEntryProto>?>?) -> [MetadataEntry] {
        cMessages(count, pointer).map { MetadataEntry(key: cString($0.pointee.key), value: cString($0.pointee.value)) }
    }

    func function(_ proto: UnsafeMutablePointer<VigilOnnx__FunctionProto>) throws(ONNXError) -> Function {
        let f = proto.pointee
        let name = cString(f.name)
        var nodes: [Node] = []
        for nodeProto in cMessages(f.n_node, f.node) { nodes.append(try node(nodeProto, context: "function '\(name)'")) }
        var defaults: [Attribute] = []
        for attributeProto in cMessages(f.n_attribute_proto, f.attribute_proto) {
            defaults.append(try attribute(attributeProto, context: "function '\(name)'"))
        }
        var valueInfo: [ValueInfo] = []
        for info in cMessages(f.n_value_info, f.value_info) { valueInfo.append(try self.valueInfo(info)) }
        return Function(
            name: name, domain: cString(f.domain), overload: cString(f.overload),
            inputs: cStrings(f.n_input, f.input), outputs: cStrings(f.n_output, f.output),
            attributeNames: cStrings(f.n_attribute, f.attribute), attributeDefaults: defaults, nodes: nodes,
            opsetImports: cMessages(f.n_opset_import, f.opset_import).map(opset), valueInfo: valueInfo,
            docString: cString(f.doc_string), metadata: entries(f.n_metadata_props, f.metadata_props))
    }

    // MARK: Graph

    func graph(_ proto: UnsafeMutablePointer<VigilOnnx__GraphProto>, context: String) throws(ONNXError) -> Graph {
        let g = proto.pointee
        var graph = Graph(name: cString(g.name), docString: cString(g.doc_string), metadata: entries(g.n_metadata_props, g.metadata_props))
        let where_ = graph.name.isEmpty ? context : "\(context) '\(graph.name)'"
        for info in cMessages(g.n_input, g.input) { graph.inputs.append(try valueInfo(info)) }
        for info in cMessages(g.n_output, g.output) { graph.outputs.append(try valueInfo(info)) }
        for info in cMessages(g.n_value_info, g.value_info) { graph.valueInfo.append(try valueInfo(info)) }
        for (index, tensorProto) in cMessages(g.n_initializer, g.initializer).enumerated() {
            let name = cString(tensorProto.pointee.name)
            guard !name.isEmpty else { throw invalid("initializer #\(index) of \(where_) has no name") }
            guard graph.initializer(name) == nil else { throw invalid("initializer '\(name)' appears twice in \(where_)") }
            graph.setInitializer(name, try tensor(tensorProto, what: "initializer '\(name)'"))
        }
        for sparseProto in cMessages(g.n_sparse_initializer, g.sparse_initializer) {
            let name = sparseProto.pointee.values.map { cString($0.pointee.name) } ?? ""
            graph.sparseInitializers.append(
                SparseInitializer(name: name, tensor: try sparseTensor(sparseProto, what: "sparse initializer '\(name)'")))
        }
        for annotation in cMessages(g.n_quantization_annotation, g.quantization_annotation) {
            graph.quantizationAnnotations.append(
                QuantizationAnnotation(
                    tensorName: cString(annotation.pointee.tensor_name),
                    parameters: entries(annotation.pointee.n_quant_parameter_tensor_names, annotation.pointee.quant_parameter_tensor_names)))
        }
        for (index, nodeProto) in cMessages(g.n_node, g.node).enumerated() {
            let node = try node(nodeProto, context: where_)
            do {
                try graph.addNode(node)
            } catch {
                throw invalid("node #\(index) \(node.label) in \(where_): \(error)")
            }
        }
        return graph
    }

    func node(_ proto: UnsafeMutablePointer<VigilOnnx__NodeProto>, context: String) throws(ONNXError) -> Node {
        let n = proto.pointee
        var node = Node(
            name: cString(n.name), opType: cString(n.op_type), domain: cString(n.domain), overload: cString(n.overload),
            inputs: cStrings(n.n_input, n.input), outputs: cStrings(n.n_output, n.output),
            docString: cString(n.doc_string), metadata: entries(n.n_metadata_props, n.metadata_props))
        for attributeProto in cMessages(n.n_attribute, n.attribute) {
            node.attributes.append(try attribute(attributeProto, context: "node \(node.label) in \(context)"))
        }
        return node
    }

    // MARK: Attributes

    func attribute(_ proto: UnsafeMutablePointer<VigilOnnx__AttributeProto>, context: String) throws(ONNXError) -> Attribute {
        let a = proto.pointee
        let name = cString(a.name)
        let what = "attribute '\(name)' of \(context)"
        // The type field is required (IR 2+); a missing one, or a type whose field is not the one
        // holding the value, is an invalid model, as onnx.checker says too.
        let kind = a.has_type != 0 ? a.type : VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
        if kind == VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED {
            let inferred = inferredKind(a)
            throw invalid("\(what) has no type" + (inferred == kind ? "" : " (its value looks like \(Self.kindName(inferred)))"))
        }
        if let field = Self.mismatchedScalarField(a, kind: kind) {
            throw invalid("\(what) is declared \(Self.kindName(kind)) but holds its value in field '\(field)'")
        }
        let value: AttributeValue
        switch kind {
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: value = .float(a.f)
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: value = .int(a.i)
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: value = .string(cBytes(a.s))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let t = a.t else { throw invalid("\(what) is a TENSOR without a tensor") }
            value = .tensor(try tensor(t, what: what))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
            guard let g = a.g else { throw invalid("\(what) is a GRAPH without a graph") }
            value = .graph(try graph(g, context: "subgraph '\(name)' of \(context)"))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
            guard let s = a.sparse_tensor else { throw invalid("\(what) is a SPARSE_TENSOR without a tensor") }
            value = .sparseTensor(try sparseTensor(s, what: what))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
            guard let t = a.tp else { throw invalid("\(what) is a TYPE_PROTO without a type") }
            value = .type(try type(t))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: value = .floats(cArray(a.n_floats, a.floats))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: value = .ints(cArray(a.n_ints, a.ints))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            value = .strings(cArray(a.n_strings, a.strings).map(cBytes))
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
            var tensors: [Tensor] = []
            for t in cMessages(a.n_tensors, a.tensors) { tensors.append(try tensor(t, what: what)) }
            value = .tensors(tensors)
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
            var graphs: [Graph] = []
            for g in cMessages(a.n_graphs, a.graphs) { graphs.append(try graph(g, context: "subgraph of \(what)")) }
            value = .graphs(graphs)
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
            var tensors: [SparseTensor] = []
            for s in cMessages(a.n_sparse_tensors, a.sparse_tensors) { tensors.append(try sparseTensor(s, what: what)) }
            value = .sparseTensors(tensors)
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
            var types: [ValueType] = []
            for t in cMessages(a.n_type_protos, a.type_protos) { types.append(try type(t)) }
            value = .types(types)
        default:
            throw invalid("\(what) has unknown attribute type \(kind.rawValue)")
        }
        let reference = cString(a.ref_attr_name)
        return Attribute(name: name, value: value, docString: cString(a.doc_string), referencedAttribute: reference.isEmpty ? nil : reference)
    }

    /// For a scalar kind whose own field is absent, the field that holds a value instead.
    static func mismatchedScalarField(_ a: VigilOnnx__AttributeProto, kind: VigilOnnx__AttributeProto__AttributeType) -> String? {
        let present: [(String, Bool)] = [("f", a.has_f != 0), ("i", a.has_i != 0), ("s", a.has_s != 0), ("t", a.t != nil), ("g", a.g != nil)]
        let own: String
        switch kind {
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: own = "f"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: own = "i"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: own = "s"
        default: return nil
        }
        guard !present.contains(where: { $0.0 == own && $0.1 }) else { return nil }
        return present.first { $0.1 }?.0
    }

    static func kindName(_ kind: VigilOnnx__AttributeProto__AttributeType) -> String {
        switch kind {
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: "FLOAT"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: "INT"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: "STRING"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: "TENSOR"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: "GRAPH"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: "FLOATS"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: "INTS"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: "STRINGS"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: "TENSORS"
        case VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: "GRAPHS"
        default: "type \(kind.rawValue)"
        }
    }

    /// When `type` is unset, the set field tells what the writer meant (for the message).
    private func inferredKind(_ a: VigilOnnx__AttributeProto) -> VigilOnnx__AttributeProto__AttributeType {
        if a.n_floats > 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS }
        if a.n_ints > 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS }
        if a.n_strings > 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS }
        if a.n_tensors > 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS }
        if a.n_graphs > 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS }
        if a.t != nil { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR }
        if a.g != nil { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH }
        if a.has_s != 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING }
        if a.has_i != 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT }
        if a.has_f != 0 { return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT }
        return VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
    }

    // MARK: Types

    func valueInfo(_ proto: UnsafeMutablePointer<VigilOnnx__ValueInfoProto>) throws(ONNXError) -> ValueInfo {
        let v = proto.pointee
        return ValueInfo(
            name: cString(v.name), type: try v.type.map { (t) throws(ONNXError) in try type(t) },
            docString: cString(v.doc_string), metadata: entries(v.n_metadata_props, v.metadata_props))
    }

    func type(_ proto: UnsafeMutablePointer<VigilOnnx__TypeProto>) throws(ONNXError) -> ValueType {
        let t = proto.pointee
        switch t.value_case {
        case VIGIL_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
            guard let tensor = t.tensor_type else { return .tensor(nil, nil) }
            return .tensor(try elementType(tensor.pointee.has_elem_type, tensor.pointee.elem_type), try shape(tensor.pointee.shape))
        case VIGIL_ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
            guard let tensor = t.sparse_tensor_type else { return .sparseTensor(nil, nil) }
            return .sparseTensor(try elementType(tensor.pointee.has_elem_type, tensor.pointee.elem_type), try shape(tensor.pointee.shape))
        case VIGIL_ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
            return .sequence(try t.sequence_type?.pointee.elem_type.map { (e) throws(ONNXError) in try type(e) })
        case VIGIL_ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
            return .optional(try t.optional_type?.pointee.elem_type.map { (e) throws(ONNXError) in try type(e) })
        case VIGIL_ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
            guard let map = t.map_type else { return .map(key: nil, value: nil) }
            return .map(
                key: try elementType(map.pointee.has_key_type, map.pointee.key_type),
                value: try map.pointee.value_type.map { (v) throws(ONNXError) in try type(v) })
        default:
            return .tensor(nil, nil)
        }
    }

    private func elementType(_ present: protobuf_c_boolean, _ code: Int32) throws(ONNXError) -> DType? {
        guard present != 0, code != 0 else { return nil }
        guard let dtype = DType(onnxCode: code) else { throw invalid("unknown element type code \(code)") }
        return dtype
    }

    private func shape(_ proto: UnsafeMutablePointer<VigilOnnx__TensorShapeProto>?) throws(ONNXError) -> Shape? {
        guard let proto else { return nil }
        var dims: [Dim] = []
        for dim in cMessages(proto.pointee.n_dim, proto.pointee.dim) {
            switch dim.pointee.value_case {
            case VIGIL_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                let size = dim.pointee.dim_value
                guard size >= 0 else { throw invalid("negative dimension \(size) in a type") }
                dims.append(.fixed(Int(size)))
            case VIGIL_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                let name = cString(dim.pointee.dim_param)
                dims.append(name.isEmpty ? .unknown : .symbolic(name))
            default:
                dims.append(.unknown)
            }
        }
        return Shape(dims)
    }

    // MARK: Tensors

    func sparseTensor(_ proto: UnsafeMutablePointer<VigilOnnx__SparseTensorProto>, what: String) throws(ONNXError) -> SparseTensor {
        guard let values = proto.pointee.values, let indices = proto.pointee.indices else {
            throw invalid("\(what) lacks values or indices")
        }
        let dims = cArray(proto.pointee.n_dims, proto.pointee.dims)
        guard dims.allSatisfy({ $0 >= 0 }) else { throw invalid("\(what) has a negative dimension") }
        return SparseTensor(
            values: try tensor(values, what: "\(what) values"), indices: try tensor(indices, what: "\(what) indices"),
            dims: dims.map { Int($0) })
    }

    /// Decodes a tensor, taking over its raw_data buffer (the C field is cleared).
    func tensor(_ proto: UnsafeMutablePointer<VigilOnnx__TensorProto>, what: String) throws(ONNXError) -> Tensor {
        let t = proto.pointee
        guard t.has_data_type != 0, t.data_type != 0 else { throw invalid("\(what) has no data type") }
        guard let dtype = DType(onnxCode: t.data_type) else {
            throw .unsupported(file: file, reason: "\(what) has unknown data type code \(t.data_type)")
        }
        let dims = cArray(t.n_dims, t.dims)
        if dims.contains(where: { $0 < 0 }) { throw invalid("\(what) has a negative dimension in \(dims)") }
        let shape = dims.map { Int($0) }
        guard let count = checkedElementCount(shape), let expected = dtype.storageBytes(count: count) ?? (dtype == .string ? 0 : nil) else {
            throw invalid("\(what) claims an impossible element count for shape \(shape)")
        }
        guard t.segment == nil else { throw .unsupported(file: file, reason: "\(what) is a segment of a tensor; segmented tensors are not supported") }
        do {
            if t.has_data_location != 0 && t.data_location == VIGIL_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
                guard dtype != .string else { throw invalid("\(what) is a string tensor in external data, which ONNX forbids") }
                return try externalFiles.tensor(
                    entries: entries(t.n_external_data, t.external_data), dtype: dtype, shape: shape,
                    expectedBytes: expected, what: what, modelFile: file, baseDirectory: baseDirectory)
            }
            if t.has_raw_data != 0 {
                guard dtype != .string else { throw invalid("\(what) is a string tensor with raw_data, which ONNX forbids") }
                guard t.raw_data.len == expected else {
                    throw invalid("\(what) has \(t.raw_data.len) bytes of raw_data but \(dtype)\(shape) needs \(expected)")
                }
                guard let data = t.raw_data.data, expected > 0 else {
                    return try Tensor(dtype: dtype, shape: shape, contents: .bytes(TensorBuffer(count: 0) { _ in }))
                }
                proto.pointee.raw_data.data = nil
                proto.pointee.raw_data.len = 0
                proto.pointee.has_raw_data = 0
                let buffer = TensorBuffer(unsafeBytes: UnsafeRawPointer(data), count: expected) { free(UnsafeMutableRawPointer(mutating: $0)) }
                return try Tensor(dtype: dtype, shape: shape, contents: .bytes(buffer))
            }
            return try typedFieldTensor(t, dtype: dtype, shape: shape, count: count, what: what)
        } catch let error as ONNXError {
            throw error
        } catch let error as Tensor.LayoutError {
            throw invalid("\(what): \(error)")
        } catch {
            throw invalid("\(what): \(error)")
        }
    }

    /// Decodes a tensor stored in the typed repeated fields (float_data, int32_data, …).
    private func typedFieldTensor(_ t: VigilOnnx__TensorProto, dtype: DType, shape: [Int], count: Int, what: String) throws -> Tensor {
        func need(_ field: String, _ have: Int, _ wanted: Int) throws(ONNXError) {
            guard have == wanted else {
                throw invalid("\(what) has \(have) values in \(field) but \(dtype)\(shape) needs \(wanted)")
            }
        }
        func fill<S, T: BitwiseCopyable>(_ source: UnsafeMutablePointer<S>?, _ n: Int, as: T.Type, _ convert: (S) -> T) -> Tensor.Contents {
            let buffer = TensorBuffer(count: n * MemoryLayout<T>.size) { target in
                let typed = target.bindMemory(to: T.self)
                for i in 0..<n { typed[i] = convert(source![i]) }
            }
            return .bytes(buffer)
        }
        let contents: Tensor.Contents
        switch dtype {
        case .float32:
            try need("float_data", t.n_float_data, count)
            contents = fill(t.float_data, count, as: Float.self) { $0 }
        case .complex64:
            try need("float_data", t.n_float_data, count * 2)
            contents = fill(t.float_data, count * 2, as: Float.self) { $0 }
        case .float64:
            try need("double_data", t.n_double_data, count)
            contents = fill(t.double_data, count, as: Double.self) { $0 }
        case .complex128:
            try need("double_data", t.n_double_data, count * 2)
            contents = fill(t.double_data, count * 2, as: Double.self) { $0 }
        case .int32:
            try need("int32_data", t.n_int32_data, count)
            contents = fill(t.int32_data, count, as: Int32.self) { $0 }
        case .int16:
            try need("int32_data", t.n_int32_data, count)
            contents = fill(t.int32_data, count, as: Int16.self) { Int16(truncatingIfNeeded: $0) }
        case .uint16, .float16, .bfloat16:
            try need("int32_data", t.n_int32_data, count)
            contents = fill(t.int32_data, count, as: UInt16.self) { UInt16(truncatingIfNeeded: $0) }
        case .int8:
            try need("int32_data", t.n_int32_data, count)
            contents = fill(t.int32_data, count, as: Int8.self) { Int8(truncatingIfNeeded: $0) }
        case .uint8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0:
            try need("int32_data", t.n_int32_data, count)
            contents = fill(t.int32_data, count, as: UInt8.self) { UInt8(truncatingIfNeeded: $0) }
        case .int4, .uint4, .float4e2m1, .int2, .uint2:
            // Packed: each int32_data entry holds one byte of packed elements.
            let packed = dtype.storageBytes(count: count)!
            try need("int32_data", t.n_int32_data, packed)
            contents = fill(t.int32_data, packed, as: UInt8.self) { UInt8(truncatingIfNeeded: $0) }
        case .float6e2m3, .float6e3m2:
            // One 6-bit code per int32_data entry (onnx's typed form), packed here LSB first as in raw_data.
            try need("int32_data", t.n_int32_data, count)
            let source = t.int32_data!
            contents = .bytes(TensorBuffer(count: dtype.storageBytes(count: count)!) { target in
                target.initializeMemory(as: UInt8.self, repeating: 0)
                for i in 0..<count {
                    let code = UInt32(truncatingIfNeeded: source[i]) & 0x3F, bit = 6 * i
                    target[bit / 8] |= UInt8(truncatingIfNeeded: code << (bit % 8))
                    if bit % 8 > 2 { target[bit / 8 + 1] |= UInt8(truncatingIfNeeded: code >> (8 - bit % 8)) }
                }
            })
        case .int64:
            try need("int64_data", t.n_int64_data, count)
            contents = fill(t.int64_data, count, as: Int64.self) { $0 }
        case .uint32:
            try need("uint64_data", t.n_uint64_data, count)
            contents = fill(t.uint64_data, count, as: UInt32.self) { UInt32(truncatingIfNeeded: $0) }
        case .uint64:
            try need("uint64_data", t.n_uint64_data, count)
            contents = fill(t.uint64_data, count, as: UInt64.self) { $0 }
        case .string:
            try need("string_data", t.n_string_data, count)
            contents = .strings(cArray(t.n_string_data, t.string_data).map(cBytes))
        }
        return try Tensor(dtype: dtype, shape: shape, contents: contents)
    }
}
