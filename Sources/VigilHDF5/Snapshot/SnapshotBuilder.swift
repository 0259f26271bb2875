import CHDF5

/// Walks an open HDF5 file under the rules for files Vigil did not write, collecting what a
/// snapshot holds (pass 1), then reads the datasets' elements into a region (pass 2).
///
/// Refused: links other than hard links (soft, external, user-defined), objects reachable from two
/// places (cycles), virtual datasets, external raw-data storage, filters that are not built into
/// libhdf5 (plugins are never loaded). Bounded (``HDF5ReadLimits``): objects, depth, attributes,
/// attribute bytes, rank, element bytes and chunk sizes, all checked before anything is allocated.
/// Callers hold ``HDF5Library/lock``.
struct SnapshotBuilder {
    let file: String
    /// The file's size: ranges used in place must lie within it.
    let fileSize: Int
    let limits: HDF5ReadLimits
    /// Absolute paths of groups whose datasets' elements are not read (their shapes are).
    let excluded: [String]
    private var objects = 0
    var attributeBytes = 0
    private var visited = Set<haddr_t>()
    /// Datasets whose elements pass 2 reads, with their byte ranges in the region.
    private(set) var reads: [(path: String, storage: HDF5Snapshot.Storage, range: Range<Int>)] = []
    /// Bytes of the region (64-byte aligned ranges).
    private(set) var dataBytes = 0

    init(file: String, fileSize: Int, limits: HDF5ReadLimits, excluded: [String]) {
        self.file = file
        self.fileSize = fileSize
        self.limits = limits
        self.excluded = excluded
    }

    func fail(_ kind: HDF5Error.Kind, _ object: String, _ message: String) -> HDF5Error {
        let detail = kind == .library ? HDF5Library.takeMessages() : ""
        return HDF5Error(kind, file: file, object: object, message: detail.isEmpty ? message : "\(message): \(detail)")
    }

    /// Pass 1 from the root group of an open file.
    mutating func structure(of fileId: hid_t) throws(HDF5Error) -> RawNode {
        let root = H5Gopen2(fileId, "/", vigil_h5p_default())
        guard root >= 0 else { throw fail(.library, "/", "cannot open the root group") }
        defer { H5Gclose(root) }
        var info = H5O_info_t()
        guard H5Oget_info2(root, &info, UInt32(H5O_INFO_BASIC)) >= 0 else { throw fail(.library, "/", "cannot read the root group") }
        visited.insert(info.addr)
        return try group(root, path: "/", depth: 0)
    }

    private mutating func group(_ id: hid_t, path: String, depth: Int) throws(HDF5Error) -> RawNode {
        guard depth <= limits.depth else { throw fail(.limit, path, "groups nested deeper than \(limits.depth) levels") }
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else { throw fail(.library, path, "cannot list the group") }
        guard info.nlinks <= UInt64(limits.objects - objects) else {
            throw fail(.limit, path, "the group lists \(info.nlinks) links; the limit is \(limits.objects) objects in a file")
        }
        var children: [(name: String, node: RawNode)] = []
        for index in 0..<info.nlinks {
            let name = try linkName(id, index, path)
            let childPath = path == "/" ? "/" + name : path + "/" + name
            try checkLink(id, index, childPath)
            var object = H5O_info_t()
            guard H5Oget_info_by_idx2(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &object, UInt32(H5O_INFO_BASIC), vigil_h5p_default()) >= 0 else {
                throw fail(.library, childPath, "cannot read the object")
            }
            guard visited.insert(object.addr).inserted else {
                throw fail(.refused, childPath, "the object is linked from two places (a cycle or a shared object); refusing a file Vigil did not write")
            }
            objects += 1
            guard object.type == H5O_TYPE_GROUP || object.type == H5O_TYPE_DATASET else { continue }
            let child = H5Oopen_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, vigil_h5p_default())
            guard child >= 0 else { throw fail(.library, childPath, "cannot open the object") }
            defer { H5Oclose(child) }
            let node = object.type == H5O_TYPE_GROUP
                ? try group(child, path: childPath, depth: depth + 1)
                : try dataset(child, path: childPath)
            children.append((name, node))
        }
        return RawNode(path: path, attributes: try attributes(of: id, path: path), kind: .group(children: children))
    }

    private func linkName(_ id: hid_t, _ index: hsize_t, _ path: String) throws(HDF5Error) -> String {
        let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, vigil_h5p_default())
        guard length > 0, length < 65_536 else { throw fail(.library, path, "cannot read the name of link \(index)") }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        _ = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, vigil_h5p_default())
        let name = decodeCString(buffer)
        guard !name.isEmpty, name != ".", !name.contains("/") else {
            throw fail(.refused, path, "link \(index) has an invalid name '\(name)'")
        }
        return name
    }

    private func checkLink(_ id: hid_t, _ index: hsize_t, _ path: String) throws(HDF5Error) {
        var link = H5L_info_t()
        guard H5Lget_info_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &link, vigil_h5p_default()) >= 0 else {
            throw fail(.library, path, "cannot read the link")
        }
        switch link.type {
        case H5L_TYPE_HARD: return
        case H5L_TYPE_EXTERNAL: throw fail(.refused, path, "is an external link to another file; refusing to follow it in a file Vigil did not write")
        case H5L_TYPE_SOFT: throw fail(.refused, path, "is a soft link; refusing to follow it in a file Vigil did not write")
        default: throw fail(.refused, path, "is a user-defined link; refusing to follow it")
        }
    }

    func isExcluded(_ path: String) -> Bool {
        excluded.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }

    /// Reserves an aligned range of the region for `bytes` bytes, within the data limit.
    mutating func reserve(_ bytes: Int, for path: String, storage: HDF5Snapshot.Storage, describing shape: [Int]) throws(HDF5Error) -> Range<Int> {
        let start = (dataBytes + 63) & ~63
        guard bytes <= limits.dataBytes - start else {
            throw fail(.limit, path, "declares \(shape) elements (\(bytes) bytes as \(storage == .float32 ? "float32" : "float64")); with the datasets before it that is over the \(limits.dataBytes)-byte limit for this file")
        }
        dataBytes = start + bytes
        reads.append((path, storage, start..<start + bytes))
        return start..<start + bytes
    }
}
