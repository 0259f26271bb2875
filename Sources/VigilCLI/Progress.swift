import Foundation

/// Progress of long work on stderr: a bar with count, rate and ETA when stderr is a terminal,
/// an occasional plain line otherwise, nothing with `--quiet` or `--json`.
///
/// The style is chosen once per process by ``OutputOptions`` (``configure(quiet:json:)``);
/// `VIGIL_PROGRESS=bar|lines|off` overrides the terminal check (`lines:S` prints a line every S
/// seconds from the start, e.g. `lines:0` for every update).
final class Progress: @unchecked Sendable {
    enum Style: Equatable {
        /// A redrawn bar (terminals), left with its final count and rate. Nothing is drawn for work that
        /// ends within `barDelay`.
        case bar
        /// A plain line after `delay` seconds, then every `interval` seconds, and a last line if any was printed.
        case lines(delay: Double, interval: Double)
        case off
    }

    /// The style for this process.
    nonisolated(unsafe) static var style: Style = .off
    /// Where lines go (stderr; tests capture them).
    nonisolated(unsafe) static var sink: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    /// Seconds since an arbitrary start (tests drive it).
    nonisolated(unsafe) static var clock: () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Whether a bar is drawn without its newline yet (an error message must start a line of its own).
    nonisolated(unsafe) static var lineOpen = false

    /// Clears a half-drawn bar, so that what comes next starts at the beginning of the line.
    static func clearLine() {
        guard lineOpen else { return }
        sink("\r\u{1B}[2K")
        lineOpen = false
    }

    static let barDelay = 0.1
    static let barRedraw = 0.1

    /// Chooses the style: off with `--quiet` or `--json`, else from `VIGIL_PROGRESS`, else a bar on a
    /// terminal and plain lines otherwise.
    static func configure(quiet: Bool, json: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        style = resolve(quiet: quiet, json: json, environment: environment, terminal: isatty(STDERR_FILENO) != 0)
    }

    static func resolve(quiet: Bool, json: Bool, environment: [String: String], terminal: Bool) -> Style {
        if quiet || json { return .off }
        let setting = environment["VIGIL_PROGRESS"]?.lowercased() ?? ""
        if setting == "off" || setting == "none" { return .off }
        if setting == "bar" { return .bar }
        if setting.hasPrefix("lines") {
            if let colon = setting.firstIndex(of: ":"), let every = Double(setting[setting.index(after: colon)...]), every >= 0 {
                return .lines(delay: every, interval: every)
            }
            return .lines(delay: 1, interval: 5)
        }
        return terminal ? .bar : .lines(delay: 1, interval: 5)
    }

    let label: String
    let total: Int?
    let unit: String
    private let style: Style
    private let start: Double
    private let lock = NSLock()
    private var done = 0
    private var lastShown: Double?
    private var shownAny = false
    private var finished = false
    private var ticker: DispatchSourceTimer?

    /// - Parameters:
    ///   - total: the number of units, or `nil` for work of unknown length (shown with its elapsed time).
    ///   - unit: what is counted (`images`, `runs`), printed after the count.
    init(_ label: String, total: Int?, unit: String = "") {
        self.label = label
        self.total = total
        self.unit = unit
        self.style = Self.style
        self.start = Self.clock()
        if total == nil, style != .off {
            // Nothing reports progress during work of unknown length: a timer shows its elapsed time.
            let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
            timer.schedule(deadline: .now() + Self.barRedraw, repeating: Self.barRedraw)
            timer.setEventHandler { [weak self] in self?.tick() }
            timer.resume()
            ticker = timer
        }
        // Work of unknown length is announced at once by lines without delay (`VIGIL_PROGRESS=lines:0`).
        if total == nil {
            lock.lock()
            show(final: false)
            lock.unlock()
        }
    }

    deinit { ticker?.cancel() }

