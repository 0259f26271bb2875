import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads HDF5 files Vigil did not write (Keras models, detector files) into an ``HDF5Snapshot``,
/// so that libhdf5's failures on hostile bytes cannot take the caller down or hang it.
///
/// libhdf5 is not hardened against crafted files: it crashes, spins and allocates without bound on
/// some. So by default the file is parsed by a separate small process, `vigil-hdf5-reader`, with a
/// CPU limit, a memory limit, no core dumps and a wall-clock timeout; it returns the snapshot through
/// an unlinked shared file whose data pages the caller maps without copying. A crash, a hang or an
/// exhausted limit in that process is a one-line ``HDF5Error`` (kind ``HDF5Error/Kind/readerFailed``).
///
/// In either process the same rules apply (``SnapshotBuilder``): only hard links are followed;
/// external links, soft links, external storage, virtual datasets, filter plugins and objects linked
/// from two places are refused; declared sizes are checked against ``HDF5ReadLimits`` before any
/// memory is allocated.
///
/// **Finding the reader.** `VIGIL_HDF5_READER` names it; otherwise it is looked for next to the
/// running executable (`swift build` puts `vigil-hdf5-reader` beside `vigil` and beside test
/// bundles). A library user ships it the same way. With ``Isolation/automatic`` (the default) a
/// missing reader means parsing in the caller's process — same rules and limits, but no protection
/// from libhdf5's own crashes and hangs; ``Isolation/required`` makes it an error instead.
public enum HDF5Reader {
    /// Where libhdf5 runs.
    public enum Isolation: Sendable, Equatable {
        /// In the reader process when it can be found, else in this process.
        case automatic
        /// Only in the reader process; an error when it cannot be found.
        case required
        /// In this process (trusted files, fuzzing).
        case inProcess
    }

    /// How to read a file.
    public struct Options: Sendable, Equatable {
        public var isolation: Isolation
        /// Limits; `nil`: ``HDF5ReadLimits/defaults(fileSize:)``.
        public var limits: HDF5ReadLimits?
        /// Absolute paths of groups whose datasets' elements are not read (optimizer state, …).
        public var excludingData: [String]
        /// Seconds the reader process may take; `nil`: 10 s plus 1 s per 20 MB of file.
        public var timeout: Double?
        /// Bytes of heap the reader process may use; `nil`: 160 MiB plus 4 bytes per byte of file.
        public var memoryLimit: Int?

        public init(isolation: Isolation = .automatic, limits: HDF5ReadLimits? = nil, excludingData: [String] = [],
                    timeout: Double? = nil, memoryLimit: Int? = nil) {
            self.isolation = isolation
            self.limits = limits
            self.excludingData = excludingData
            self.timeout = timeout
            self.memoryLimit = memoryLimit
        }
    }

    /// Reads `path` under `options`. With ``Isolation/automatic``, the environment variable
    /// `VIGIL_HDF5_ISOLATION` (`required` or `inprocess`) overrides the choice (for fuzzing and debugging).
    public static func read(_ path: String, options: Options = Options()) throws(HDF5Error) -> HDF5Snapshot {
        let size = try regularFileSize(path)
        let limits = options.limits ?? .defaults(fileSize: size)
        var isolation = options.isolation
        if isolation == .automatic, let value = getenv("VIGIL_HDF5_ISOLATION").map({ String(cString: $0) }) {
            isolation = value == "inprocess" ? .inProcess : value == "required" ? .required : .automatic
        }
        if isolation != .inProcess {
            if let reader = readerExecutable {
                let timeout = options.timeout ?? 10 + Double(size) / 20e6
                let memory = options.memoryLimit ?? (160 << 20) + min(size, Int.max / 8) * 4
                return try ReaderProcess.read(path, reader: reader, limits: limits, excluded: options.excludingData, timeout: timeout, memoryLimit: memory)
            }
            if isolation == .required {
                throw HDF5Error(.readerFailed, file: path, object: "/", message: "the isolated HDF5 reader (vigil-hdf5-reader) was not found next to this program; set VIGIL_HDF5_READER")
            }
        }
        return try readInProcess(path, limits: limits, excluded: options.excludingData)
    }

    /// Parses in this process.
    static func readInProcess(_ path: String, limits: HDF5ReadLimits, excluded: [String]) throws(HDF5Error) -> HDF5Snapshot {
        try HDF5Library.locked { () throws(HDF5Error) -> HDF5Snapshot in
            let fileId = try openUntrusted(path)
            defer { H5Fclose(fileId) }
            guard let fileRegion = DataRegion.mapFile(path) else {
                throw HDF5Error(.cannotOpen, file: path, object: "/", message: "cannot map the file")
            }
            var builder = SnapshotBuilder(file: path, fileSize: fileRegion.count, limits: limits, excluded: excluded)
            let root = try builder.structure(of: fileId)
            guard let region = DataRegion.anonymous(count: builder.dataBytes) else {
                throw HDF5Error(.limit, file: path, object: "/", message: "cannot allocate \(builder.dataBytes) bytes for the datasets")
            }
            if let base = region.base { try builder.readData(from: fileId, into: base) }
            guard case .group(let group) = root.snapshotNode(file: path, region: region, fileRegion: fileRegion) else {
                fatalError("the root is a group")
            }
            return HDF5Snapshot(file: path, root: group, region: region)
        }
    }

    /// Opens a file for the builder: plugins off, the HDF5 signature required. Caller holds the lock.
    static func openUntrusted(_ path: String) throws(HDF5Error) -> hid_t {
        H5PLset_loading_state(0)
        if H5Fis_hdf5(path) <= 0 {
            _ = HDF5Library.takeMessages()
            throw HDF5Error(.notHDF5, file: path, object: "/", message: "not an HDF5 file (no HDF5 signature)")
        }
        let id = H5Fopen(path, vigil_h5f_acc_rdonly(), vigil_h5p_default())
        guard id >= 0 else {
            let detail = HDF5Library.takeMessages()
            throw HDF5Error(.library, file: path, object: "/", message: HDF5File.openFailure(detail))
        }
        return id
    }

    /// The size of a regular file, refusing FIFOs, devices and folders without blocking.
    static func regularFileSize(_ path: String) throws(HDF5Error) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw HDF5Error(.cannotOpen, file: path, object: "/", message: "cannot read the file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw HDF5Error(.cannotOpen, file: path, object: "/", message: "not a regular file")
        }
        return Int(info.st_size)
    }

    /// The reader executable: `VIGIL_HDF5_READER`, or `vigil-hdf5-reader` next to this program.
    public static var readerExecutable: String? {
        if let value = getenv("VIGIL_HDF5_READER"), value.pointee != 0 {
            let path = String(cString: value)
            return access(path, X_OK) == 0 ? path : nil
        }
        return siblingReader
    }

    private static let siblingReader: String? = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        var executable = length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments.first ?? ""
        guard let slash = executable.lastIndex(of: "/") else { return nil }
        executable = String(executable[..<slash]) + "/vigil-hdf5-reader"
        return access(executable, X_OK) == 0 ? executable : nil
    }()
}
