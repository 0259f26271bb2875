import CHDF5

extension SnapshotBuilder {
    /// The attributes of an open object: strings kept, anything else counted.
    mutating func attributes(of id: hid_t, path: String) throws(HDF5Error) -> [(name: String, value: HDF5Snapshot.Attribute)] {
        var info = H5O_info_t()
        guard H5Oget_info2(id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { throw fail(.library, path, "cannot list the attributes") }
        guard info.num_attrs <= UInt64(limits.attributesPerObject) else {
            throw fail(.limit, path, "has \(info.num_attrs) attributes (at most \(limits.attributesPerObject))")
        }
        var result: [(name: String, value: HDF5Snapshot.Attribute)] = []
        for index in 0..<info.num_attrs {
            let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, vigil_h5p_default())
            guard length >= 0, length < 65_536 else { throw fail(.library, path, "cannot read the name of attribute \(index)") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            _ = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, vigil_h5p_default())
            let name = decodeCString(buffer)
            let attribute = H5Aopen_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, vigil_h5p_default(), vigil_h5p_default())
            guard attribute >= 0 else { throw fail(.library, "\(path)@\(name)", "cannot open the attribute") }
            defer { H5Aclose(attribute) }
            result.append((name, try value(of: attribute, object: "\(path)@\(name)")))
        }
        return result
    }

    private mutating func value(of attribute: hid_t, object: String) throws(HDF5Error) -> HDF5Snapshot.Attribute {
        let type = H5Aget_type(attribute)
        guard type >= 0 else { throw fail(.library, object, "cannot read the attribute's type") }
        defer { H5Tclose(type) }
        let space = H5Aget_space(attribute)
        guard space >= 0 else { throw fail(.library, object, "cannot read the attribute's shape") }
        defer { H5Sclose(space) }
        let points = H5Sget_simple_extent_npoints(space)
        guard points >= 0 else { throw fail(.library, object, "cannot read the attribute's shape") }
        let count = Int(points)
        guard count <= limits.attributeBytes - attributeBytes else {
            throw fail(.limit, object, "holds \(count) elements, over the \(limits.attributeBytes)-byte limit for attributes")
        }
        guard H5Tget_class(type) == H5T_STRING, count > 0 else { return .other(count: count) }
        let strings = H5Tis_variable_str(type) > 0
            ? try variableStrings(attribute, type: type, space: space, count: count, object: object)
            : try fixedStrings(attribute, type: type, count: count, object: object)
        return .strings(strings)
    }

    private mutating func variableStrings(_ attribute: hid_t, type: hid_t, space: hid_t, count: Int, object: String) throws(HDF5Error) -> [String] {
        try charge(count * MemoryLayout<UnsafeRawPointer>.size, object)
        let memoryType = H5Tcopy(vigil_h5t_c_s1())
        defer { H5Tclose(memoryType) }
        H5Tset_size(memoryType, vigil_h5t_variable())
        H5Tset_cset(memoryType, H5Tget_cset(type))
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        guard H5Aread(attribute, memoryType, &pointers) >= 0 else { throw fail(.library, object, "cannot read the attribute") }
        defer { H5Dvlen_reclaim(memoryType, space, vigil_h5p_default(), &pointers) }
        var strings: [String] = []
        strings.reserveCapacity(count)
        for pointer in pointers {
            let text = pointer.map { String(cString: $0) } ?? ""
            try charge(text.utf8.count, object)
            strings.append(text)
        }
        return strings
    }

    private mutating func fixedStrings(_ attribute: hid_t, type: hid_t, count: Int, object: String) throws(HDF5Error) -> [String] {
        let size = H5Tget_size(type)
        guard size > 0 else { throw fail(.unsupportedType, object, "string attribute of size 0") }
        let (total, overflow) = size.multipliedReportingOverflow(by: count)
        guard !overflow else { throw fail(.limit, object, "declares \(count) strings of \(size) bytes") }
        try charge(total, object)
        var bytes = [UInt8](repeating: 0, count: total)
        guard H5Aread(attribute, type, &bytes) >= 0 else { throw fail(.library, object, "cannot read the attribute") }
        return (0..<count).map { index in
            var element = bytes[(index * size)..<((index + 1) * size)]
            while let last = element.last, last == 0 || last == 0x20 { element.removeLast() }
            if let nul = element.firstIndex(of: 0) { element = element[..<nul] }
            return String(decoding: element, as: UTF8.self)
        }
    }

    private mutating func charge(_ bytes: Int, _ object: String) throws(HDF5Error) {
        guard bytes <= limits.attributeBytes - attributeBytes else {
            throw fail(.limit, object, "attribute strings exceed the \(limits.attributeBytes)-byte limit for this file")
        }
        attributeBytes += bytes
    }
}
