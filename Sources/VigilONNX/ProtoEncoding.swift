import COnnxProto
import CProtobufC
import VigilIR

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns every C allocation made while building a message tree; frees them all at once.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { for pointer in allocations { free(pointer) } }

    func allocate<T>(_ type: T.Type = T.self, count: Int) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    func string(_ value: String) -> UnsafeMutablePointer<CChar>? {
        var utf8 = Array(value.utf8CString)
        let pointer = allocate(CChar.self, count: utf8.count)
        utf8.withUnsafeMutableBufferPointer { pointer.update(from: $0.baseAddress!, count: $0.count) }
        return pointer
    }

    /// An empty string is written as absent, which reads back as "".
    func optionalString(_ value: String) -> UnsafeMutablePointer<CChar>? { value.isEmpty ? nil : string(value) }

    func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (index, value) in values.enumerated() { array[index] = string(value) }
        return (values.count, array)
    }

    func bytes(_ value: [UInt8]) -> ProtobufCBinaryData {
        let pointer = allocate(UInt8.self, count: value.count)
        value.withUnsafeBufferPointer { if let base = $0.baseAddress { pointer.update(from: base, count: $0.count) } }
        return ProtobufCBinaryData(len: value.count, data: pointer)
    }

    func array<T>(_ values: [T]) -> (Int, UnsafeMutablePointer<T>?) {
        guard !values.isEmpty else { return (0, nil) }
        let pointer = allocate(T.self, count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: $0.count) }
        return (values.count, pointer)
    }

    func messages<T>(_ items: [UnsafeMutablePointer<T>]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) {
        guard !items.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<T>?.self, count: items.count)
        for (index, item) in items.enumerated() { array[index] = item }
        return (items.count, array)
    }

    func message<T>(_ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: 1)
        initialize(pointer)
        return pointer
    }
}

/// Builds protobuf-c messages from IR values. Tensor bytes are referenced, not copied; large ones
/// may be diverted to an external data file instead.
final class ProtoEncoder {
    let arena = CArena()
    let external: ExternalDataWriter?

    init(external: ExternalDataWriter?) { self.external = external }

