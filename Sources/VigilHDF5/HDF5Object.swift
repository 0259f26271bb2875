import CHDF5

/// A group or a dataset: something with attributes.
public class HDF5Object {
    /// The file it lives in.
    public let file: HDF5File
    /// Its absolute path in the file.
    public let path: String
    let handle: Handle

    init(file: HDF5File, path: String, handle: Handle) {
        self.file = file
        self.path = path
        self.handle = handle
    }

    /// Closes the handle now.
    public func close() { handle.close() }

    func error(_ kind: HDF5Error.Kind, _ message: String, object: String? = nil) -> HDF5Error {
        let detail = HDF5Library.locked { HDF5Library.takeMessages() }
        return HDF5Error(kind, file: file.path, object: object ?? path,
                         message: detail.isEmpty || kind != .library ? message : "\(message): \(detail)")
    }

    func child(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    func requireOpen() throws(HDF5Error) {
        guard handle.isOpen else { throw HDF5Error(.closed, file: file.path, object: path, message: "the handle is closed") }
    }

    /// Whether an attribute exists.
    public func hasAttribute(_ name: String) -> Bool {
        guard handle.isOpen else { return false }
        return HDF5Library.locked { H5Aexists(handle.id, name) > 0 }
    }

    /// The names of its attributes.
    public func attributeNames() throws(HDF5Error) -> [String] {
        try requireOpen()
        let result: [String]? = HDF5Library.locked {
            var info = H5O_info_t()
            guard H5Oget_info2(handle.id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { return nil }
            var names: [String] = []
            for index in 0..<info.num_attrs {
                let length = H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, vigil_h5p_default())
                guard length >= 0 else { return nil }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                _ = H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, vigil_h5p_default())
                names.append(decodeCString(buffer))
            }
            return names
        }
        guard let result else { throw error(.library, "cannot list the attributes") }
        return result
    }

    /// A string attribute (fixed-length or variable-length, scalar or a one-element array);
    /// `nil` when it does not exist.
    public func stringAttribute(_ name: String) throws(HDF5Error) -> String? {
        guard let strings = try stringsAttribute(name) else { return nil }
        guard strings.count == 1 else {
            throw error(.unsupportedType, "attribute holds \(strings.count) strings, expected one", object: "\(path)@\(name)")
        }
        return strings[0]
    }

    /// An array-of-strings attribute; `nil` when it does not exist. An empty attribute of any type
    /// (h5py writes empty lists as empty float arrays) reads as `[]`.
    public func stringsAttribute(_ name: String) throws(HDF5Error) -> [String]? {
        try requireOpen()
        guard hasAttribute(name) else { return nil }
        let object = "\(path)@\(name)"
        return try HDF5Library.locked { () throws(HDF5Error) -> [String] in
            let attribute = H5Aopen(handle.id, name, vigil_h5p_default())
            guard attribute >= 0 else { throw error(.library, "cannot open the attribute", object: object) }
            defer { H5Aclose(attribute) }
            let type = H5Aget_type(attribute)
            guard type >= 0 else { throw error(.library, "cannot read the attribute's type", object: object) }
            defer { H5Tclose(type) }
            let space = H5Aget_space(attribute)
            guard space >= 0 else { throw error(.library, "cannot read the attribute's shape", object: object) }
            defer { H5Sclose(space) }
            let count = Int(H5Sget_simple_extent_npoints(space))
            guard count >= 0 else { throw error(.library, "cannot read the attribute's shape", object: object) }
            if count == 0 { return [] }
            guard H5Tget_class(type) == H5T_STRING else {
                throw error(.unsupportedType, "attribute is not a string", object: object)
            }
            if H5Tis_variable_str(type) > 0 {
                let memoryType = H5Tcopy(vigil_h5t_c_s1())
                defer { H5Tclose(memoryType) }
                H5Tset_size(memoryType, vigil_h5t_variable())
                H5Tset_cset(memoryType, H5Tget_cset(type))
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                guard H5Aread(attribute, memoryType, &pointers) >= 0 else {
                    throw error(.library, "cannot read the attribute", object: object)
                }
                let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
                H5Dvlen_reclaim(memoryType, space, vigil_h5p_default(), &pointers)
                return strings
            }
            let size = H5Tget_size(type)
            guard size > 0 else { throw error(.unsupportedType, "string attribute of size 0", object: object) }
            var bytes = [UInt8](repeating: 0, count: size * count)
            guard H5Aread(attribute, type, &bytes) >= 0 else {
                throw error(.library, "cannot read the attribute", object: object)
            }
            return (0..<count).map { index in
                var element = bytes[(index * size)..<((index + 1) * size)]
                while let last = element.last, last == 0 || last == 0x20 { element.removeLast() }
                if let nul = element.firstIndex(of: 0) { element = element[..<nul] }
                return String(decoding: element, as: UTF8.self)
            }
        }
    }

    /// An array-of-strings attribute that may be split into chunks `name0`, `name1`, … (as Keras does
    /// for attributes over 64 KiB); `nil` when neither form exists.
    public func chunkedStringsAttribute(_ name: String) throws(HDF5Error) -> [String]? {
        if let whole = try stringsAttribute(name) { return whole }
        var result: [String] = []
        var index = 0
        while let chunk = try stringsAttribute("\(name)\(index)") {
            result += chunk
            index += 1
        }
        return index == 0 ? nil : result
    }
}
