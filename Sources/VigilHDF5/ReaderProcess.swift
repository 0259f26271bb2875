import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `vigil-hdf5-reader` on a file and maps the snapshot it returns.
///
/// The reader gets the file's path and the limits as arguments, an unlinked scratch file as
/// descriptor 3 (it writes the header, the data region and the structure there) and a pipe as
/// stderr (one line `kind<TAB>object<TAB>message` when it refuses the file).
enum ReaderProcess {
    static func read(_ path: String, reader: String, limits: HDF5ReadLimits, excluded: [String], timeout: Double, memoryLimit: Int) throws(HDF5Error) -> HDF5Snapshot {
        func failure(_ message: String) -> HDF5Error { HDF5Error(.readerFailed, file: path, object: "/", message: message) }
        let output = try scratchFile(path, expectedBytes: limits.dataBytes)
        defer { close(output) }
        var arguments = [reader, path, "--data-bytes", String(limits.dataBytes), "--objects", String(limits.objects),
                         "--depth", String(limits.depth), "--attributes-per-object", String(limits.attributesPerObject),
                         "--attribute-bytes", String(limits.attributeBytes), "--rank", String(limits.rank),
                         "--memory", String(memoryLimit), "--cpu-seconds", String(Int(timeout.rounded(.up)))]
        for group in excluded { arguments += ["--exclude", group] }
        let child = try Spawned(arguments: arguments, output: output, file: path)
        let outcome = child.wait(timeout: timeout)
        switch outcome {
        case .exited(0, _):
            return try map(output, path)
        case .exited(1, let text):
            throw parseError(text, path)
        case .exited(let code, let text):
            throw failure("the HDF5 reader failed (exit \(code))\(text.isEmpty ? "" : ": " + firstLine(text))")
        case .signaled(let signal):
            let what = signal == SIGXCPU ? "used more than its \(Int(timeout.rounded(.up))) s of CPU time"
                : "crashed (signal \(signal)) or ran out of its \(memoryLimit >> 20) MiB memory limit"
            throw failure("libhdf5 cannot read this file safely: the isolated reader \(what)")
        case .timedOut:
            throw failure("libhdf5 cannot read this file safely: the isolated reader took longer than \(timeout) s and was stopped")
        }
    }

    /// An unlinked file to receive the snapshot: in /dev/shm (memory) when it has room for
    /// `expectedBytes` (containers often give it only 64 MB), else $TMPDIR or /tmp.
    private static func scratchFile(_ path: String, expectedBytes: Int) throws(HDF5Error) -> Int32 {
        var blocked = sigset_t(), previous = sigset_t()
        sigfillset(&blocked)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var folders: [String] = []
        var space = statvfs()
        if statvfs("/dev/shm", &space) == 0, Double(space.f_bavail) * Double(space.f_frsize) > Double(expectedBytes) + 64e6 {
            folders.append("/dev/shm")
        }
        if let tmp = getenv("TMPDIR"), tmp.pointee != 0 { folders.append(String(cString: tmp)) }
        folders.append("/tmp")
        for folder in folders {
            var template = Array("\(folder)/vigil-hdf5-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            return fd
        }
        throw HDF5Error(.readerFailed, file: path, object: "/", message: "cannot create a scratch file for the HDF5 reader: \(String(cString: strerror(errno)))")
    }

    /// Maps what the reader wrote and decodes the structure.
    private static func map(_ fd: Int32, _ path: String) throws(HDF5Error) -> HDF5Snapshot {
        func malformed(_ why: String) -> HDF5Error { HDF5Error(.readerFailed, file: path, object: "/", message: "the HDF5 reader returned a malformed snapshot (\(why))") }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= SnapshotCoding.headerSize else { throw malformed("too short") }
        let length = Int(info.st_size)
        guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw HDF5Error(.limit, file: path, object: "/", message: "cannot map the \(length)-byte snapshot: \(String(cString: strerror(errno)))")
        }
        let bytes = UnsafeRawBufferPointer(start: address, count: length)
        func field(_ index: Int) -> Int {
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(bytes[8 + index * 8 + i]) << UInt64(8 * i) }
            return value > UInt64(Int.max / 2) ? -1 : Int(value)
        }
        let dataOffset = field(0), dataSize = field(1), structureOffset = field(2), structureSize = field(3)
        guard Array(bytes[0..<8]) == SnapshotCoding.magic, dataOffset == SnapshotCoding.headerSize, dataSize >= 0,
              structureOffset == dataOffset + dataSize, structureSize >= 0, structureOffset + structureSize == length else {
            munmap(address, length)
            throw malformed("bad header")
        }
        let region = DataRegion(mapping: address, length: length, offset: dataOffset, count: dataSize)
        guard let fileRegion = DataRegion.mapFile(path) else {
            throw HDF5Error(.cannotOpen, file: path, object: "/", message: "cannot map the file")
        }
        var decoder = SnapshotDecoder(
            bytes: UnsafeRawBufferPointer(rebasing: bytes[structureOffset..<length]), dataSize: dataSize, fileSize: fileRegion.count)
        let root: RawNode
        do { root = try decoder.node() } catch { throw malformed("\(error)") }
        guard decoder.offset == structureSize, case .group(let group) = root.snapshotNode(file: path, region: region, fileRegion: fileRegion) else {
            throw malformed("trailing bytes or no root group")
        }
        return HDF5Snapshot(file: path, root: group, region: region)
    }

    /// The reader's `kind<TAB>object<TAB>message` line as an error.
    private static func parseError(_ text: String, _ path: String) -> HDF5Error {
        let line = firstLine(text)
        let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let kind = ReaderProcess.kinds[parts[0]] else {
            return HDF5Error(.readerFailed, file: path, object: "/", message: "the HDF5 reader failed: \(line)")
        }
        return HDF5Error(kind, file: path, object: parts[1], message: parts[2])
    }

    private static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? "").prefix(2000).description
    }

    static let kinds: [String: HDF5Error.Kind] = [
        "cannotOpen": .cannotOpen, "notHDF5": .notHDF5, "missing": .missing, "wrongKind": .wrongKind,
        "unsupportedType": .unsupportedType, "library": .library, "closed": .closed, "refused": .refused,
        "limit": .limit, "readerFailed": .readerFailed,
    ]
}