    /// Runs `body` as work of unknown length labelled `label`.
    static func activity<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        let progress = Progress(label, total: nil)
        defer { progress.finish() }
        return try body()
    }

    /// Sets the number of units done.
    func update(_ count: Int) {
        lock.lock()
        defer { lock.unlock() }
        done = count
        show(final: false)
    }

    /// Adds `count` units.
    func advance(by count: Int = 1) {
        lock.lock()
        defer { lock.unlock() }
        done += count
        show(final: false)
    }

    /// Ends the work: the bar gets its final state and a newline, plain lines a last line, when anything was shown.
    func finish() {
        ticker?.cancel()
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        show(final: true)
        finished = true
    }

    private func tick() {
        lock.lock()
        defer { lock.unlock() }
        if !finished { show(final: false) }
    }

    /// Draws when due; called with the lock held.
    private func show(final: Bool) {
        let now = Self.clock()
        let elapsed = now - start
        switch style {
        case .off:
            return
        case .bar:
            if final {
                guard shownAny else { return }
                Self.sink("\r\u{1B}[2K" + text(elapsed: elapsed, final: true, bar: true) + "\n")
                Self.lineOpen = false
                return
            }
            guard elapsed >= Self.barDelay, lastShown.map({ now - $0 >= Self.barRedraw }) ?? true else { return }
            Self.sink("\r\u{1B}[2K" + text(elapsed: elapsed, final: false, bar: true))
            Self.lineOpen = true
        case .lines(let delay, let interval):
            if final {
                guard shownAny else { return }
                Self.sink(text(elapsed: elapsed, final: true, bar: false) + "\n")
                return
            }
            // A line at 100% would only repeat the last line that follows it.
            if let total, done >= total { return }
            guard elapsed >= delay, lastShown.map({ now - $0 >= interval }) ?? true else { return }
            Self.sink(text(elapsed: elapsed, final: false, bar: false) + "\n")
        }
        lastShown = now
        shownAny = true
    }

    /// `label [████······] 1,234/5,000 images  2,345/s  ETA 0:02` (bar) or
    /// `label: 1,234/5,000 images (24%), 2,345/s, ETA 0:02` (lines); final states give the elapsed time.
    func text(elapsed: Double, final: Bool, bar: Bool) -> String {
        let unitText = unit.isEmpty ? "" : " \(unit)"
        guard let total else {
            let spinner = ["|", "/", "-", "\\"][Int(elapsed / Self.barRedraw) % 4]
            let count = done > 0 ? "\(grouped(done))\(unitText), " : ""
            if final { return "\(label): \(count)done in \(Self.duration(elapsed))" }
            if !bar && lastShown == nil { return "\(label)…" }
            return bar ? "\(label) \(spinner) \(count)\(Self.duration(elapsed))" : "\(label): \(count)\(Self.duration(elapsed)) so far"
        }
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let rateText = rate > 0 ? "\(Self.rate(rate))/s" : "–/s"
        if final {
            return (bar ? "\(label) [\(Self.bar(1))] " : "\(label): ") + "\(grouped(done))\(unitText) in \(Self.duration(elapsed)) (\(rateText))"
        }
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let eta = rate > 0 ? Self.clockTime(Double(max(total - done, 0)) / rate) : "–"
        if bar {
            return "\(label) [\(Self.bar(fraction))] \(grouped(done))/\(grouped(total))\(unitText)  \(rateText)  ETA \(eta)"
        }
        return "\(label): \(grouped(done))/\(grouped(total))\(unitText) (\(Int(fraction * 100))%), \(rateText), ETA \(eta)"
    }

    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = max(0, min(width, Int((fraction * Double(width)).rounded(.down))))
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    static func rate(_ value: Double) -> String {
        value >= 100 ? grouped(Int(value.rounded())) : String(format: value >= 10 ? "%.1f" : "%.2f", value)
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1f s", seconds) : clockTime(seconds)
    }

    /// `m:ss` (or `h:mm:ss`).
    static func clockTime(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
