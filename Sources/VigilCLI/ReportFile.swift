import Foundation

/// Report files (SARIF logs, JUnit XML) written whole or not at all.
enum ReportFile {
    /// Writes under a temporary name in the destination folder, then renames into place, so a
    /// reader never sees a half-written report and a failure leaves the destination untouched.
    /// Returns the cause of a failure, or `nil`.
    static func writeAtomically(_ data: Data, to path: String) -> String? {
        let destination = URL(fileURLWithPath: path)
        let temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).tmp-\(UUID().uuidString)").path
        guard let file = fopen(temporary, "wx") else { return String(cString: strerror(errno)) }
        let written = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let failure = written != data.count || !flushed ? String(cString: strerror(errno)) : nil
        fclose(file)
        if let failure {
            unlink(temporary)
            return failure
        }
        guard rename(temporary, path) == 0 else {
            let cause = String(cString: strerror(errno))
            unlink(temporary)
            return cause
        }
        return nil
    }
}
