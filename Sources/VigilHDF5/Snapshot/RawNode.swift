/// The tree a snapshot is built from, before it is given its data region: what the builder
/// produces and what crosses the process boundary.
final class RawNode {
    enum Kind {
        case group(children: [(name: String, node: RawNode)])
        /// `range`: byte range of the elements (`nil`: not read): in the data region, or with
        /// `inFile`, in the HDF5 file itself (contiguous little-endian floats, used as they are).
        case dataset(shape: [Int], storage: HDF5Snapshot.Storage, range: Range<Int>?, inFile: Bool)
    }

    let path: String
    var attributes: [(name: String, value: HDF5Snapshot.Attribute)]
    var kind: Kind

    init(path: String, attributes: [(name: String, value: HDF5Snapshot.Attribute)], kind: Kind) {
        self.path = path
        self.attributes = attributes
        self.kind = kind
    }

    /// The public tree over `region` (and `fileRegion`, the mapped file, for in-file ranges).
    func snapshotNode(file: String, region: DataRegion, fileRegion: DataRegion) -> HDF5Snapshot.Node {
        let attributes = Dictionary(self.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        switch kind {
        case .group(let children):
            var nodes: [String: HDF5Snapshot.Node] = [:]
            for (name, child) in children where nodes[name] == nil {
                nodes[name] = child.snapshotNode(file: file, region: region, fileRegion: fileRegion)
            }
            return .group(HDF5Snapshot.Group(file: file, path: path, attributes: attributes, children: nodes))
        case .dataset(let shape, let storage, let range, let inFile):
            return .dataset(HDF5Snapshot.Dataset(
                file: file, path: path, attributes: attributes, shape: shape, storage: storage, range: range,
                region: inFile ? fileRegion : region))
        }
    }
}
