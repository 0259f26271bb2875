import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open HDF5 file, read-only, through libhdf5 in this process: for files Vigil writes (detectors,
/// test files) and trusts. Files from elsewhere are read with ``HDF5Reader`` instead, which keeps
/// libhdf5 out of this process. Closed by ``close()``, at the end of ``withFile(_:_:)``, or when released.
///
/// Objects opened from it keep their own handles; HDF5 keeps the file open until the last one closes.
public final class HDF5File {
    /// The path it was opened from.
    public let path: String
    let handle: Handle

    /// Opens a file read-only.
    public init(path: String) throws(HDF5Error) {
        self.path = path
        _ = HDF5Library.lock
        guard access(path, R_OK) == 0 else {
            throw HDF5Error(.cannotOpen, file: path, object: "/", message: "cannot read the file")
        }
        let id: hid_t = HDF5Library.locked {
            if H5Fis_hdf5(path) <= 0 {
                _ = HDF5Library.takeMessages()
                return -2
            }
            return H5Fopen(path, vigil_h5f_acc_rdonly(), vigil_h5p_default())
        }
        if id == -2 {
            throw HDF5Error(.notHDF5, file: path, object: "/", message: "not an HDF5 file (no HDF5 signature)")
        }
        guard id >= 0 else {
            let detail = HDF5Library.locked { HDF5Library.takeMessages() }
            throw HDF5Error(.library, file: path, object: "/", message: Self.openFailure(detail))
        }
        handle = Handle(id, closer: H5Fclose)
    }

    /// HDF5's reasons for refusing to open a file, in plain words: a truncated file gives its size and the
    /// size its header records; anything else is a damaged file.
    static func openFailure(_ detail: String) -> String {
        func number(after key: String) -> Int? {
            guard let range = detail.firstRange(of: key) else { return nil }
            return Int(detail[range.upperBound...].prefix { $0.isNumber })
        }
        if detail.contains("truncated file"), let size = number(after: "eof = "), let stored = number(after: "stored_eof = ") {
            return "the HDF5 file is truncated: it has \(size) bytes, its header says \(stored)"
        }
        if detail.contains("truncated") { return "the HDF5 file is truncated" }
        return "the HDF5 file is damaged (its header or object table cannot be read)"
    }

    private init(path: String, id: hid_t) {
        self.path = path
        handle = Handle(id, closer: H5Fclose)
    }

    /// Creates (or truncates) a file for writing.
    public static func create(path: String) throws(HDF5Error) -> HDF5File {
        _ = HDF5Library.lock
        let id = HDF5Library.locked { H5Fcreate(path, vigil_h5f_acc_trunc(), vigil_h5p_default(), vigil_h5p_default()) }
        guard id >= 0 else {
            let detail = HDF5Library.locked { HDF5Library.takeMessages() }
            throw HDF5Error(.library, file: path, object: "/", message: "cannot create the file: \(detail)")
        }
        return HDF5File(path: path, id: id)
    }

    /// Opens a file, runs `body`, and closes the file whatever happens.
    public static func withFile<R>(_ path: String, _ body: (HDF5File) throws -> R) throws -> R {
        let file = try HDF5File(path: path)
        defer { file.close() }
        return try body(file)
    }

    /// Closes the file handle now (objects still open from it keep the file open until they close).
    public func close() { handle.close() }

    /// The root group.
    public func root() throws(HDF5Error) -> HDF5Group {
        try group("/")
    }

    /// The group at an absolute path.
    public func group(_ path: String) throws(HDF5Error) -> HDF5Group {
        guard handle.isOpen else { throw HDF5Error(.closed, file: self.path, object: path, message: "the file is closed") }
        return try HDF5Group(file: self, parent: handle.id, name: path, path: path)
    }
}
