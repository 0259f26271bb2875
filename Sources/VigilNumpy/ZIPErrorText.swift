import ZIPFoundation

/// ZIPFoundation's errors in plain words (its own descriptions are Swift case names).
enum ZIPErrorText {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? Archive.ArchiveError else {
            return "its compressed data is damaged"
        }
        switch error {
        case .unreadableArchive: return "it cannot be read as a zip archive"
        case .missingEndOfCentralDirectoryRecord: return "it is not a zip archive, or it is truncated (the end-of-archive record is missing)"
        case .invalidCentralDirectoryOffset, .invalidCentralDirectorySize, .invalidCentralDirectoryEntryCount:
            return "the zip archive's table of contents is damaged (truncated?)"
        case .invalidLocalHeaderDataOffset, .invalidLocalHeaderSize: return "a member's header is damaged"
        case .invalidCRC32: return "a member's checksum does not match its data (damaged)"
        case .invalidCompressionMethod: return "a member uses a compression method other than stored or deflated"
        case .invalidEntrySize, .invalidBufferSize: return "a member's size is damaged"
        case .invalidEntryPath, .uncontainedSymlink: return "a member has an unsafe path"
        case .cancelledOperation: return "reading was cancelled"
        case .unwritableArchive: return "the archive cannot be written"
        @unknown default: return "the zip archive is damaged"
        }
    }
}