    func model(_ model: Model) throws(ONNXError) -> UnsafeMutablePointer<VigilOnnx__ModelProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__ModelProto> = arena.message { vigil_onnx__model_proto__init($0) }
        proto.pointee.has_ir_version = 1
        proto.pointee.ir_version = model.irVersion
        (proto.pointee.n_opset_import, proto.pointee.opset_import) = arena.messages(model.opsetImports.map(opset))
        proto.pointee.producer_name = arena.optionalString(model.producerName)
        proto.pointee.producer_version = arena.optionalString(model.producerVersion)
        proto.pointee.domain = arena.optionalString(model.domain)
        if model.modelVersion != 0 {
            proto.pointee.has_model_version = 1
            proto.pointee.model_version = model.modelVersion
        }
        proto.pointee.doc_string = arena.optionalString(model.docString)
        proto.pointee.graph = try graph(model.graph)
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = entries(model.metadata)
        var functions: [UnsafeMutablePointer<VigilOnnx__FunctionProto>] = []
        for function in model.functions { functions.append(try self.function(function)) }
        (proto.pointee.n_functions, proto.pointee.functions) = arena.messages(functions)
        var training: [UnsafeMutablePointer<VigilOnnx__TrainingInfoProto>] = []
        for info in model.trainingInfo {
            let t: UnsafeMutablePointer<VigilOnnx__TrainingInfoProto> = arena.message { vigil_onnx__training_info_proto__init($0) }
            if let initialization = info.initialization { t.pointee.initialization = try graph(initialization) }
            if let algorithm = info.algorithm { t.pointee.algorithm = try graph(algorithm) }
            (t.pointee.n_initialization_binding, t.pointee.initialization_binding) = entries(info.initializationBinding)
            (t.pointee.n_update_binding, t.pointee.update_binding) = entries(info.updateBinding)
            training.append(t)
        }
        (proto.pointee.n_training_info, proto.pointee.training_info) = arena.messages(training)
        return proto
    }

    func opset(_ opset: OpsetImport) -> UnsafeMutablePointer<VigilOnnx__OperatorSetIdProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__OperatorSetIdProto> = arena.message { vigil_onnx__operator_set_id_proto__init($0) }
        proto.pointee.domain = arena.optionalString(opset.domain)
        proto.pointee.has_version = 1
        proto.pointee.version = opset.version
        return proto
    }

    func entries(_ entries: [MetadataEntry]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<VigilOnnx__StringStringEntryProto>?>?) {
        arena.messages(entries.map { entry in
            let proto: UnsafeMutablePointer<VigilOnnx__StringStringEntryProto> = arena.message { vigil_onnx__string_string_entry_proto__init($0) }
            proto.pointee.key = arena.string(entry.key)
            proto.pointee.value = arena.string(entry.value)
            return proto
        })
    }

    func function(_ function: Function) throws(ONNXError) -> UnsafeMutablePointer<VigilOnnx__FunctionProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__FunctionProto> = arena.message { vigil_onnx__function_proto__init($0) }
        proto.pointee.name = arena.optionalString(function.name)
        proto.pointee.domain = arena.optionalString(function.domain)
        proto.pointee.overload = arena.optionalString(function.overload)
        (proto.pointee.n_input, proto.pointee.input) = arena.strings(function.inputs)
        (proto.pointee.n_output, proto.pointee.output) = arena.strings(function.outputs)
        (proto.pointee.n_attribute, proto.pointee.attribute) = arena.strings(function.attributeNames)
        var defaults: [UnsafeMutablePointer<VigilOnnx__AttributeProto>] = []
        for attribute in function.attributeDefaults { defaults.append(try self.attribute(attribute)) }
        (proto.pointee.n_attribute_proto, proto.pointee.attribute_proto) = arena.messages(defaults)
        var nodes: [UnsafeMutablePointer<VigilOnnx__NodeProto>] = []
        for node in function.nodes { nodes.append(try self.node(node)) }
        (proto.pointee.n_node, proto.pointee.node) = arena.messages(nodes)
        proto.pointee.doc_string = arena.optionalString(function.docString)
        (proto.pointee.n_opset_import, proto.pointee.opset_import) = arena.messages(function.opsetImports.map(opset))
        (proto.pointee.n_value_info, proto.pointee.value_info) = arena.messages(function.valueInfo.map(valueInfo))
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = entries(function.metadata)
        return proto
    }

    func graph(_ graph: Graph) throws(ONNXError) -> UnsafeMutablePointer<VigilOnnx__GraphProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__GraphProto> = arena.message { vigil_onnx__graph_proto__init($0) }
        var nodes: [UnsafeMutablePointer<VigilOnnx__NodeProto>] = []
        for node in graph.nodes { nodes.append(try self.node(node)) }
        (proto.pointee.n_node, proto.pointee.node) = arena.messages(nodes)
        proto.pointee.name = arena.optionalString(graph.name)
        var initializers: [UnsafeMutablePointer<VigilOnnx__TensorProto>] = []
        for (name, tensor) in graph.initializers { initializers.append(try self.tensor(tensor, name: name, allowExternal: true)) }
        (proto.pointee.n_initializer, proto.pointee.initializer) = arena.messages(initializers)
        var sparse: [UnsafeMutablePointer<VigilOnnx__SparseTensorProto>] = []
        for initializer in graph.sparseInitializers { sparse.append(try sparseTensor(initializer.tensor, name: initializer.name)) }
        (proto.pointee.n_sparse_initializer, proto.pointee.sparse_initializer) = arena.messages(sparse)
        proto.pointee.doc_string = arena.optionalString(graph.docString)
        (proto.pointee.n_input, proto.pointee.input) = arena.messages(graph.inputs.map(valueInfo))
        (proto.pointee.n_output, proto.pointee.output) = arena.messages(graph.outputs.map(valueInfo))
        (proto.pointee.n_value_info, proto.pointee.value_info) = arena.messages(graph.valueInfo.map(valueInfo))
        (proto.pointee.n_quantization_annotation, proto.pointee.quantization_annotation) = arena.messages(
            graph.quantizationAnnotations.map { annotation in
                let a: UnsafeMutablePointer<VigilOnnx__TensorAnnotation> = arena.message { vigil_onnx__tensor_annotation__init($0) }
                a.pointee.tensor_name = arena.optionalString(annotation.tensorName)
                (a.pointee.n_quant_parameter_tensor_names, a.pointee.quant_parameter_tensor_names) = entries(annotation.parameters)
                return a
            })
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = entries(graph.metadata)
        return proto
    }

    func node(_ node: Node) throws(ONNXError) -> UnsafeMutablePointer<VigilOnnx__NodeProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__NodeProto> = arena.message { vigil_onnx__node_proto__init($0) }
        (proto.pointee.n_input, proto.pointee.input) = arena.strings(node.inputs)
        (proto.pointee.n_output, proto.pointee.output) = arena.strings(node.outputs)
        proto.pointee.name = arena.optionalString(node.name)
        proto.pointee.op_type = arena.string(node.opType)
        proto.pointee.domain = arena.optionalString(node.domain)
        proto.pointee.overload = arena.optionalString(node.overload)
        var attributes: [UnsafeMutablePointer<VigilOnnx__AttributeProto>] = []
        for attribute in node.attributes { attributes.append(try self.attribute(attribute)) }
        (proto.pointee.n_attribute, proto.pointee.attribute) = arena.messages(attributes)
        proto.pointee.doc_string = arena.optionalString(node.docString)
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = entries(node.metadata)
        return proto
    }

    func attribute(_ attribute: Attribute) throws(ONNXError) -> UnsafeMutablePointer<VigilOnnx__AttributeProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__AttributeProto> = arena.message { vigil_onnx__attribute_proto__init($0) }
        proto.pointee.name = arena.string(attribute.name)
        proto.pointee.doc_string = arena.optionalString(attribute.docString)
        proto.pointee.ref_attr_name = attribute.referencedAttribute.map { arena.string($0) } ?? nil
        proto.pointee.has_type = 1
        switch attribute.value {
        case .float(let value):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            proto.pointee.has_f = 1
            proto.pointee.f = value
        case .int(let value):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            proto.pointee.has_i = 1
            proto.pointee.i = value
        case .string(let value):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            proto.pointee.has_s = 1
            proto.pointee.s = arena.bytes(value)
        case .tensor(let value):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
            proto.pointee.t = try tensor(value, name: "", allowExternal: false)
        case .graph(let value):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH
            proto.pointee.g = try graph(value)
        case .sparseTensor(let value):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR
            proto.pointee.sparse_tensor = try sparseTensor(value, name: "")
        case .type(let value):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO
            proto.pointee.tp = type(value)
        case .floats(let values):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            (proto.pointee.n_floats, proto.pointee.floats) = arena.array(values)
        case .ints(let values):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            (proto.pointee.n_ints, proto.pointee.ints) = arena.array(values)
        case .strings(let values):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
            (proto.pointee.n_strings, proto.pointee.strings) = arena.array(values.map(arena.bytes))
        case .tensors(let values):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS
            var tensors: [UnsafeMutablePointer<VigilOnnx__TensorProto>] = []
            for value in values { tensors.append(try tensor(value, name: "", allowExternal: false)) }
            (proto.pointee.n_tensors, proto.pointee.tensors) = arena.messages(tensors)
        case .graphs(let values):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS
            var graphs: [UnsafeMutablePointer<VigilOnnx__GraphProto>] = []
            for value in values { graphs.append(try graph(value)) }
            (proto.pointee.n_graphs, proto.pointee.graphs) = arena.messages(graphs)
        case .sparseTensors(let values):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS
            var tensors: [UnsafeMutablePointer<VigilOnnx__SparseTensorProto>] = []
            for value in values { tensors.append(try sparseTensor(value, name: "")) }
            (proto.pointee.n_sparse_tensors, proto.pointee.sparse_tensors) = arena.messages(tensors)
        case .types(let values):
            proto.pointee.type = VIGIL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS
            (proto.pointee.n_type_protos, proto.pointee.type_protos) = arena.messages(values.map(type))
        }
        return proto
    }

    func valueInfo(_ info: ValueInfo) -> UnsafeMutablePointer<VigilOnnx__ValueInfoProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__ValueInfoProto> = arena.message { vigil_onnx__value_info_proto__init($0) }
        proto.pointee.name = arena.optionalString(info.name)
        proto.pointee.type = info.type.map(type)
        proto.pointee.doc_string = arena.optionalString(info.docString)
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = entries(info.metadata)
        return proto
    }

    func type(_ type: ValueType) -> UnsafeMutablePointer<VigilOnnx__TypeProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__TypeProto> = arena.message { vigil_onnx__type_proto__init($0) }
        switch type {
        case .tensor(let dtype, let shape):
            let t: UnsafeMutablePointer<VigilOnnx__TypeProto__Tensor> = arena.message { vigil_onnx__type_proto__tensor__init($0) }
            if let dtype {
                t.pointee.has_elem_type = 1
                t.pointee.elem_type = dtype.onnxCode
            }
            t.pointee.shape = shape.map(self.shape)
            proto.pointee.value_case = VIGIL_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            proto.pointee.tensor_type = t
        case .sparseTensor(let dtype, let shape):
            let t: UnsafeMutablePointer<VigilOnnx__TypeProto__SparseTensor> = arena.message { vigil_onnx__type_proto__sparse_tensor__init($0) }
            if let dtype {
                t.pointee.has_elem_type = 1
                t.pointee.elem_type = dtype.onnxCode
            }
            t.pointee.shape = shape.map(self.shape)
            proto.pointee.value_case = VIGIL_ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE
            proto.pointee.sparse_tensor_type = t
        case .sequence(let element):
            let s: UnsafeMutablePointer<VigilOnnx__TypeProto__Sequence> = arena.message { vigil_onnx__type_proto__sequence__init($0) }
            s.pointee.elem_type = element.map(self.type)
            proto.pointee.value_case = VIGIL_ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE
            proto.pointee.sequence_type = s
        case .optional(let element):
            let o: UnsafeMutablePointer<VigilOnnx__TypeProto__Optional> = arena.message { vigil_onnx__type_proto__optional__init($0) }
            o.pointee.elem_type = element.map(self.type)
            proto.pointee.value_case = VIGIL_ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE
            proto.pointee.optional_type = o
        case .map(let key, let value):
            let m: UnsafeMutablePointer<VigilOnnx__TypeProto__Map> = arena.message { vigil_onnx__type_proto__map__init($0) }
            if let key {
                m.pointee.has_key_type = 1
                m.pointee.key_type = key.onnxCode
            }
            m.pointee.value_type = value.map(self.type)
            proto.pointee.value_case = VIGIL_ONNX__TYPE_PROTO__VALUE_MAP_TYPE
            proto.pointee.map_type = m
        }
        return proto
    }

    func shape(_ shape: Shape) -> UnsafeMutablePointer<VigilOnnx__TensorShapeProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__TensorShapeProto> = arena.message { vigil_onnx__tensor_shape_proto__init($0) }
        (proto.pointee.n_dim, proto.pointee.dim) = arena.messages(shape.dims.map { dim in
            let d: UnsafeMutablePointer<VigilOnnx__TensorShapeProto__Dimension> = arena.message { vigil_onnx__tensor_shape_proto__dimension__init($0) }
            switch dim {
            case .fixed(let size):
                d.pointee.value_case = VIGIL_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                d.pointee.dim_value = Int64(size)
            case .symbolic(let name):
                d.pointee.value_case = VIGIL_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                d.pointee.dim_param = arena.string(name)
            case .unknown:
                break
            }
            return d
        })
        return proto
    }

    func sparseTensor(_ sparse: SparseTensor, name: String) throws(ONNXError) -> UnsafeMutablePointer<VigilOnnx__SparseTensorProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__SparseTensorProto> = arena.message { vigil_onnx__sparse_tensor_proto__init($0) }
        proto.pointee.values = try tensor(sparse.values, name: name, allowExternal: false)
        proto.pointee.indices = try tensor(sparse.indices, name: "", allowExternal: false)
        (proto.pointee.n_dims, proto.pointee.dims) = arena.array(sparse.dims.map { Int64($0) })
        return proto
    }

    func tensor(_ tensor: Tensor, name: String, allowExternal: Bool) throws(ONNXError) -> UnsafeMutablePointer<VigilOnnx__TensorProto> {
        let proto: UnsafeMutablePointer<VigilOnnx__TensorProto> = arena.message { vigil_onnx__tensor_proto__init($0) }
        proto.pointee.name = arena.optionalString(name)
        (proto.pointee.n_dims, proto.pointee.dims) = arena.array(tensor.shape.map { Int64($0) })
        proto.pointee.has_data_type = 1
        proto.pointee.data_type = tensor.dtype.onnxCode
        switch tensor.contents {
        case .strings(let strings):
            (proto.pointee.n_string_data, proto.pointee.string_data) = arena.array(strings.map(arena.bytes))
        case .bytes(let buffer):
            if allowExternal, let external, buffer.count >= external.threshold {
                let offset = try external.append(buffer.bytes)
                proto.pointee.has_data_location = 1
                proto.pointee.data_location = VIGIL_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
                (proto.pointee.n_external_data, proto.pointee.external_data) = entries([
                    MetadataEntry(key: "location", value: external.location),
                    MetadataEntry(key: "offset", value: String(offset)),
                    MetadataEntry(key: "length", value: String(buffer.count)),
                ])
            } else {
                proto.pointee.has_raw_data = 1
                proto.pointee.raw_data = ProtobufCBinaryData(
                    len: buffer.count, data: UnsafeMutablePointer(mutating: buffer.baseAddress.assumingMemoryBound(to: UInt8.self)))
            }
        }
        return proto
    }
}
