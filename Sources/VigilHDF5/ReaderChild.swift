import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `vigil-hdf5-reader` program: `vigil-hdf5-reader FILE [--data-bytes N] [--objects N]
/// [--depth N] [--attributes-per-object N] [--attribute-bytes N] [--rank N] [--memory BYTES]
/// [--cpu-seconds S] [--exclude GROUP]...`, with descriptor 3 open for writing the snapshot.
///
/// It limits itself first (CPU time, heap, no core dumps), then parses the file with the same
/// ``SnapshotBuilder`` as an in-process read, writing a header, the datasets' elements and the
/// encoded structure to descriptor 3. Exit 0 on success; 1 with one line
/// `kind<TAB>object<TAB>message` on stderr when the file is refused; 2 for a usage error.
public enum HDF5ReaderChild {
    /// Runs the reader; returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        guard let request = Request(arguments) else {
            report("readerFailed", "/", "usage: vigil-hdf5-reader FILE [--data-bytes N] … with the snapshot file as descriptor 3")
            return 2
        }
        limitSelf(memory: request.memory, cpuSeconds: request.cpuSeconds)
        do {
            try HDF5Library.locked { () throws(HDF5Error) in
                let fileId = try HDF5Reader.openUntrusted(request.file)
                defer { H5Fclose(fileId) }
                let size = try HDF5Reader.regularFileSize(request.file)
                var builder = SnapshotBuilder(file: request.file, fileSize: size, limits: request.limits, excluded: request.excluded)
                let root = try builder.structure(of: fileId)
                try writeSnapshot(builder, root: root, fileId: fileId, path: request.file)
            }
            return 0
        } catch {
            report(String(describing: error.kind), error.object, error.message)
            return 1
        }
    }

    private static func writeSnapshot(_ builder: SnapshotBuilder, root: RawNode, fileId: hid_t, path: String) throws(HDF5Error) {
        func failure(_ what: String) -> HDF5Error {
            HDF5Error(.limit, file: path, object: "/", message: "cannot \(what) the \(builder.dataBytes)-byte snapshot: \(String(cString: strerror(errno)))")
        }
        let header = SnapshotCoding.headerSize, total = header + builder.dataBytes
        // Reserve the space first: writing through a mapping into a full file system would SIGBUS.
        let reserved = posix_fallocate(3, 0, off_t(total))
        guard reserved == 0 else {
            errno = reserved
            throw failure("reserve space for")
        }
        if builder.dataBytes > 0 {
            guard let address = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0), address != MAP_FAILED else { throw failure("map") }
            defer { munmap(address, total) }
            try builder.readData(from: fileId, into: address + header)
        }
        let structure = SnapshotCoding.encode(root)
        let prefix = SnapshotCoding.header(dataSize: builder.dataBytes, structureSize: structure.count)
        guard writeAll(structure, at: total), writeAll(prefix, at: 0) else { throw failure("write") }
    }

    private static func writeAll(_ bytes: [UInt8], at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(3, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// CPU time, heap (unless a sanitizer's runtime, which reserves terabytes, is loaded) and no core files.
    private static func limitSelf(memory: Int, cpuSeconds: Int) {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
        var cpu = rlimit(rlim_cur: rlim_t(cpuSeconds), rlim_max: rlim_t(cpuSeconds + 1))
        setrlimit(Int32(RLIMIT_CPU.rawValue), &cpu)
        let sanitized = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
            || dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil
        if !sanitized {
            var heap = rlimit(rlim_cur: rlim_t(memory), rlim_max: rlim_t(memory))
            setrlimit(Int32(RLIMIT_DATA.rawValue), &heap)
        }
    }

    private static func report(_ kind: String, _ object: String, _ message: String) {
        let line = "\(kind)\t\(object)\t\(message)".replacingNewlines() + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    struct Request {
        var file: String
        var limits = HDF5ReadLimits(dataBytes: 96 << 20)
        var excluded: [String] = []
        var memory = 256 << 20
        var cpuSeconds = 10

        init?(_ arguments: [String]) {
            guard arguments.count >= 2 else { return nil }
            file = arguments[1]
            var index = 2
            while index + 1 < arguments.count {
                let value = arguments[index + 1]
                if arguments[index] == "--exclude" {
                    excluded.append(value)
                } else {
                    guard let number = Int(value), number >= 0, set(arguments[index], number) else { return nil }
                }
                index += 2
            }
            guard index == arguments.count else { return nil }
        }

        private mutating func set(_ flag: String, _ number: Int) -> Bool {
            switch flag {
            case "--data-bytes": limits.dataBytes = number
            case "--objects": limits.objects = number
            case "--depth": limits.depth = number
            case "--attributes-per-object": limits.attributesPerObject = number
            case "--attribute-bytes": limits.attributeBytes = number
            case "--rank": limits.rank = number
            case "--memory": memory = number
            case "--cpu-seconds": cpuSeconds = max(number, 1)
            default: return false
            }
            return true
        }
    }
}

extension String {
    fileprivate func replacingNewlines() -> String { String(map { $0 == "\n" || $0 == "\r" ? " " : $0 }) }
}
