import Foundation

/// Ctrl-C during training: instead of InterruptCleanup's immediate exit, SIGINT and SIGTERM set
/// a flag that the training loop reads between steps, so it can save a checkpoint and return.
enum TrainingStop {
    nonisolated(unsafe) private static var flag: Int32 = 0

    static func install() {
        for sig in [SIGINT, SIGTERM] { signal(sig) { _ in TrainingStop.flag = 1 } }
    }

    static var requested: Bool { flag != 0 }
}
