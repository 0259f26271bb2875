import CHDF5

/// A dataset: an n-dimensional array.
public final class HDF5Dataset: HDF5Object {
    /// Its dimensions ([] for a scalar).
    public private(set) var shape: [Int] = []

    init(file: HDF5File, parent: hid_t, name: String, path: String) throws(HDF5Error) {
        let id = HDF5Library.locked { () -> hid_t in
            guard HDF5Group.exists(parent, name) else { return -2 }
            var info = H5O_info_t()
            guard H5Oget_info_by_name2(parent, name, &info, UInt32(H5O_INFO_BASIC), vigil_h5p_default()) >= 0 else { return -1 }
            guard info.type == H5O_TYPE_DATASET else { return -3 }
            return H5Dopen2(parent, name, vigil_h5p_default())
        }
        super.init(file: file, path: path, handle: Handle(id, closer: H5Dclose))
        switch id {
        case -2: throw HDF5Error(.missing, file: file.path, object: path, message: "no such dataset")
        case -3: throw HDF5Error(.wrongKind, file: file.path, object: path, message: "not a dataset")
        case ..<0: throw error(.library, "cannot open the dataset")
        default: break
        }
        let dims: [Int]? = HDF5Library.locked {
            let space = H5Dget_space(id)
            guard space >= 0 else { return nil }
            defer { H5Sclose(space) }
            let rank = H5Sget_simple_extent_ndims(space)
            guard rank >= 0 else { return nil }
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { return nil }
            return dims.map { Int($0) }
        }
        guard let dims else { throw error(.library, "cannot read the dataset's shape") }
        shape = dims
    }

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Whether the stored elements are numbers (integer or floating point).
    public var isNumeric: Bool {
        guard handle.isOpen else { return false }
        return HDF5Library.locked {
            let type = H5Dget_type(handle.id)
            guard type >= 0 else { return false }
            defer { H5Tclose(type) }
            let typeClass = H5Tget_class(type)
            return typeClass == H5T_FLOAT || typeClass == H5T_INTEGER
        }
    }

    /// All elements converted to `Float`, in C order.
    public func readFloats() throws(HDF5Error) -> [Float] {
        try readFloatBuffer().array
    }

    /// All elements converted to `Double`, in C order.
    public func readDoubles() throws(HDF5Error) -> [Double] {
        try requireOpen()
        guard isNumeric else { throw error(.unsupportedType, "dataset does not hold numbers") }
        var values = [Double](repeating: 0, count: elementCount)
        let status = HDF5Library.locked {
            values.withUnsafeMutableBytes {
                H5Dread(handle.id, vigil_h5t_native_double(), vigil_h5s_all(), vigil_h5s_all(), vigil_h5p_default(), $0.baseAddress)
            }
        }
        guard status >= 0 else { throw error(.library, "cannot read the dataset (truncated file?)") }
        return values
    }

    /// All elements converted to `Float`, in C order, read straight into 64-byte-aligned memory
    /// that the caller can wrap without copying.
    public func readFloatBuffer() throws(HDF5Error) -> FloatBuffer {
        try requireOpen()
        guard isNumeric else { throw error(.unsupportedType, "dataset does not hold numbers") }
        let buffer = FloatBuffer(count: elementCount)
        let status = HDF5Library.locked {
            H5Dread(handle.id, vigil_h5t_native_float(), vigil_h5s_all(), vigil_h5s_all(), vigil_h5p_default(), buffer.pointer)
        }
        guard status >= 0 else { throw error(.library, "cannot read the dataset (truncated file?)") }
        return buffer
    }
}
