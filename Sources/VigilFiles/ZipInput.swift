import CZlib
import Foundation

/// A zip archive (`.npz`, `.keras`) read as hostile input, by Vigil's own strict reader: the file is
/// mapped once; the end-of-central-directory record (zip64 too) and every central-directory entry
/// must lie inside it; members are stored or deflated (anything else, and encryption, is refused)
/// and are extracted whole into memory under a byte budget, with their declared sizes and CRC-32
/// checked.
///
/// - A member may not expand more than ``maximumCompressionRatio`` times (deflate cannot do much
///   better than 1032:1, so more is a lie or a bomb).
/// - All members read together may not exceed the budget (default ``defaultBudget(archiveSize:)``).
/// - A member must inflate to exactly its declared size, and its CRC-32 must match.
public final class ZipInput {
    /// The archive's path.
    public let path: String
    private let bytes: Data
    private let entries: [ZipEntry]
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
        bytes = try RegularFile.map(path)
        remainingBudget = budget ?? Self.defaultBudget(archiveSize: bytes.count)
        do {
            entries = try bytes.withUnsafeBytes { raw in Result { () throws(ZipFormatError) in try ZipDirectory(raw).entries() } }.get()
        } catch {
            throw InputError(file: path, reason: "not a readable zip archive: \(error.reason)")
        }
    }

    /// The members, in archive order.
    public var members: [Member] {
        entries.map { Member(name: $0.name, isFile: $0.isFile, declaredSize: Int(clamping: $0.size)) }
    }

    /// How many members have this exact name.
    public func count(named name: String) -> Int { entries.filter { $0.name == name }.count }

    /// The first member whose name is absolute or climbs out with `..` (`nil` when none does).
    public func unsafeMemberName() -> String? {
        entries.first { entry in
            let parts = entry.name.split(whereSeparator: { $0 == "/" || $0 == "\\" })
            return entry.name.hasPrefix("/") || entry.name.hasPrefix("\\") || parts.contains("..")
        }?.name
    }

    /// The bytes of the first regular-file member named `name` (`nil` when there is none).
    public func data(of name: String) throws(InputError) -> Data? {
        guard let entry = entries.first(where: { $0.name == name && $0.isFile }) else { return nil }
        return try extract(entry)
    }

    private func extract(_ entry: ZipEntry) throws(InputError) -> Data {
        let member = "\(path):\(entry.name)"
        guard entry.size <= max(entry.compressedSize, 1) * UInt64(Self.maximumCompressionRatio) else {
            throw InputError(file: member, reason: "claims \(entry.size) bytes from \(entry.compressedSize) compressed; refusing a likely zip bomb")
        }
        guard entry.size <= UInt64(remainingBudget) else {
            throw InputError(file: member, reason: "needs \(entry.size) bytes, over the \(remainingBudget) bytes this archive may still expand to")
        }
        let data: Data
        do {
            data = try bytes.withUnsafeBytes { raw in Result { () throws(ZipFormatError) in try ZipDirectory(raw).contents(of: entry) } }.get()
        } catch {
            throw InputError(file: member, reason: error.reason)
        }
        remainingBudget -= data.count
        return data
    }
}
