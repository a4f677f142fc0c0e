import Foundation

/// Progress of long work on stderr: one line rewritten in place on a terminal; otherwise
/// (a log file) a line every `interval` seconds, so logs stay readable.
final class ProgressLine {
    let console: Console
    let isTerminal = isatty(STDERR_FILENO) != 0
    let interval: TimeInterval
    private var last = Date.distantPast
    private var pending = false

    init(console: Console, interval: TimeInterval = 30) {
        self.console = console
        self.interval = interval
    }

    func update(_ text: String) {
        guard console.level >= .normal else { return }
        if isTerminal {
            if Date().timeIntervalSince(last) < 0.2 { return }
            write("\r\u{1B}[K" + text)
            pending = true
        } else {
            if Date().timeIntervalSince(last) < interval { return }
            write(text + "\n")
        }
        last = Date()
    }

    /// A line that stays (validation results), printed even between progress updates.
    func log(_ text: String) {
        guard console.level >= .normal else { return }
        write((pending ? "\r\u{1B}[K" : "") + text + "\n")
        pending = false
    }

    func finish() {
        if pending { write("\n") }
        pending = false
    }

    private func write(_ s: String) { Console.writeToStderr(s) }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\((s % 3600) / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
