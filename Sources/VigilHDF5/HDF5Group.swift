import CHDF5

/// A group: named children that are groups or datasets.
public final class HDF5Group: HDF5Object {
    init(file: HDF5File, parent: hid_t, name: String, path: String) throws(HDF5Error) {
        let id = HDF5Library.locked { () -> hid_t in
            // Check each link on the way so that a missing path is an error, not an HDF5 stack trace.
            guard Self.exists(parent, name) else { return -2 }
            var info = H5O_info_t()
            guard H5Oget_info_by_name2(parent, name, &info, UInt32(H5O_INFO_BASIC), vigil_h5p_default()) >= 0 else { return -1 }
            guard info.type == H5O_TYPE_GROUP else { return -3 }
            return H5Gopen2(parent, name, vigil_h5p_default())
        }
        let handle = Handle(id, closer: H5Gclose)
        super.init(file: file, path: path, handle: handle)
        switch id {
        case -2: throw HDF5Error(.missing, file: file.path, object: path, message: "no such group")
        case -3: throw HDF5Error(.wrongKind, file: file.path, object: path, message: "not a group")
        case ..<0: throw error(.library, "cannot open the group")
        default: break
        }
    }

    /// Whether every link along a relative path exists.
    static func exists(_ parent: hid_t, _ name: String) -> Bool {
        if name == "/" || name == "." { return true }
        var prefix = name.hasPrefix("/") ? "/" : ""
        for component in name.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix == "/" ? "" : "/") + component
            if H5Lexists(parent, prefix, vigil_h5p_default()) <= 0 { return false }
        }
        return true
    }

    /// Whether a child (or a relative path) exists.
    public func contains(_ name: String) -> Bool {
        guard handle.isOpen else { return false }
        return HDF5Library.locked {
            guard Self.exists(handle.id, name) else { return false }
            // H5Oexists_by_name also rejects dangling soft links.
            return H5Oexists_by_name(handle.id, name, vigil_h5p_default()) > 0
        }
    }

    /// Whether the child at this relative path is a group.
    public func isGroup(_ name: String) -> Bool {
        guard contains(name) else { return false }
        return HDF5Library.locked {
            var info = H5O_info_t()
            guard H5Oget_info_by_name2(handle.id, name, &info, UInt32(H5O_INFO_BASIC), vigil_h5p_default()) >= 0 else { return false }
            return info.type == H5O_TYPE_GROUP
        }
    }

    /// The names of the children, in name order.
    public func childNames() throws(HDF5Error) -> [String] {
        try requireOpen()
        let names: [String]? = HDF5Library.locked {
            var info = H5G_info_t()
            guard H5Gget_info(handle.id, &info) >= 0 else { return nil }
            var names: [String] = []
            for index in 0..<info.nlinks {
                let length = H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, vigil_h5p_default())
                guard length >= 0 else { return nil }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                _ = H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, vigil_h5p_default())
                names.append(decodeCString(buffer))
            }
            return names
        }
        guard let names else { throw error(.library, "cannot list the group") }
        return names
    }

    /// The group at a path relative to this one.
    public func group(_ name: String) throws(HDF5Error) -> HDF5Group {
        try requireOpen()
        return try HDF5Group(file: file, parent: handle.id, name: name, path: child(name))
    }

    /// The dataset at a path relative to this one.
    public func dataset(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        try requireOpen()
        return try HDF5Dataset(file: file, parent: handle.id, name: name, path: child(name))
    }
}
