extension HDF5Snapshot {
    /// A group: named children, each a group or a dataset.
    public final class Group: Object, @unchecked Sendable {
        /// Children by name.
        public let children: [String: Node]

        init(file: String, path: String, attributes: [String: Attribute], children: [String: Node]) {
            self.children = children
            super.init(file: file, path: path, attributes: attributes)
        }

        /// The node at a relative path (`a/b/c`), or `nil`.
        public func node(at relativePath: String) -> Node? {
            var current = Node.group(self)
            for component in relativePath.split(separator: "/") where component != "." {
                guard case .group(let group) = current, let next = group.children[String(component)] else { return nil }
                current = next
            }
            return current
        }

        /// Whether something exists at a relative path.
        public func contains(_ name: String) -> Bool { node(at: name) != nil }

        /// Whether the node at a relative path is a group.
        public func isGroup(_ name: String) -> Bool {
            if case .group? = node(at: name) { return true }
            return false
        }

        /// The names of the children, in name order.
        public func childNames() -> [String] { children.keys.sorted() }

        /// The group at a relative path.
        public func group(_ name: String) throws(HDF5Error) -> Group {
            switch node(at: name) {
            case .group(let group)?: return group
            case .dataset?: throw error(.wrongKind, "not a group", object: child(name))
            case nil: throw error(.missing, "no such group", object: child(name))
            }
        }

        /// The dataset at a relative path.
        public func dataset(_ name: String) throws(HDF5Error) -> Dataset {
            switch node(at: name) {
            case .dataset(let dataset)?: return dataset
            case .group?: throw error(.wrongKind, "not a dataset", object: child(name))
            case nil: throw error(.missing, "no such dataset", object: child(name))
            }
        }
    }
}
