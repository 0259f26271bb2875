import Foundation
import ZIPFoundation

/// A zip archive (`.npz`, `.keras`) read as hostile input: members are extracted whole into memory
/// under a byte budget, with their declared sizes and CRC-32 checked.
///
/// - A member may not expand more than ``maximumCompressionRatio`` times (deflate cannot do much
///   better than 1032:1, so more is a lie or a bomb).
/// - All members read together may not exceed the budget (default ``defaultBudget(archiveSize:)``).
/// - A member must produce exactly its declared size, and its CRC-32 must match.
public final class ZipInput {
    /// The archive's path.
    public let path: String
    private let archive: Archive
    /// Bytes that members read from now on may still take.
    public private(set) var remainingBudget: Int

    /// Largest accepted ratio of a member's declared size to its compressed size.
    public static let maximumCompressionRatio = 1100

    /// The default budget: 96 MiB, or 64 times the archive's size for archives over 1.5 MiB. An
    /// archive under 1 MB thus never makes a reader hold more than about twice 96 MiB (the
    /// extracted bytes and what they are decoded into).
    public static func defaultBudget(archiveSize: Int) -> Int {
        max(96 << 20, archiveSize.multipliedReportingOverflow(by: 64).overflow ? Int.max : archiveSize * 64)
    }

    /// A member's name, whether it is a regular file, and its declared size.
    public struct Member: Sendable {
        public var name: String
        public var isFile: Bool
        public var declaredSize: Int
    }

    /// Opens an archive (a regular file; anything else is refused without blocking). The file is
    /// mapped once and read from memory, so it cannot be swapped for something else in between.
    public init(path: String, budget: Int? = nil) throws(InputError) {
        self.path = path
        let bytes = try RegularFile.map(path)
        remainingBudget = budget ?? Self.defaultBudget(archiveSize: bytes.count)
        do {
            archive = try Archive(data: bytes, accessMode: .read)
        } catch {
            throw InputError(file: path, reason: "not a readable zip archive: \(error)")
        }
    }

    /// The members, in archive order.
    public var members: [Member] {
        archive.map { entry in
            Member(name: entry.path, isFile: entry.type == .file, declaredSize: Int(clamping: entry.uncompressedSize))
        }
    }

    /// How many members have this exact name.
    public func count(named name: String) -> Int { archive.filter { $0.path == name }.count }

    /// The first member whose name is absolute or climbs out with `..` (`nil` when none does).
    public func unsafeMemberName() -> String? {
        archive.first { entry in
            let name = entry.path
            let parts = name.split(whereSeparator: { $0 == "/" || $0 == "\\" })
            return name.hasPrefix("/") || name.hasPrefix("\\") || parts.contains("..")
        }?.path
    }

    /// The bytes of the first regular-file member named `name` (`nil` when there is none).
    public func data(of name: String) throws(InputError) -> Data? {
        guard let entry = archive.first(where: { $0.path == name && $0.type == .file }) else { return nil }
        return try extract(entry)
    }

    /// The bytes of every regular-file member, in archive order, as `(name, bytes)`.
    public func forEachFile(_ body: (String, Data) throws(InputError) -> Void) throws(InputError) {
        for entry in archive where entry.type == .file {
            try body(entry.path, try extract(entry))
        }
    }

    private func extract(_ entry: Entry) throws(InputError) -> Data {
        let member = "\(path):\(entry.path)"
        let declared = entry.uncompressedSize
        guard declared <= UInt64(max(entry.compressedSize, 1)) * UInt64(Self.maximumCompressionRatio) else {
            throw InputError(file: member, reason: "claims \(declared) bytes from \(entry.compressedSize) compressed; refusing a likely zip bomb")
        }
        guard declared <= UInt64(remainingBudget) else {
            throw InputError(file: member, reason: "needs \(declared) bytes, over the \(remainingBudget) bytes this archive may still expand to")
        }
        let size = Int(declared)
        var data = Data()
        data.reserveCapacity(size)
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= size else { throw InputError(file: member, reason: "holds more bytes than its declared \(size)") }
                data.append(chunk)
            }
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(file: member, reason: "cannot extract: \(error)")
        }
        guard data.count == size else { throw InputError(file: member, reason: "holds \(data.count) bytes, not its declared \(size)") }
        guard checksum == entry.checksum else {
            throw InputError(file: member, reason: "CRC-32 mismatch (stored \(hex(entry.checksum)), computed \(hex(checksum))): the member is corrupt")
        }
        remainingBudget -= size
        return data
    }

    private func hex(_ value: CRC32) -> String { "0x" + String(value, radix: 16) }
}
