import Foundation

/// How much memory a plan may use by default, and how sizes are shown in messages.
public enum MemoryLimit {
    /// The memory the machine has available now (`MemAvailable` in /proc/meminfo on Linux; the
    /// physical memory elsewhere or when it cannot be read).
    public static var available: Int {
        #if os(Linux)
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
            return kilobytes * 1024
        }
        #endif
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// Parses a size such as `512M`, `2G`, `1.5GB` or a byte count; `nil` when it is not one.
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let (k, m, g, t) = (1024.0, 1024.0 * 1024, 1024.0 * 1024 * 1024, 1024.0 * 1024 * 1024 * 1024)
        let units: [(String, Double)] = [("TB", t), ("GB", g), ("MB", m), ("KB", k), ("T", t), ("G", g), ("M", m), ("K", k), ("B", 1)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value >= 0, value * scale < 9e18 else { return nil }
            return Int(value * scale)
        }
        guard let value = Int(trimmed), value >= 0 else { return nil }
        return value
    }

    /// A byte count for messages: `1.5 GB`, `820 MB`, `96 KB`, `12 bytes`.
    public static func describe(_ bytes: Int) -> String {
        let value = Double(bytes)
        if value >= Double(1 << 30) { return String(format: "%.1f GB", value / Double(1 << 30)) }
        if value >= Double(1 << 20) { return String(format: "%.0f MB", value / Double(1 << 20)) }
        if value >= Double(1 << 10) { return String(format: "%.0f KB", value / Double(1 << 10)) }
        return "\(bytes) bytes"
    }
}
