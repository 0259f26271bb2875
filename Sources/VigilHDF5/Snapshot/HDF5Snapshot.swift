/// Everything Vigil reads from an untrusted HDF5 file, taken out of libhdf5 in one pass: groups,
/// datasets (shape and elements) and string attributes. Produced by ``HDF5Reader``, usually in a
/// separate process, so that libhdf5 never runs in the caller's process on hostile bytes.
///
/// Element data lives in one memory region shared by all datasets; ``HDF5Snapshot/Dataset/readFloatBuffer()``
/// of a float32 dataset hands out that memory without copying it.
public final class HDF5Snapshot: @unchecked Sendable {
    /// The file it was read from.
    public let file: String
    /// The root group.
    public let root: Group
    let region: DataRegion

    init(file: String, root: Group, region: DataRegion) {
        self.file = file
        self.root = root
        self.region = region
    }

    /// How elements are kept: float32 for floats up to 32 bits, float64 for doubles and integers
    /// (exact up to 2^53), none for anything else (strings, compounds, …).
    public enum Storage: UInt8, Sendable {
        case float32 = 1, float64 = 2, none = 0
    }

    /// An attribute: strings (fixed or variable length, scalar or array) or something else.
    public enum Attribute: Equatable, Sendable {
        case strings([String])
        /// A non-string attribute with this many elements (its values are not kept).
        case other(count: Int)
    }

    /// A group or a dataset.
    public enum Node: Sendable {
        case group(Group)
        case dataset(Dataset)
    }

    /// What groups and datasets share: a path and attributes.
    public class Object: @unchecked Sendable {
        /// The file it is in.
        public let file: String
        /// Its absolute path in the file.
        public let path: String
        /// Attributes by name.
        public let attributes: [String: Attribute]

        init(file: String, path: String, attributes: [String: Attribute]) {
            self.file = file
            self.path = path
            self.attributes = attributes
        }

        func error(_ kind: HDF5Error.Kind, _ message: String, object: String? = nil) -> HDF5Error {
            HDF5Error(kind, file: file, object: object ?? path, message: message)
        }

        func child(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

        /// Whether an attribute exists.
        public func hasAttribute(_ name: String) -> Bool { attributes[name] != nil }

        /// The attribute names, sorted.
        public func attributeNames() -> [String] { attributes.keys.sorted() }

        /// A string attribute (a scalar or one-element array); `nil` when it does not exist.
        public func stringAttribute(_ name: String) throws(HDF5Error) -> String? {
            guard let strings = try stringsAttribute(name) else { return nil }
            guard strings.count == 1 else {
                throw error(.unsupportedType, "attribute holds \(strings.count) strings, expected one", object: "\(path)@\(name)")
            }
            return strings[0]
        }

        /// An array-of-strings attribute; `nil` when it does not exist. An empty attribute of any
        /// type (h5py writes empty lists as empty float arrays) reads as `[]`.
        public func stringsAttribute(_ name: String) throws(HDF5Error) -> [String]? {
            switch attributes[name] {
            case nil: return nil
            case .strings(let strings): return strings
            case .other(let count):
                if count == 0 { return [] }
                throw error(.unsupportedType, "attribute is not a string", object: "\(path)@\(name)")
            }
        }

        /// An array-of-strings attribute that may be split into chunks `name0`, `name1`, … (as Keras
        /// does for attributes over 64 KiB); `nil` when neither form exists.
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

        /// Nothing to release (kept so that code written for open handles reads the same).
        public func close() {}
    }
}
