import Foundation

/// The CPU's cache sizes, as Linux reports them (`/sys/devices/system/cpu/cpu0/cache`).
enum CacheSizes {
    /// Bytes of the last-level cache (the highest `index*` level); 8 MiB when Linux does not say.
    static let lastLevel: Int = {
        var best: (level: Int, bytes: Int)?
        for index in 0..<8 {
            let folder = "/sys/devices/system/cpu/cpu0/cache/index\(index)"
            guard let level = read(folder + "/level").flatMap({ Int($0) }), let size = read(folder + "/size").flatMap(parse),
                  (read(folder + "/type") ?? "Unified") != "Instruction" else { continue }
            if best == nil || level > best!.level { best = (level, size) }
        }
        return best?.bytes ?? 8 << 20
    }()

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `512K`, `32M` or a number of bytes.
    static func parse(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let unit = units[last] { return Int(text.dropLast()).map { $0 * unit } }
        return Int(text)
    }
}
