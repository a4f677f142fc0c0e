import Foundation

/// Removes in-flight temporary outputs when vqz is interrupted, so Ctrl-C never leaves a
/// partial file. The signal handler may only call async-signal-safe functions (unlink, write,
/// _exit), so the paths live in a fixed table of C strings allocated before any signal.
enum InterruptCleanup {
    private static let capacity = 16
    /// Each slot holds a strdup'ed path or nil. Aligned pointer stores are atomic on the
    /// platforms Swift runs on, so the handler sees either the old or the new pointer.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()

    /// Installs the SIGINT and SIGTERM handlers; call once, first thing in main.
    static func install() {
        _ = slots
        // A parent may hand down a mask that blocks these (Foundation's Process does); the
        // handler is useless while they are blocked.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                for i in 0..<InterruptCleanup.capacity {
                    if let path = InterruptCleanup.slots[i] { unlink(path) }
                }
                let message = "vqz: interrupted\n"
                message.withCString { _ = write(STDERR_FILENO, $0, strlen($0)) }
                _exit(ExitStatus.interrupted.rawValue)
            }
        }
    }

    /// Remembers a temporary file to remove on interrupt; returns its slot for `forget`.
    static func remember(_ path: String) -> Int? {
        for i in 0..<capacity where slots[i] == nil {
            slots[i] = strdup(path)
            return i
        }
        return nil  // more outputs in flight than slots: vqz writes one at a time.
    }

    static func forget(_ slot: Int?) {
        guard let slot, let path = slots[slot] else { return }
        slots[slot] = nil
        free(path)
    }
}
