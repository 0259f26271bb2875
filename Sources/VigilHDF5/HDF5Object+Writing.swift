import CHDF5

/// Writing: enough to produce Keras-layout files for tests and benchmarks.
extension HDF5Object {
    /// Writes a scalar variable-length UTF-8 string attribute (as h5py writes a Python `str`).
    public func setStringAttribute(_ name: String, _ value: String) throws(HDF5Error) {
        try requireOpen()
        let object = "\(path)@\(name)"
        try HDF5Library.locked { () throws(HDF5Error) in
            let type = H5Tcopy(vigil_h5t_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, vigil_h5t_variable())
            H5Tset_cset(type, H5T_CSET_UTF8)
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            let attribute = H5Acreate2(handle.id, name, type, space, vigil_h5p_default(), vigil_h5p_default())
            guard attribute >= 0 else { throw error(.library, "cannot create the attribute", object: object) }
            defer { H5Aclose(attribute) }
            let status = value.withCString { pointer -> herr_t in
                var pointers: [UnsafePointer<CChar>?] = [pointer]
                return H5Awrite(attribute, type, &pointers)
            }
            guard status >= 0 else { throw error(.library, "cannot write the attribute", object: object) }
        }
    }

    /// Writes a 1-D attribute of fixed-length byte strings (as Keras 2 writes `layer_names`).
    public func setFixedStringsAttribute(_ name: String, _ values: [String]) throws(HDF5Error) {
        try requireOpen()
        let object = "\(path)@\(name)"
        let size = max(values.map(\.utf8.count).max() ?? 1, 1)
        var bytes = [UInt8](repeating: 0, count: size * values.count)
        for (index, value) in values.enumerated() {
            for (offset, byte) in value.utf8.enumerated() { bytes[index * size + offset] = byte }
        }
        try HDF5Library.locked { () throws(HDF5Error) in
            let type = H5Tcopy(vigil_h5t_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, size)
            H5Tset_strpad(type, H5T_STR_NULLPAD)
            var dims = [hsize_t(values.count)]
            let space = H5Screate_simple(1, &dims, nil)
            defer { H5Sclose(space) }
            let attribute = H5Acreate2(handle.id, name, type, space, vigil_h5p_default(), vigil_h5p_default())
            guard attribute >= 0 else { throw error(.library, "cannot create the attribute", object: object) }
            defer { H5Aclose(attribute) }
            guard H5Awrite(attribute, type, &bytes) >= 0 else { throw error(.library, "cannot write the attribute", object: object) }
        }
    }
}

extension HDF5File {
    /// Creates a group at an absolute path, creating missing parents.
    public func createGroup(_ path: String) throws(HDF5Error) -> HDF5Group {
        let root = try self.root()
        defer { root.close() }
        return try root.createGroup(path)
    }
}

extension HDF5Group {
    /// Creates a group at a relative path, creating missing intermediate groups.
    public func createGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        try requireOpen()
        let id = HDF5Library.locked { () -> hid_t in
            let properties = H5Pcreate(vigil_h5p_link_create())
            defer { H5Pclose(properties) }
            H5Pset_create_intermediate_group(properties, 1)
            return H5Gcreate2(handle.id, name, properties, vigil_h5p_default(), vigil_h5p_default())
        }
        guard id >= 0 else { throw error(.library, "cannot create the group", object: child(name)) }
        H5Gclose(id)
        return try group(name)
    }

    /// Writes a float32 dataset (creating missing intermediate groups).
    public func writeDataset(_ name: String, shape: [Int], values: [Float]) throws(HDF5Error) {
        let result = values.withUnsafeBytes { bytes in
            Result { () throws(HDF5Error) in
                try writeDataset(name, shape: shape, count: values.count, bytes: bytes, fileType: vigil_h5t_ieee_f32le(), memoryType: vigil_h5t_native_float())
            }
        }
        try result.get()
    }

    /// Writes a float64 dataset (creating missing intermediate groups).
    public func writeDataset(_ name: String, shape: [Int], doubles values: [Double]) throws(HDF5Error) {
        let result = values.withUnsafeBytes { bytes in
            Result { () throws(HDF5Error) in
                try writeDataset(name, shape: shape, count: values.count, bytes: bytes, fileType: vigil_h5t_ieee_f64le(), memoryType: vigil_h5t_native_double())
            }
        }
        try result.get()
    }

    private func writeDataset(_ name: String, shape: [Int], count: Int, bytes: UnsafeRawBufferPointer, fileType: hid_t, memoryType: hid_t) throws(HDF5Error) {
        try requireOpen()
        let object = child(name)
        guard shape.reduce(1, *) == count else {
            throw HDF5Error(.unsupportedType, file: file.path, object: object, message: "\(count) values for shape \(shape)")
        }
        try HDF5Library.locked { () throws(HDF5Error) in
            var dims = shape.map { hsize_t($0) }
            let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), &dims, nil)
            defer { H5Sclose(space) }
            let properties = H5Pcreate(vigil_h5p_link_create())
            defer { H5Pclose(properties) }
            H5Pset_create_intermediate_group(properties, 1)
            let dataset = H5Dcreate2(handle.id, name, fileType, space, properties, vigil_h5p_default(), vigil_h5p_default())
            guard dataset >= 0 else { throw error(.library, "cannot create the dataset", object: object) }
            defer { H5Dclose(dataset) }
            let status = H5Dwrite(dataset, memoryType, vigil_h5s_all(), vigil_h5s_all(), vigil_h5p_default(), bytes.baseAddress)
            guard status >= 0 else { throw error(.library, "cannot write the dataset", object: object) }
        }
    }
}
