import CHDF5

extension SnapshotBuilder {
    /// Filters built into libhdf5 (deflate, shuffle, Fletcher-32, szip, n-bit, scale-offset).
    static let builtInFilters: Set<H5Z_filter_t> = [1, 2, 3, 4, 5, 6]

    mutating func dataset(_ id: hid_t, path: String) throws(HDF5Error) -> RawNode {
        let shape = try datasetShape(id, path)
        let count = try elementCount(shape, path)
        try checkCreationProperties(id, path: path)
        let storage = try storageKind(id, path)
        var range: Range<Int>?
        var inFile = false
        if storage != .none, !isExcluded(path) {
            let width = storage == .float32 ? 4 : 8
            let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
            guard !overflow else { throw fail(.limit, path, "declares \(shape) elements, too many to address") }
            if let located = fileRange(id, bytes: bytes, storage: storage) {
                range = located
                inFile = true
            } else {
                range = try reserve(bytes, for: path, storage: storage, describing: shape)
            }
        }
        return RawNode(path: path, attributes: try attributes(of: id, path: path),
                       kind: .dataset(shape: shape, storage: storage, range: range, inFile: inFile))
    }

    /// Where the elements lie in the file when they can be used as they are: contiguous, unfiltered,
    /// allocated, little-endian IEEE float32 or float64, aligned to the element size, inside the file.
    /// `nil` otherwise (they are then read, and converted, into the region).
    func fileRange(_ id: hid_t, bytes: Int, storage: HDF5Snapshot.Storage) -> Range<Int>? {
        guard bytes > 0 else { return nil }
        let plist = H5Dget_create_plist(id)
        guard plist >= 0 else { return nil }
        defer { H5Pclose(plist) }
        guard H5Pget_layout(plist) == H5D_CONTIGUOUS, H5Pget_nfilters(plist) == 0, H5Pget_external_count(plist) == 0 else { return nil }
        let type = H5Dget_type(id)
        guard type >= 0 else { return nil }
        defer { H5Tclose(type) }
        let wanted = storage == .float32 ? vigil_h5t_ieee_f32le() : vigil_h5t_ieee_f64le()
        guard H5Tequal(type, wanted) > 0, H5Dget_storage_size(id) == hsize_t(bytes) else { return nil }
        let offset = H5Dget_offset(id)
        let width = storage == .float32 ? 4 : 8
        guard offset != haddr_t.max, offset <= haddr_t(Int.max), Int(offset) % width == 0,
              Int(offset) <= fileSize - bytes else { return nil }
        return Int(offset)..<Int(offset) + bytes
    }

    private func datasetShape(_ id: hid_t, _ path: String) throws(HDF5Error) -> [Int] {
        let space = H5Dget_space(id)
        guard space >= 0 else { throw fail(.library, path, "cannot read the dataset's shape") }
        defer { H5Sclose(space) }
        if H5Sget_simple_extent_type(space) == H5S_NULL { return [0] }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw fail(.library, path, "cannot read the dataset's shape") }
        guard rank <= limits.rank else { throw fail(.limit, path, "has \(rank) dimensions (at most \(limits.rank))") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { throw fail(.library, path, "cannot read the dataset's shape") }
        guard dims.allSatisfy({ $0 <= UInt64(Int.max) }) else { throw fail(.limit, path, "declares a dimension over 2^63") }
        return dims.map { Int($0) }
    }

    private func elementCount(_ shape: [Int], _ path: String) throws(HDF5Error) -> Int {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail(.limit, path, "declares \(shape) elements, more than 2^63") }
            count = product
        }
        return count
    }

    /// Refuses virtual datasets, external storage, plugin filters, huge elements and oversized chunks.
    private func checkCreationProperties(_ id: hid_t, path: String) throws(HDF5Error) {
        let plist = H5Dget_create_plist(id)
        guard plist >= 0 else { throw fail(.library, path, "cannot read the dataset's properties") }
        defer { H5Pclose(plist) }
        let layout = H5Pget_layout(plist)
        if layout == H5D_VIRTUAL {
            throw fail(.refused, path, "is a virtual dataset (its elements come from other datasets or files); refusing it in a file Vigil did not write")
        }
        if H5Pget_external_count(plist) != 0 {
            throw fail(.refused, path, "keeps its elements in external files (external storage); refusing it in a file Vigil did not write")
        }
        let filters = H5Pget_nfilters(plist)
        guard filters >= 0 else { throw fail(.library, path, "cannot read the dataset's filters") }
        for index in 0..<UInt32(filters) {
            var flags: UInt32 = 0, elements = 0, config: UInt32 = 0
            let filter = H5Pget_filter2(plist, index, &flags, &elements, nil, 0, nil, &config)
            guard Self.builtInFilters.contains(filter), H5Zfilter_avail(filter) > 0 else {
                throw fail(.refused, path, "uses HDF5 filter \(filter), which is not built into libhdf5; plugins are not loaded for files Vigil did not write")
            }
        }
        let type = H5Dget_type(id)
        guard type >= 0 else { throw fail(.library, path, "cannot read the dataset's type") }
        defer { H5Tclose(type) }
        let size = H5Tget_size(type)
        guard size > 0, size <= 1 << 20 else { throw fail(.limit, path, "has elements of \(size) bytes") }
        if layout == H5D_CHUNKED { try checkChunk(plist, path: path, elementSize: size) }
    }

    private func checkChunk(_ plist: hid_t, path: String, elementSize: Int) throws(HDF5Error) {
        var dims = [hsize_t](repeating: 0, count: 32)
        let rank = H5Pget_chunk(plist, 32, &dims)
        guard rank >= 0 else { throw fail(.library, path, "cannot read the dataset's chunk shape") }
        var bytes = UInt64(elementSize)
        for dim in dims.prefix(Int(rank)) {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= UInt64(limits.dataBytes) else {
                throw fail(.limit, path, "declares chunks of \(dims.prefix(Int(rank)).map { $0 }) elements, over the \(limits.dataBytes)-byte limit")
            }
            bytes = product
        }
    }

    private func storageKind(_ id: hid_t, _ path: String) throws(HDF5Error) -> HDF5Snapshot.Storage {
        let type = H5Dget_type(id)
        guard type >= 0 else { throw fail(.library, path, "cannot read the dataset's type") }
        defer { H5Tclose(type) }
        switch H5Tget_class(type) {
        case H5T_FLOAT: return H5Tget_size(type) <= 4 ? .float32 : .float64
        case H5T_INTEGER: return .float64
        default: return .none
        }
    }

    /// Pass 2: reads every reserved dataset into `base` (at least ``dataBytes`` bytes).
    func readData(from fileId: hid_t, into base: UnsafeMutableRawPointer) throws(HDF5Error) {
        for (path, storage, range) in reads where !range.isEmpty {
            let id = H5Dopen2(fileId, path, vigil_h5p_default())
            guard id >= 0 else { throw fail(.library, path, "cannot open the dataset") }
            defer { H5Dclose(id) }
            let memoryType = storage == .float32 ? vigil_h5t_native_float() : vigil_h5t_native_double()
            let status = H5Dread(id, memoryType, vigil_h5s_all(), vigil_h5s_all(), vigil_h5p_default(), base + range.lowerBound)
            guard status >= 0 else { throw fail(.library, path, "cannot read the dataset (truncated file?)") }
        }
    }
}
